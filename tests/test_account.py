"""My account: changing the password, confirming who I am before sensitive actions, signing out
everywhere, and the session's idle and absolute lifetimes."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portfolio.audit.models import AuditEvent
from portfolio.auth.models import Role
from portfolio.auth.passwords import verify_password
from tests import factories
from tests.conftest import production_overrides

NEW = "cerise moulin truffe noix"


def _age_session(client: Any, key: str, seconds: int) -> None:
    with client.session_transaction() as sess:
        sess[key] = int(time.time()) - seconds


def actions(db_session: Session, user_id: int) -> list[str]:
    db_session.expire_all()
    return list(db_session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == user_id)
                                   .order_by(AuditEvent.id)))


def test_account_page_lists_my_recent_sign_ins_and_refusals(client: Any, login_as: Any, db_session: Session) -> None:
    user = factories.user(db_session, Role.BENEFICIARY)
    db_session.commit()
    client.post_form("/login", {"username": user.username, "password": "pas le bon"})
    login_as(user=user)
    page = client.get("/compte").get_data(as_text=True)
    assert "Connexion réussie" in page and "Mot de passe refusé" in page
    assert user.username in page and "Changer mon mot de passe" in page


def test_changing_the_password_right_after_sign_in(app: Any, client: Any, login_as: Any, db_session: Session) -> None:
    user = login_as(Role.BENEFICIARY)
    other_device = app.test_client()
    other_device.post_form("/login", {"username": user.username, "password": factories.PASSWORD})
    assert other_device.get("/moi").status_code == 200

    page = client.get("/compte/mot-de-passe")
    assert page.status_code == 200 and "trois ou quatre mots" in page.get_data(as_text=True)
    response = client.post_form("/compte/mot-de-passe", {"new_password": NEW, "confirm_password": NEW})
    assert response.status_code == 302 and response.headers["Location"] == "/compte"
    db_session.expire_all()
    assert verify_password(user.password_hash, NEW)
    assert client.get("/moi").status_code == 200  # this device stays signed in
    assert other_device.get("/moi").status_code == 302  # the others are signed out
    assert "account.password_changed" in actions(db_session, user.id)


def test_a_weak_new_password_is_refused_and_nothing_changes(client: Any, login_as: Any, db_session: Session) -> None:
    user = login_as(Role.BENEFICIARY)
    response = client.post_form("/compte/mot-de-passe", {"new_password": "azerty123456",
                                                         "confirm_password": "azerty123456"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "trop courant" in page and 'aria-invalid="true"' in page
    db_session.expire_all()
    assert verify_password(user.password_hash, factories.PASSWORD)


def test_a_sensitive_action_asks_who_you_are_after_a_while(client: Any, login_as: Any, db_session: Session) -> None:
    user = login_as(Role.ANIMATOR)
    _age_session(client, "auth_at", 11 * 60)
    response = client.get("/compte/mot-de-passe")
    assert response.status_code == 302
    assert response.headers["Location"] == "/compte/confirmer?next=/compte/mot-de-passe"

    page = client.post_form("/compte/confirmer?next=/compte/mot-de-passe", {"password": "pas le bon"})
    assert "pas le bon mot de passe" in page.get_data(as_text=True)
    assert client.get("/compte/mot-de-passe").status_code == 302

    response = client.post_form("/compte/confirmer?next=/compte/mot-de-passe", {"password": factories.PASSWORD})
    assert response.headers["Location"] == "/compte/mot-de-passe"
    assert client.get("/compte/mot-de-passe").status_code == 200
    assert "auth.reauthenticated" in actions(db_session, user.id)


def test_a_late_form_goes_back_to_its_page_after_confirmation(client: Any, login_as: Any) -> None:
    login_as(Role.BENEFICIARY)
    _age_session(client, "auth_at", 3600)
    response = client.post_form("/compte/mot-de-passe", {"new_password": NEW, "confirm_password": NEW},
                                headers={"Referer": "http://localhost/compte/mot-de-passe"})
    assert response.headers["Location"] == "/compte/confirmer?next=/compte/mot-de-passe"
    response = client.post_form("/compte/mot-de-passe", {"new_password": NEW, "confirm_password": NEW},
                                headers={"Referer": "https://evil.example/compte/mot-de-passe"})
    assert response.headers["Location"] == "/compte/confirmer"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example"])
def test_confirmation_never_sends_you_off_site(client: Any, login_as: Any, target: str) -> None:
    login_as(Role.BENEFICIARY)
    response = client.post_form(f"/compte/confirmer?next={target}", {"password": factories.PASSWORD})
    assert response.headers["Location"] == "/compte"


def test_sign_out_everywhere(app: Any, client: Any, login_as: Any, db_session: Session) -> None:
    user = login_as(Role.PRESCRIBER)
    other_device = app.test_client()
    other_device.post_form("/login", {"username": user.username, "password": factories.PASSWORD})
    response = client.post_form("/compte/deconnecter-partout")
    assert response.headers["Location"] == "/login"
    assert client.get("/prescripteur").status_code == 302
    assert other_device.get("/prescripteur").status_code == 302
    assert "auth.logout_everywhere" in actions(db_session, user.id)


def test_keep_alive_answers_json_and_needs_csrf(client: Any, login_as: Any) -> None:
    login_as(Role.BENEFICIARY)
    assert client.post("/session/prolonger").status_code == 400  # no CSRF token
    token = client.csrf_token()
    response = client.post("/session/prolonger", headers={"X-CSRFToken": token})
    assert response.status_code == 200 and response.json == {"status": "ok", "expires_in": 30 * 60}


def test_keep_alive_cannot_revive_an_ended_session(client: Any) -> None:
    token = client.csrf_token()
    response = client.post("/session/prolonger", headers={"X-CSRFToken": token})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_idle_warning_is_on_every_signed_in_page_only(client: Any, login_as: Any) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert "session-timeout" not in page and "session.js" not in page
    login_as(Role.COORDINATOR)
    for url in ("/coordination", "/compte"):
        page = client.get(url).get_data(as_text=True)
        assert 'id="session-timeout"' in page and 'data-idle-seconds="1800"' in page
        assert 'data-warn-seconds="120"' in page and "js/session.js" in page and "Rester connecté" in page


def test_an_idle_session_ends_on_the_server(client: Any, login_as: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The signed session cookie carries its time; after the idle lifetime the server refuses it."""
    login_as(Role.BENEFICIARY)
    assert client.get("/moi").status_code == 200
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 31 * 60)
    assert client.get("/moi").status_code == 302


