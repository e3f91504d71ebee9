"""Fixtures: ``app``, ``client``, ``runner``, ``db_session``, ``login_as(role)``, ``count_queries``.

The suite runs on SQLite by default and on PostgreSQL when ``TICKETNET_TEST_DATABASE_URL`` is set.
The schema is built once per run by ``ticketnet init`` (migrations + reference data); each test then
runs inside a transaction that is rolled back, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from competences.services import keep_reference_data
from portfolio import create_app
from portfolio.auth.models import Role, User
from portfolio.extensions import db
from tests import factories
from tests.databases import fresh_database, reset_database

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def test_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TICKETNET_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def app_overrides(database_url: str, instance: Path, **extra: Any) -> dict[str, Any]:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(instance),
        "UPLOAD_DIR": str(instance / "uploads"),
        "SECRET_KEY": "test-secret-key-not-for-production-use",
        "PASSWORD_HASH_PROFILE": "cheapest",
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": None,
        "DASHBOARD_MAX_AGE_SECONDS": 0,  # figures computed at each visit; tests/test_stats_kept.py keeps them
        **extra,
    }


def production_overrides(instance: Path, **extra: Any) -> dict[str, Any]:
    """What production mode accepts (a strong key, PostgreSQL); create_app never connects, so the
    database need not exist."""
    return {"ENV": "production", "SECRET_KEY": "Zq8-vL2xT0pR5wK9mN3bY7cH1dF6gJ4sUe-production-test",
            "DATABASE_URL": "postgresql+psycopg://ticketnet@db.invalid/ticketnet", "INSTANCE_PATH": str(instance),
            **extra}


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return test_database_url(tmp_path_factory)


@pytest.fixture(scope="session")
def instance_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("instance")


@pytest.fixture(scope="session")
def engine(database_url: str, instance_dir: Path) -> Iterator[sa.Engine]:
    """The test database, emptied and initialised once for the run by ``ticketnet init``."""
    from portfolio.bootstrap import initialise

    reset_database(database_url)
    setup_app = create_app(app_overrides(database_url, instance_dir))
    initialise(setup_app)
    db.state(setup_app).engine.dispose()
    engine = db.state(setup_app).engine
    yield engine
    engine.dispose()


class TestClient(FlaskClient):
    """A test client that sends the CSRF token of its current session, as a browser would: the token
    is read from a page (every page carries one in its language form)."""

    def csrf_token(self) -> str:
        response = self.get("/", follow_redirects=True)
        match = _CSRF.search(response.get_data(as_text=True))
        assert match, "no CSRF token on the home page"
        return match.group(1)

    def post_form(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        payload = {"csrf_token": self.csrf_token(), **(data or {})}
        return self.post(url, data=payload, **kwargs)


@pytest.fixture
def app_extra_config() -> dict[str, Any]:
    """Configuration added to the test application; a test module overrides this fixture to change it."""
    return {}


@pytest.fixture
def app(engine: sa.Engine, database_url: str, instance_dir: Path, app_extra_config: dict[str, Any]) -> Iterator[Flask]:
    """An application whose sessions all run inside one transaction, rolled back after the test."""
    application = create_app(app_overrides(database_url, instance_dir, **app_extra_config))
    application.test_client_class = TestClient
    connection = engine.connect()
    outer = connection.begin()
    factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    db.bind_sessions(application, factory)
    application.extensions["tests.sessionmaker"] = factory
    with application.app_context():  # frameworks kept as a running server keeps them: steady query counts
        warm = factory()
        keep_reference_data(warm)
        warm.close()
    try:
        yield application
    finally:
        outer.rollback()
        connection.close()
        db.state(application).engine.dispose()


@pytest.fixture
def db_session(app: Flask) -> Iterator[Session]:
    """A session on the test's connection, for services and factories. It holds no application
    context open, so that each request of the test client gets its own, as in production; what it
    flushes is seen by the requests (same connection), and what they change it sees after expire_all()."""
    session = app.extensions["tests.sessionmaker"]()
    try:
        yield session
    finally:
        session.close()


@pytest.fixture
def app_context(app: Flask) -> Iterator[None]:
    """For the few services that read the application's configuration."""
    with app.app_context():
        yield


@pytest.fixture
def client(app: Flask) -> TestClient:
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def login_as(app: Flask, client: TestClient, db_session: Session) -> Callable[..., User]:
    """``login_as(Role.ANIMATOR)`` creates a user with that role and signs the test client in."""

    def _login(role: Role | str | None = None, user: User | None = None, **kwargs: Any) -> User:
        if user is None:
            assert role is not None
            user = factories.user(db_session, Role(role), **kwargs)
        db_session.commit()
        response = client.post_form("/login", {"username": user.username, "password": factories.PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        return user

    return _login


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT")):
            self.statements.append(statement)


@pytest.fixture
def count_queries(engine: sa.Engine) -> Callable[[], Any]:
    """``with count_queries() as counter: ...`` then ``counter.count``."""

    @contextmanager
    def _count() -> Iterator[QueryCounter]:
        counter = QueryCounter()
        sa.event.listen(engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            sa.event.remove(engine, "before_cursor_execute", counter)

    return _count


@pytest.fixture
def fresh_database_url(database_url: str) -> Iterator[str]:
    """An empty database of the same kind as the test database, dropped afterwards."""
    with fresh_database(database_url) as url:
        yield url
