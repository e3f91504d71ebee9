"""The migrations build the schema the models describe, on SQLite and PostgreSQL, step by step, and keep
the rows that are in the tables (data migrations)."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from portfolio import asset_dir, create_app, migrate
from portfolio.db import NAMING_CONVENTION, Base
from portfolio.extensions import db
from tests.conftest import app_overrides


def test_models_and_migrations_agree(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], f"the models and the migrations differ; write a migration: {differences}"


def test_every_migration_steps_up_then_down_from_an_empty_database(fresh_database_url: str, tmp_path: Path) -> None:
    """One revision at a time, from empty to head (the schema then matches the models), and back to empty."""
    app = create_app(app_overrides(fresh_database_url, tmp_path))
    config = migrate.alembic_config(app)
    engine = db.state(app).engine
    revisions = [r.revision for r in reversed(list(ScriptDirectory.from_config(config).walk_revisions()))]
    assert revisions and revisions[0] == "0001_initial"
    for revision in revisions:
        command.upgrade(config, revision)
        assert migrate.current_revision(app) == revision
    assert revisions[-1] == migrate.head_revision(app)
    assert set(Base.metadata.tables) <= set(sa.inspect(engine).get_table_names())
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                Base.metadata) == []
    for revision in reversed(revisions):
        command.downgrade(config, "-1")
        assert migrate.current_revision(app) != revision
    assert migrate.current_revision(app) is None
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_db_check_command_reports_drift(fresh_database_url: str, tmp_path: Path) -> None:
    """``ticketnet db check`` (run by .ci/run) fails when the models and the migrations disagree."""
    app = create_app(app_overrides(fresh_database_url, tmp_path))
    runner = app.test_cli_runner()
    not_migrated = runner.invoke(args=["db", "check"])
    assert not_migrated.exit_code == 1 and "ticketnet init" in not_migrated.output
    migrate.upgrade(app)
    agreed = runner.invoke(args=["db", "check"])
    assert agreed.exit_code == 0 and "concordent" in agreed.output
    probe = sa.Table("drift_probe", Base.metadata, sa.Column("id", sa.Integer, primary_key=True))
    try:
        drifted = runner.invoke(args=["db", "check"])
    finally:
        Base.metadata.remove(probe)
    assert drifted.exit_code == 1 and "drift_probe" in drifted.output
    assert runner.invoke(args=["db", "check"]).exit_code == 0
    db.state(app).engine.dispose()


# Data migrations are tested with rows in the tables. A case seeds rows with the schema as it is before the
# migration (reflected from the database, never the models, which describe head), upgrades, and checks what
# the migration made of them. Add a case to DATA_MIGRATIONS with each migration that touches data.

Tables = dict[str, sa.Table]


@dataclass
class DataMigrationCase:
    name: str
    before: str  # the revision whose schema the rows are written with
    seed: Callable[[sa.Connection, Tables], None]
    check: Callable[[sa.Connection, Tables], None]
    after: str = "head"


def reflected(connection: sa.Connection) -> Tables:
    metadata = sa.MetaData()
    metadata.reflect(bind=connection)
    return dict(metadata.tables)


def run_data_migration_case(config: Config, engine: sa.Engine, case: DataMigrationCase) -> None:
    command.upgrade(config, case.before)
    with engine.begin() as connection:
        case.seed(connection, reflected(connection))
    command.upgrade(config, case.after)
    with engine.connect() as connection:
        case.check(connection, reflected(connection))


NOW = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)


def _seed_people(connection: sa.Connection, tables: Tables) -> None:
    """An EPM, a learner with a membership, a journal entry and audit events (JSON, NULLs, accents)."""
    connection.execute(sa.insert(tables["organisation"]), [{
        "id": 7, "kind": "epm", "code": "epm-souillac", "name": "EPM de Souillac", "address": "", "postcode": "46200",
        "city": "Souillac", "phone": "", "email": "", "capacity": 5, "opening_slots": "", "active": True,
        "created_at": NOW.replace(tzinfo=None)}])
    connection.execute(sa.insert(tables["user_account"]), [{
        "id": 11, "username": "irene.pons", "first_name": "Irène", "last_name": "Pons", "email": None,
        "password_hash": None, "locale": "fr", "active": True, "session_version": 1,
        "created_at": NOW.replace(tzinfo=None), "last_login_at": None}])
    connection.execute(sa.insert(tables["membership"]), [{
        "id": 3, "user_id": 11, "organisation_id": 7, "role": "beneficiary", "created_at": NOW.replace(tzinfo=None)}])
    connection.execute(sa.insert(tables["journal_entry"]), [{
        "id": 5, "owner_id": 11, "title": "Mon premier courriel", "body_md": "J'ai **écrit**.",
        "body_html": "<p>J'ai <strong>écrit</strong>.</p>", "entry_date": dt.date(2026, 2, 27), "status": "published",
        "visibility": "epm", "in_portfolio": True, "session_id": None, "module_id": None,
        "created_at": NOW.replace(tzinfo=None),
        "updated_at": NOW.replace(tzinfo=None), "published_at": NOW.replace(tzinfo=None)}])
    connection.execute(sa.insert(tables["audit_event"]), [{
        "id": 1, "created_at": NOW.replace(tzinfo=None), "actor_id": 11, "actor_name": "Irène Pons",
        "organisation_id": 7, "organisation_name": "EPM de Souillac", "action": "journal.read", "target_type": "entry",
        "target_id": "5", "subject_user_id": 11, "details": {"why": "test", "n": [1, 2]}, "ip": ""}])


def _check_people_kept(connection: sa.Connection, tables: Tables) -> None:
    user = connection.execute(sa.select(tables["user_account"]).where(tables["user_account"].c.id == 11)).one()
    assert (user.username, user.first_name, user.email) == ("irene.pons", "Irène", None)
    entry = connection.execute(sa.select(tables["journal_entry"])).one()
    assert (entry.owner_id, entry.entry_date, entry.body_html) == (11, dt.date(2026, 2, 27),
                                                                    "<p>J'ai <strong>écrit</strong>.</p>")
    event = connection.execute(sa.select(tables["audit_event"])).one()
    assert event.details == {"why": "test", "n": [1, 2]} and event.created_at == NOW.replace(tzinfo=None)
    assert connection.scalar(sa.select(sa.func.count()).select_from(tables["membership"])) == 1


def _seed_consents(connection: sa.Connection, tables: Tables) -> None:
    """Before 0003: a consent the owner withdrew online (with its audit event), one replaced by a newer
    consent (no event), one holding."""
    _seed_people(connection, tables)
    naive = NOW.replace(tzinfo=None)
    connection.execute(sa.insert(tables["consent"]), [
        {"id": consent_id, "owner_id": 11, "organisation_id": 7, "scope": "competences", "starts_at": naive,
         "ends_at": naive + dt.timedelta(days=180), "revoked_at": revoked, "method": "online",
         "recorded_by_id": None, "text_hash": "0" * 64, "text_version": "1", "text_language": "fr",
         "created_at": naive}
        for consent_id, revoked in ((1, naive), (2, naive), (3, None))])
    connection.execute(sa.insert(tables["audit_event"]), [{
        "id": 2, "created_at": naive, "actor_id": 11, "actor_name": "Irène Pons", "organisation_id": 7,
        "organisation_name": "EPM de Souillac", "action": "consent.revoked", "target_type": "consent",
        "target_id": "1", "subject_user_id": 11, "details": {}, "ip": ""}])


def _check_withdrawals_told_apart(connection: sa.Connection, tables: Tables) -> None:
    consent = tables["consent"]
    rows = connection.execute(sa.select(consent.c.id, consent.c.revoked_method, consent.c.revoked_by_id)
                              .order_by(consent.c.id)).all()
    assert [tuple(r) for r in rows] == [(1, "online", None), (2, None, None), (3, None, None)]


DATA_MIGRATIONS = [
    # Proves the harness on the initial migration: rows written at 0001 survive every later migration.
    DataMigrationCase("rows-written-at-0001-reach-head", "0001_initial", _seed_people, _check_people_kept),
    # 0003: the withdrawals made before it are marked online (the only way there was), from the audit log.
    DataMigrationCase("0003-marks-earlier-withdrawals-online", "0002_kept_figures", _seed_consents,
                      _check_withdrawals_told_apart),
]


@pytest.mark.parametrize("case", DATA_MIGRATIONS, ids=lambda case: case.name)
def test_data_migration_with_rows_in_the_tables(case: DataMigrationCase, fresh_database_url: str,
                                                tmp_path: Path) -> None:
    app = create_app(app_overrides(fresh_database_url, tmp_path))
    run_data_migration_case(migrate.alembic_config(app), db.state(app).engine, case)
    assert migrate.current_revision(app) == migrate.head_revision(app)
    db.state(app).engine.dispose()


DATA_MIGRATION_NEXT = '''"""uppercase the cities (a data migration written for the harness's own test)"""
import sqlalchemy as sa
from alembic import op

revision = "9999_upper_city"
down_revision = "%s"
branch_labels = None
depends_on = None


def upgrade() -> None:
    %s


def downgrade() -> None:
    pass
'''


@pytest.mark.parametrize("body,works", [
    ("op.execute(sa.text(\"UPDATE organisation SET city = UPPER(city)\"))", True),
    ("pass  # forgot the data", False),
], ids=["working", "broken"])
def test_the_harness_catches_a_data_migration_that_forgets_the_rows(body: str, works: bool, fresh_database_url: str,
                                                                    tmp_path: Path) -> None:
    scripts = tmp_path / "migrations"
    shutil.copytree(asset_dir("migrations"), scripts, ignore=shutil.ignore_patterns("__pycache__"))
    app = create_app(app_overrides(fresh_database_url, tmp_path / "instance"))
    head = migrate.head_revision(app)  # the new migration comes after the project's last one
    (scripts / "versions" / "9999_upper_city.py").write_text(DATA_MIGRATION_NEXT % (head, body))
    config = migrate.alembic_config(app)
    config.set_main_option("script_location", str(scripts))

    def check(connection: sa.Connection, tables: Tables) -> None:
        assert connection.scalar(sa.select(tables["organisation"].c.city)) == "SOUILLAC"
        _check_people_kept(connection, tables)

    case = DataMigrationCase("upper-city", head, _seed_people, check)
    try:
        if works:
            run_data_migration_case(config, db.state(app).engine, case)
        else:
            with pytest.raises(AssertionError):
                run_data_migration_case(config, db.state(app).engine, case)
    finally:
        db.state(app).engine.dispose()


def test_every_constraint_is_named_by_the_convention() -> None:
    assert Base.metadata.naming_convention == NAMING_CONVENTION
    for table in Base.metadata.sorted_tables:
        for constraint in table.constraints:
            assert constraint.name, f"unnamed constraint on {table.name}"
