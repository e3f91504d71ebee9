"""Creating and emptying test databases on SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def reset_database(url: str) -> None:
    """Empty the database completely (schema and Alembic's version table included)."""
    if is_postgres(url):
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
        return
    database = make_url(url).database
    if database and database != ":memory:":
        for suffix in ("", "-wal", "-shm"):
            Path(database + suffix).unlink(missing_ok=True)


@contextmanager
def fresh_database(like_url: str) -> Iterator[str]:
    """A new, empty database on the same server (PostgreSQL) or a new file (SQLite)."""
    if not is_postgres(like_url):
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/fresh.sqlite3"
        return
    base = make_url(like_url)
    name = f"{base.database}_{secrets.token_hex(4)}"
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
