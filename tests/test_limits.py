"""Sign-in rate limits: failed attempts per account, every attempt per address, a French message
that says what to do next, an audit event at lockout, and counters shared between workers (Redis)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portfolio.audit.models import AuditEvent
from portfolio.auth.models import Role
from portfolio.extensions import limiter
from tests import factories

REDIS_URL = os.environ.get("TICKETNET_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def app_extra_config() -> dict[str, Any]:
    return {"RATELIMIT_ENABLED": True, "LOGIN_LIMIT_PER_ACCOUNT": "3 per 15 minutes",
            "LOGIN_LIMIT_PER_ADDRESS": "8 per minute"}


@pytest.fixture(autouse=True)
def _fresh_counters(app: Any) -> Iterator[None]:
    with app.app_context():
        limiter.reset()
    yield
    with app.app_context():
        limiter.reset()


def attempt(client: Any, username: str, password: str, address: str = "203.0.113.7") -> Any:
    return client.post_form("/login", {"username": username, "password": password},
                            environ_base={"REMOTE_ADDR": address})


def test_an_account_is_locked_after_failed_attempts_with_a_helpful_message(client: Any, db_session: Session) -> None:
    user = factories.user(db_session, Role.BENEFICIARY)
    db_session.commit()
    for _ in range(3):
        assert attempt(client, user.username, "pas le bon").status_code == 200
    locked = attempt(client, user.username, factories.PASSWORD)  # even the right password waits
    page = locked.get_data(as_text=True)
    assert locked.status_code == 429
    assert "bloqué pendant 15 minutes" in page and "nouvelle carte de connexion" in page
    assert "Revenir à la page de connexion" in page
    assert client.get("/moi").status_code == 302
    db_session.expire_all()
    lockouts = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.lockout")).all()
    assert [e.details["username"] for e in lockouts] == [user.username]


def test_the_lock_is_per_account_and_typing_the_name_differently_does_not_escape_it(
        client: Any, db_session: Session) -> None:
    locked, other = factories.user(db_session, Role.BENEFICIARY), factories.user(db_session, Role.ANIMATOR)
    db_session.commit()
    for name in (locked.username, f" {locked.username.upper()}", locked.username):
        attempt(client, name, "pas le bon", address="198.51.100.1")
    assert attempt(client, locked.username, factories.PASSWORD, address="198.51.100.2").status_code == 429
    assert attempt(client, other.username, factories.PASSWORD, address="198.51.100.2").status_code == 302


def test_successful_sign_ins_do_not_count(client: Any, db_session: Session) -> None:
    user = factories.user(db_session, Role.BENEFICIARY)
    db_session.commit()
    for _ in range(4):
        assert attempt(client, user.username, factories.PASSWORD).status_code == 302
        client.post_form("/logout")
    assert attempt(client, user.username, "pas le bon").status_code == 200


def test_every_attempt_counts_per_address(client: Any) -> None:
    statuses = [attempt(client, f"nobody{n}", "pas le bon", address="192.0.2.9").status_code for n in range(9)]
    assert statuses == [200] * 8 + [429]
    page = attempt(client, "nobody", "x", address="192.0.2.9").get_data(as_text=True)
    assert "depuis cet appareil ou ce réseau" in page and "1 minute" in page
    assert attempt(client, "nobody", "x", address="192.0.2.10").status_code == 200


def test_the_confirmation_page_shares_the_account_counter(client: Any, login_as: Any, db_session: Session) -> None:
    user = login_as(Role.ANIMATOR)
    for _ in range(3):
        client.post_form("/compte/confirmer", {"password": "pas le bon"})
    assert client.post_form("/compte/confirmer", {"password": factories.PASSWORD}).status_code == 429
    client.post_form("/logout")
    assert attempt(client, user.username, factories.PASSWORD).status_code == 429


def test_counters_live_in_the_shared_store(database_url: str, instance_dir: Path, engine: Any) -> None:
    """Two workers (two applications, each with its own storage object) on the same Redis see the
    same counters: failures on the first lock the account on the second."""
    import redis
    from sqlalchemy.orm import sessionmaker

    from portfolio import create_app
    from portfolio.extensions import db
    from tests.conftest import app_overrides

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {REDIS_URL}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    config = app_overrides(database_url, instance_dir, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=REDIS_URL,
                           LOGIN_LIMIT_PER_ACCOUNT="2 per 15 minutes", LOGIN_LIMIT_PER_ADDRESS="100 per minute",
                           WTF_CSRF_ENABLED=False)
    connection = engine.connect()
    outer = connection.begin()  # what the workers write is rolled back at the end
    factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    first = create_app(config)
    db.bind_sessions(first, factory)
    try:
        with first.app_context():
            limiter.reset()
        for _ in range(2):
            response = first.test_client().post("/login", data={"username": "shared.account", "password": "x"})
            assert response.status_code == 200
        second = create_app(config)
        db.bind_sessions(second, factory)
        response = second.test_client().post("/login", data={"username": "shared.account", "password": "x"})
        assert response.status_code == 429
        assert redis.Redis.from_url(REDIS_URL).keys("*signin-account*shared.account*")
        with second.app_context():
            limiter.reset()
        db.state(second).engine.dispose()
    finally:
        outer.rollback()
        connection.close()
        db.state(first).engine.dispose()
