"""Alembic environment: the engine comes from the application (``portfolio.migrate``)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context

import portfolio.models  # noqa: F401  (every table on the metadata)
from portfolio.db import Base

config = context.config
target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render the project's own column types by name, so that migrations import them."""
    if type_ == "type" and isinstance(obj, sa.JSON) and getattr(obj, "_variant_mapping", None):
        autogen_context.imports.add("import portfolio.db")
        return "portfolio.db.JSONType"
    return False


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from portfolio import create_app
        from portfolio.extensions import db

        app = create_app()
        engine = db.state(app).engine
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            render_item=render_item,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run them against a database")
run_migrations_online()