def test_a_session_ends_after_its_maximum_lifetime_even_when_active(client: Any, login_as: Any) -> None:
    login_as(Role.BENEFICIARY)
    _age_session(client, "signed_in_at", 13 * 3600)
    response = client.get("/moi")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=/moi")
    assert "a duré trop longtemps" in client.get("/login").get_data(as_text=True)
    assert client.get("/moi").status_code == 302


def test_production_session_cookie_flags(tmp_path: Any) -> None:
    from portfolio import create_app

    app = create_app(production_overrides(tmp_path))
    assert app.config["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"  # Strict would drop the cookie on the provider's return


def test_the_cookie_is_httponly_and_samesite(client: Any) -> None:
    response = client.get("/login")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def _copy_of_the_cookie(app: Any, client: Any) -> Any:
    thief = app.test_client()
    thief.set_cookie("ticketnet_session", client.get_cookie("ticketnet_session").value)
    return thief


def test_a_copied_cookie_stops_working_at_sign_out(app: Any, client: Any, login_as: Any) -> None:
    login_as(Role.BENEFICIARY)
    thief = _copy_of_the_cookie(app, client)
    assert thief.get("/moi").status_code == 200
    client.post_form("/logout")
    assert thief.get("/moi").status_code == 302  # the session ended on the server, not only in the browser


def test_my_open_sessions_and_closing_one_of_them(app: Any, client: Any, login_as: Any, db_session: Session) -> None:
    from portfolio.account.models import SignedInSession

    user = login_as(Role.BENEFICIARY)
    laptop = app.test_client()
    laptop.post_form("/login", {"username": user.username, "password": factories.PASSWORD},
                     headers={"User-Agent": "Portable de la médiathèque"})
    page = client.get("/compte").get_data(as_text=True)
    assert "Cet appareil" in page and "Portable de la médiathèque" in page
    db_session.expire_all()
    rows = db_session.scalars(select(SignedInSession).where(SignedInSession.user_id == user.id)
                              .order_by(SignedInSession.id)).all()
    mine, laptops = rows[0].id, rows[1].id
    assert client.post_form(f"/compte/sessions/{mine}/fermer").status_code == 404  # use "Se déconnecter"
    other = factories.user(db_session, Role.BENEFICIARY)
    db_session.add(SignedInSession(user_id=other.id, token_hash="f" * 64))
    db_session.commit()
    theirs = db_session.scalars(select(SignedInSession.id).where(SignedInSession.user_id == other.id)).one()
    assert client.post_form(f"/compte/sessions/{theirs}/fermer").status_code == 404
    assert client.post_form(f"/compte/sessions/{laptops}/fermer").status_code == 302
    assert laptop.get("/moi").status_code == 302
    assert client.get("/moi").status_code == 200
    assert "auth.session_ended" in actions(db_session, user.id)


def test_purge_removes_old_session_records(app: Any, runner: Any, db_session: Session) -> None:
    import datetime as dt

    from portfolio.account.models import SignedInSession
    from portfolio.db import utcnow

    user = factories.user(db_session, Role.BENEFICIARY)
    old = SignedInSession(user_id=user.id, token_hash="a" * 64, created_at=utcnow() - dt.timedelta(days=3))
    fresh = SignedInSession(user_id=user.id, token_hash="b" * 64)
    db_session.add_all([old, fresh])
    db_session.commit()
    old_id, fresh_id = old.id, fresh.id
    result = runner.invoke(args=["purge"])
    assert "Connexions terminées : " in result.output
    db_session.expire_all()
    assert db_session.get(SignedInSession, old_id) is None and db_session.get(SignedInSession, fresh_id) is not None


def test_password_fields_let_password_managers_help(client: Any, login_as: Any) -> None:
    """Paste and password managers are welcome (ASVS 2.1.11): the right autocomplete, nothing blocked."""
    login = client.get("/login").get_data(as_text=True)
    assert 'autocomplete="current-password"' in login and "onpaste" not in login
    login_as(Role.BENEFICIARY)
    page = client.get("/compte/mot-de-passe").get_data(as_text=True)
    assert page.count('autocomplete="new-password"') == 2 and 'autocomplete="off"' not in page
    assert 'data-show-password="new_password confirm_password"' in page and "js/password.js" in page


def test_no_password_reaches_the_audit_log(client: Any, db_session: Session) -> None:
    user = factories.user(db_session, Role.BENEFICIARY)
    db_session.commit()
    client.post_form("/login", {"username": user.username, "password": "mon secret tapé de travers"})
    client.post_form("/login", {"username": user.username, "password": factories.PASSWORD})
    db_session.expire_all()
    for event in db_session.scalars(select(AuditEvent)):
        text = f"{event.action} {event.details} {event.target_id} {event.actor_name}"
        assert "secret tapé" not in text and factories.PASSWORD not in text


def test_the_account_page_query_count_does_not_grow_with_the_data(client: Any, login_as: Any, db_session: Session,
                                                                   count_queries: Any) -> None:
    from portfolio.sso import services as sso

    user = login_as(Role.BENEFICIARY)
    with count_queries() as few:
        assert client.get("/compte").status_code == 200
    for n in range(6):
        client.application.test_client().post_form("/login", {"username": user.username,
                                                              "password": factories.PASSWORD})
        client.post_form("/login", {"username": user.username, "password": f"faux {n}"})
        sso.link_own_identity(db_session, user, "test", "https://idp.example", f"sub-{n}")
    db_session.commit()
    with count_queries() as many:
        page = client.get("/compte").get_data(as_text=True)
    assert page.count("Fermer cette connexion") == 6
    assert many.count == few.count <= 8, many.statements


def test_a_form_sent_after_the_maximum_lifetime_says_why_the_session_ended(client: Any, login_as: Any) -> None:
    login_as(Role.BENEFICIARY)
    token = client.csrf_token()
    _age_session(client, "signed_in_at", 13 * 3600)
    response = client.post("/moi/partage/nouveau", data={"csrf_token": token, "organisation_id": "1"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert "a duré trop longtemps" in client.get("/login").get_data(as_text=True)
