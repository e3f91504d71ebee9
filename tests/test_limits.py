"""Sign-in throttling that nobody can turn against someone else: growing delays per account × address,
every attempt per address, an hourly cap per account that spares the browsers where the account signed in,
the client's real address behind a proxy, French messages, audit events, and counters shared between workers
(Redis)."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from portfolio.audit.models import AuditEvent
from portfolio.auth import cards
from portfolio.auth.models import Role
from portfolio.extensions import limiter
from tests import factories

REDIS_URL = os.environ.get("TICKETNET_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
HOME, EPM, ELSEWHERE = "203.0.113.7", "198.51.100.20", "192.0.2.66"


@pytest.fixture
def app_extra_config() -> dict[str, Any]:
    return {"RATELIMIT_ENABLED": True, "LOGIN_FREE_FAILURES": 3, "LOGIN_DELAY_MAX_SECONDS": 60,
            "LOGIN_LIMIT_PER_ACCOUNT": "8 per hour", "LOGIN_LIMIT_PER_ADDRESS": "30 per minute"}


@pytest.fixture(autouse=True)
def _fresh_counters(app: Any) -> Iterator[None]:
    with app.app_context():
        limiter.reset()
    yield
    with app.app_context():
        limiter.reset()


class Clock:
    """Moves time forward for the counters (they read ``time.time``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.offset = 0.0
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() + self.offset)

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def attempt(client: Any, username: str, password: str, address: str = HOME) -> Any:
    return client.post_form("/login", {"username": username, "password": password},
                            environ_base={"REMOTE_ADDR": address})


def waited(response: Any) -> int | None:
    """The seconds a 429 page asks to wait, or None."""
    if response.status_code != 429:
        return None
    found = re.search(r"Attendez (\d+) (seconde|minute)", response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)[:2000]
    return int(found.group(1)) * (60 if found.group(2) == "minute" else 1)


def throttled(session: Session) -> list[dict[str, Any]]:
    session.expire_all()
    return [e.details for e in session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.throttled")
                                               .order_by(AuditEvent.id))]


def test_delays_grow_per_account_and_address_after_a_few_failures(app: Flask, client: Any, db_session: Session,
                                                                  clock: Clock) -> None:
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "100 per hour"
    user = factories.user(db_session, Role.BENEFICIARY)
    db_session.commit()
    for _ in range(3):  # the free ones
        assert attempt(client, user.username, "pas le bon").status_code == 200
    assert throttled(db_session) == []
    delays = []
    for _ in range(6):
        assert attempt(client, user.username, "pas le bon").status_code == 200  # refused, then a wait
        delays.append(waited(attempt(client, user.username, factories.PASSWORD)))  # even the right one waits
        clock.advance(delays[-1])
    assert delays == [2, 4, 8, 16, 32, 60]  # 2 s, doubling, up to LOGIN_DELAY_MAX_SECONDS
    page = attempt(client, user.username, "pas le bon").get_data(as_text=True)
    assert "Identifiant ou mot de passe incorrect" in page
    refused = attempt(client, user.username, factories.PASSWORD).get_data(as_text=True)
    assert "Attendez 1 minute" in refused and "nouvelle carte de connexion" in refused
    assert "Revenir à la page de connexion" in refused
    events = throttled(db_session)
    assert [(e["scope"], e["username"], e["seconds"]) for e in events] == [
        ("address", user.username, s) for s in (2, 4, 8, 16, 32, 60, 60)]
    clock.advance(60)
    assert attempt(client, user.username, factories.PASSWORD).status_code == 302


