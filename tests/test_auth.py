from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portfolio.audit.models import AuditEvent
from portfolio.auth import services
from portfolio.auth.models import Role
from portfolio.auth.passwords import hash_password, verify_password
from portfolio.urls import is_safe_next
from tests import factories

HOMES = {
    Role.BENEFICIARY: "/moi",
    Role.ANIMATOR: "/epm",
    Role.PRESCRIBER: "/prescripteur",
    Role.ASSESSOR: "/evaluation",
    Role.COORDINATOR: "/coordination",
    Role.ADMIN: "/admin",
}


def test_passwords_are_hashed_with_argon2id(app: Any) -> None:
    with app.app_context():
        hashed = hash_password("un long mot de passe")
        assert hashed.startswith("$argon2id$")
        assert verify_password(hashed, "un long mot de passe")
        assert not verify_password(hashed, "un autre mot de passe")
        assert not verify_password(None, "un long mot de passe")


def test_authenticate_is_case_insensitive_on_username_only(db_session: Session) -> None:
    user = factories.user(db_session, Role.BENEFICIARY, username="Marie.Test")
    assert user.username == "marie.test"
    assert services.authenticate(db_session, " MARIE.test ", factories.PASSWORD) is user
    assert services.authenticate(db_session, "marie.test", factories.PASSWORD.upper()) is None
    assert services.authenticate(db_session, "nobody", factories.PASSWORD) is None


def test_inactive_account_cannot_sign_in(db_session: Session) -> None:
    user = factories.user(db_session, Role.BENEFICIARY, active=False)
    assert services.authenticate(db_session, user.username, factories.PASSWORD) is None


def test_login_form_has_the_contract_fields(client: Any) -> None:
    page = client.get("/login").get_data(as_text=True)
    for name in ('name="username"', 'name="password"', 'name="csrf_token"'):
        assert name in page
    assert "Se connecter" in page


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_role_lands_on_its_home_in_french(client: Any, db_session: Session, role: Role) -> None:
    user = factories.user(db_session, role)
    db_session.commit()
    response = client.post_form("/login", {"username": user.username, "password": factories.PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == HOMES[role]
    page = client.get(HOMES[role])
    assert page.status_code == 200
    assert '<html lang="fr">' in page.get_data(as_text=True)


def test_wrong_password_is_refused_with_a_french_message_and_audited(client: Any, db_session: Session) -> None:
    user = factories.user(db_session, Role.BENEFICIARY)
    db_session.commit()
    response = client.post_form("/login", {"username": user.username, "password": "pas le bon"})
    assert response.status_code == 200
    assert "Identifiant ou mot de passe incorrect" in response.get_data(as_text=True)
    assert client.get("/moi").status_code == 302  # still signed out
    failed = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.login_failed")).all()
    assert [e.details["username"] for e in failed] == [user.username]


def test_empty_fields_get_french_messages(client: Any) -> None:
    page = client.post_form("/login", {"username": "", "password": ""}).get_data(as_text=True)
    assert "Écrivez votre identifiant." in page
    assert "Écrivez votre mot de passe." in page
    assert 'aria-invalid="true"' in page


def test_login_without_csrf_token_is_refused(client: Any, db_session: Session) -> None:
    user = factories.user(db_session, Role.BENEFICIARY)
    db_session.commit()
    response = client.post("/login", data={"username": user.username, "password": factories.PASSWORD})
    assert response.status_code == 400
    assert "formulaire a expiré" in response.get_data(as_text=True)


def test_login_audits_and_starts_a_new_session(client: Any, db_session: Session) -> None:
    user = factories.user(db_session, Role.ANIMATOR)
    db_session.commit()
    client.get("/login")
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    client.post_form("/login", {"username": user.username, "password": factories.PASSWORD})
    with client.session_transaction() as sess:
        assert "planted" not in sess
    actions = db_session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == user.id)).all()
    assert actions == ["auth.login"]


def test_next_is_followed_only_when_it_stays_on_the_site(client: Any, db_session: Session) -> None:
    user = factories.user(db_session, Role.BENEFICIARY)
    db_session.commit()
    response = client.post_form("/login?next=//evil.example/x",
                                {"username": user.username, "password": factories.PASSWORD})
    assert response.headers["Location"] == "/moi"
    client.post_form("/logout")
    response = client.post_form("/login?next=/moi?x=1", {"username": user.username, "password": factories.PASSWORD})
    assert response.headers["Location"] == "/moi?x=1"


@pytest.mark.parametrize("target,safe", [
    ("/moi", True), ("/a/b?c=d", True), (None, False), ("", False), ("//evil.example", False),
    ("https://evil.example/", False), ("/\\evil.example", False), ("javascript:alert(1)", False),
    ("/\x00x", False), ("evil.example", False),
])
def test_is_safe_next(target: str | None, safe: bool) -> None:
    assert is_safe_next(target) is safe


def test_logout_needs_a_post_with_csrf_and_ends_the_session(client: Any, login_as: Any) -> None:
    login_as(Role.BENEFICIARY)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/moi").status_code == 200
    response = client.post_form("/logout")
    assert response.status_code == 302
    assert client.get("/moi").status_code == 302


def test_bumping_the_session_version_signs_out_everywhere(client: Any, login_as: Any, db_session: Session) -> None:
    user = login_as(Role.BENEFICIARY)
    assert client.get("/moi").status_code == 200
    user.session_version += 1
    db_session.commit()
    assert client.get("/moi").status_code == 302


def test_a_user_without_role_is_welcomed_not_broken(client: Any, login_as: Any, db_session: Session) -> None:
    user = factories.user(db_session, None)
    login_as(user=user)
    page = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "aucun organisme" in page
