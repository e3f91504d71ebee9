"""Database plumbing: the declarative base, column types and the per-app-context session.

Plain SQLAlchemy 2.x, in the spirit of Flask's "SQLAlchemy in Flask" pattern: one engine per
application, one session per application context, committed once at the end of a request
(see ``portfolio.__init__``) and closed at teardown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy import MetaData, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql.expression import FunctionElement

from portfolio.timeutil import LOCAL_TZ

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime, dict[str, Any]: JSONType}


class local_date(FunctionElement[dt.date]):  # noqa: N801
    """The scheme's local day (Europe/Paris) of a UTC datetime column, in SQL: PostgreSQL converts it itself,
    SQLite calls ``sqlite_local_date`` (registered on every connection)."""

    type = sa.Date()
    inherit_cache = True


@compiles(local_date, "postgresql")
def _local_date_postgresql(element: local_date, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"CAST(({column} AT TIME ZONE 'UTC') AT TIME ZONE '{LOCAL_TZ.key}' AS DATE)"


@compiles(local_date, "sqlite")
def _local_date_sqlite(element: local_date, compiler: Any, **kw: Any) -> str:
    return f"ticketnet_local_date({compiler.process(element.clauses, **kw)})"


def sqlite_local_date(stored: str | None) -> str | None:
    """SQLite's ``ticketnet_local_date``: the local day of a UTC datetime as SQLAlchemy stores it there."""
    if stored is None:
        return None
    moment = dt.datetime.fromisoformat(stored).replace(tzinfo=dt.UTC)
    return moment.astimezone(LOCAL_TZ).date().isoformat()


def check_in(column: str, values: list[str] | tuple[str, ...], name: str) -> sa.CheckConstraint:
    """A named CHECK constraint keeping a string column within ``values``."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({quoted})", name=name)


def ensure_sqlite_folder(url: str) -> None:
    """SQLite cannot create the folder of its file: commands that create a database (init, restore) make
    it first. Never called by ``create_app``, which has no side effects."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def make_engine(url: str, **options: Any) -> Engine:
    """Create an engine; never connects. SQLite gets real transactions, foreign keys and WAL.

    SQL parameters (journal text, names, birth dates, password hashes) never go into a log line or an error
    message (``hide_parameters``), in every mode: a database error shows the statement, not the values."""
    options.setdefault("hide_parameters", True)
    is_sqlite = url.startswith("sqlite")
    if is_sqlite:
        options.setdefault("connect_args", {}).setdefault("timeout", 30)
    else:
        options.setdefault("pool_pre_ping", True)
    engine = sa.create_engine(url, **options)
    if is_sqlite:
        _configure_sqlite(engine, memory=":memory:" in url or url in ("sqlite://", "sqlite:///"))
    return engine


def _configure_sqlite(engine: Engine, memory: bool) -> None:
    # pysqlite's own transaction handling does not emit BEGIN before DML and breaks
    # SAVEPOINT; take it over (SQLAlchemy documentation, "Serializable isolation / Savepoints").
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.create_function("ticketnet_local_date", 1, sqlite_local_date, deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN")


@dataclass
class _State:
    engine: Engine
    sessionmaker: sessionmaker[Session]


class Database:
    """The application's database: ``db.engine`` and ``db.session`` inside an app context."""

    extension_key = "ticketnet.db"

    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["DATABASE_URL"], **app.config.get("DATABASE_OPTIONS", {}))
        app.extensions[self.extension_key] = _State(engine, sessionmaker(engine, expire_on_commit=False))
        app.teardown_appcontext(self._teardown)

    def state(self, app: Flask | None = None) -> _State:
        return (app or current_app).extensions[self.extension_key]

    @property
    def engine(self) -> Engine:
        return self.state().engine

    @property
    def session(self) -> Session:
        if "_db_session" not in g:
            g._db_session = self.state().sessionmaker()
        return g._db_session

    def bind_sessions(self, app: Flask, factory: sessionmaker[Session]) -> None:
        """Make the app's sessions come from ``factory`` (tests bind them to one connection)."""
        self.state(app).sessionmaker = factory

    @staticmethod
    def _teardown(exc: BaseException | None) -> None:
        session = g.pop("_db_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()


db = Database()