def test_someone_elsewhere_hammering_her_name_never_keeps_her_out(app: Flask, client: Any, db_session: Session,
                                                                   clock: Clock) -> None:
    """Today's lock-out let anyone keep any learner out for 15 minutes; now she signs in at home and at her EPM
    (also with her login card) while the attacker waits, from his own address only."""
    learner = factories.user(db_session, Role.BENEFICIARY)
    db_session.commit()
    for _ in range(6):
        attempt(client, learner.username, "devine", address=ELSEWHERE)
        clock.advance(1)
    assert waited(attempt(client, learner.username, "devine", address=ELSEWHERE)) is not None
    assert attempt(client, learner.username, factories.PASSWORD, address=HOME).status_code == 302
    client.post_form("/logout")
    with app.app_context():
        from portfolio.extensions import db

        _card, code = cards.new_card(db.session, db.session.get(type(learner), learner.id), None)
        db.session.commit()
    first = client.post_form("/premiere-connexion", {"username": learner.username, "code": code},
                             environ_base={"REMOTE_ADDR": EPM})
    assert first.status_code == 302 and first.headers["Location"].endswith("/premiere-connexion/mot-de-passe")


def test_the_login_card_page_counts_the_same_way(client: Any, db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    db_session.commit()
    for _ in range(4):
        response = client.post_form("/premiere-connexion", {"username": learner.username, "code": "AAAA-AAAA"},
                                    environ_base={"REMOTE_ADDR": ELSEWHERE})
        assert response.status_code == 200
    assert waited(client.post_form("/premiere-connexion", {"username": learner.username, "code": "AAAA-AAAA"},
                                   environ_base={"REMOTE_ADDR": ELSEWHERE})) == 2
    assert attempt(client, learner.username, factories.PASSWORD, address=HOME).status_code == 302


def test_typing_the_name_differently_counts_for_the_same_account(client: Any, db_session: Session) -> None:
    locked, other = factories.user(db_session, Role.BENEFICIARY), factories.user(db_session, Role.ANIMATOR)
    db_session.commit()
    for name in (locked.username, f" {locked.username.upper()}", locked.username, locked.username.title()):
        attempt(client, name, "pas le bon")
    assert waited(attempt(client, locked.username, factories.PASSWORD)) == 2
    assert attempt(client, other.username, factories.PASSWORD).status_code == 302  # another account: untouched


def test_a_successful_sign_in_forgets_the_failures(client: Any, db_session: Session) -> None:
    user = factories.user(db_session, Role.BENEFICIARY)
    db_session.commit()
    for _ in range(3):
        attempt(client, user.username, "pas le bon")
    assert attempt(client, user.username, factories.PASSWORD).status_code == 302
    client.post_form("/logout")
    for _ in range(3):
        assert attempt(client, user.username, "pas le bon").status_code == 200
    assert attempt(client, user.username, factories.PASSWORD).status_code == 302  # three free ones again


def test_the_hourly_cap_per_account_spares_the_browsers_where_it_signed_in(
        app: Flask, client: Any, db_session: Session, clock: Clock) -> None:
    """A botnet tries passwords from many addresses: past LOGIN_LIMIT_PER_ACCOUNT (8 here) in the hour, a
    browser where the account never signed in waits; hers, which signed in before, goes on."""
    learner = factories.user(db_session, Role.BENEFICIARY)
    db_session.commit()
    assert attempt(client, learner.username, factories.PASSWORD).status_code == 302  # her own browser, once
    cookie = client.get_cookie("ticketnet_device")
    assert cookie is not None and re.fullmatch(r"[0-9a-f]{24}", cookie.value)  # neither her name nor her id
    client.post_form("/logout")
    botnet = app.test_client()
    for n in range(8):
        botnet.post_form("/login", {"username": learner.username, "password": f"essai {n}"},
                         environ_base={"REMOTE_ADDR": f"192.0.2.{n + 1}"})
    stranger = app.test_client()
    refused = stranger.post_form("/login", {"username": learner.username, "password": factories.PASSWORD},
                                 environ_base={"REMOTE_ADDR": "198.51.100.99"})
    assert refused.status_code == 429
    text = refused.get_data(as_text=True)
    assert "beaucoup d&#39;essais de connexion depuis d&#39;autres appareils" in text
    assert "Attendez 1 minute" not in text
    assert attempt(client, learner.username, factories.PASSWORD, address="198.51.100.98").status_code == 302
    assert [e["scope"] for e in throttled(db_session) if e["scope"] == "account"] == ["account"]
    clock.advance(3601)  # the hour is over: anybody may try again
    assert stranger.post_form("/login", {"username": learner.username, "password": factories.PASSWORD},
                              environ_base={"REMOTE_ADDR": "198.51.100.99"}).status_code == 302


def test_every_attempt_counts_per_address(app: Flask, client: Any) -> None:
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "8 per minute"
    statuses = [attempt(client, f"nobody{n}", "pas le bon", address="192.0.2.9").status_code for n in range(9)]
    assert statuses == [200] * 8 + [429]
    page = attempt(client, "nobody", "x", address="192.0.2.9").get_data(as_text=True)
    assert "depuis cet appareil ou ce réseau" in page and "1 minute" in page
    assert attempt(client, "nobody", "x", address="192.0.2.10").status_code == 200


def test_the_confirmation_page_shares_the_account_and_address_counter(client: Any, login_as: Any) -> None:
    user = login_as(Role.ANIMATOR)
    for _ in range(4):
        client.post_form("/compte/confirmer", {"password": "pas le bon"}, environ_base={"REMOTE_ADDR": HOME})
    assert waited(client.post_form("/compte/confirmer", {"password": factories.PASSWORD},
                                   environ_base={"REMOTE_ADDR": HOME})) == 2
    client.post_form("/logout")
    assert waited(attempt(client, user.username, factories.PASSWORD, address=HOME)) == 2
    assert attempt(client, user.username, factories.PASSWORD, address=EPM).status_code == 302


def test_behind_a_proxy_each_client_has_its_own_counter(database_url: str, instance_dir: Path, engine: Any) -> None:
    """Behind TICKETNET_PROXY_FIX proxies every request comes from the proxy's address: the counters must use
    the client's (X-Forwarded-For), or an attacker would slow down everybody behind the same proxy."""
    from sqlalchemy.orm import sessionmaker

    from portfolio import create_app
    from portfolio.extensions import db
    from tests.conftest import TestClient, app_overrides

    connection = engine.connect()
    outer = connection.begin()
    factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    proxied = create_app(app_overrides(database_url, instance_dir, RATELIMIT_ENABLED=True, PROXY_FIX=1,
                                       LOGIN_FREE_FAILURES=1))
    proxied.test_client_class = TestClient
    db.bind_sessions(proxied, factory)
    try:
        with factory() as session:
            learner = factories.user(session, Role.BENEFICIARY)
            session.commit()
        with proxied.app_context():
            limiter.reset()
        client = proxied.test_client()

        def through_proxy(client_address: str, password: str) -> Any:
            return client.post_form("/login", {"username": learner.username, "password": password},
                                    environ_base={"REMOTE_ADDR": "10.0.0.1"},
                                    headers={"X-Forwarded-For": client_address})

        through_proxy(ELSEWHERE, "devine")
        through_proxy(ELSEWHERE, "devine")
        assert waited(through_proxy(ELSEWHERE, "devine")) == 2
        assert through_proxy(HOME, factories.PASSWORD).status_code == 302  # same proxy, another client
    finally:
        with proxied.app_context():
            limiter.reset()
        outer.rollback()
        connection.close()
        db.state(proxied).engine.dispose()


def test_counters_live_in_the_shared_store(database_url: str, instance_dir: Path, engine: Any) -> None:
    """Two workers (two applications, each with its own storage object) on the same Redis see the
    same counters: a delay started on the first holds on the second."""
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
                           LOGIN_FREE_FAILURES=1, LOGIN_LIMIT_PER_ADDRESS="100 per minute",
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
        keys = redis.Redis.from_url(REDIS_URL).keys("*ticketnet/signin/wait/*")
        assert keys and not [k for k in keys if b"shared.account" in k]  # names are hashed in the store
        with second.app_context():
            limiter.reset()
        db.state(second).engine.dispose()
    finally:
        outer.rollback()
        connection.close()
        db.state(first).engine.dispose()
