"""The migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from portfolio import create_app, migrate
from portfolio.db import NAMING_CONVENTION, Base
from portfolio.extensions import db
from tests.conftest import app_overrides


def test_models_and_migrations_agree(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], f"the models and the migrations differ; write a migration: {differences}"


def test_upgrade_from_empty_then_downgrade_to_base(fresh_database_url: str, tmp_path: Path) -> None:
    app = create_app(app_overrides(fresh_database_url, tmp_path))
    migrate.upgrade(app)
    assert migrate.current_revision(app) == migrate.head_revision(app)
    inspector = sa.inspect(db.state(app).engine)
    assert set(Base.metadata.tables) <= set(inspector.get_table_names())
    migrate.downgrade(app, "base")
    assert set(sa.inspect(db.state(app).engine).get_table_names()) <= {"alembic_version"}
    db.state(app).engine.dispose()


def test_every_constraint_is_named_by_the_convention() -> None:
    assert Base.metadata.naming_convention == NAMING_CONVENTION
    for table in Base.metadata.sorted_tables:
        for constraint in table.constraints:
            assert constraint.name, f"unnamed constraint on {table.name}"
