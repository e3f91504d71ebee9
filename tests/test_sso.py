"""Single sign-on, end to end against a real OpenID Provider (npm ``oidc-provider``) on loopback.

The test client plays the browser on our side; ``requests`` plays it on the provider's side (its
sign-in and consent pages), following the full redirect dance: our POST → the provider's authorize
endpoint → its pages → our callback with a code → token exchange and ID token check by authlib.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from portfolio.audit.models import AuditEvent
from portfolio.auth.models import Role, User
from portfolio.sso import services
from portfolio.sso.models import ExternalIdentity, SignInInvitation
from tests import factories
from tests.oidc.provider import openid_provider

CALLBACK = "http://localhost/connexion/externe/test/retour"


@pytest.fixture(scope="module")
def provider() -> Iterator[dict[str, Any]]:
    with openid_provider([CALLBACK], post_logout_redirect_uris=["http://localhost/login"]) as running:
        yield running


@pytest.fixture
def app_extra_config(provider: dict[str, Any]) -> dict[str, Any]:
    return {"OIDC_PROVIDERS": {"test": provider["settings"]}}


class _Forms(HTMLParser):
    """The forms of a page: action and the values of their inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.forms.append({"action": values.get("action") or "", "fields": {}})
        elif tag == "input" and self.forms and values.get("name"):
            self.forms[-1]["fields"][values["name"]] = values.get("value") or ""


def at_the_provider(authorize_url: str, login: str) -> str:
    """Sign in at the provider as ``login`` and consent, as a person would; return our callback URL."""
    browser = requests.Session()
    response = browser.get(authorize_url, allow_redirects=False, timeout=10)
    for _ in range(12):
        while response.status_code in (302, 303):
            location = urljoin(response.url, response.headers["Location"])
            if location.startswith(CALLBACK):
                browser.close()
                return location
            response = browser.get(location, allow_redirects=False, timeout=10)
        parser = _Forms()
        parser.feed(response.text)
        assert parser.forms, f"no form on the provider's page {response.url}: {response.text[:500]}"
        form = parser.forms[0]
        data = dict(form["fields"])
        if "login" in data:
            data.update(login=login, password="anything")
        response = browser.post(urljoin(response.url, form["action"]), data=data, allow_redirects=False, timeout=10)
    raise AssertionError("the provider never sent the browser back to Ticket Net")


def sso_sign_in(client: Any, login: str, start: str = "/connexion/externe/test", data: dict[str, Any] | None = None,
                ) -> Any:
    """Our side: POST to start, the provider's side, then our callback; returns the callback's response."""
    started = client.post_form(start, data or {})
    assert started.status_code == 302, started.get_data(as_text=True)[:1000]
    assert started.headers["Location"].startswith("http://127.0.0.1:")
    callback = at_the_provider(started.headers["Location"], login)
    parts = urlsplit(callback)
    return client.get(f"{parts.path}?{parts.query}")


def invite(db_session: Session, account: User, by: User | None = None) -> str:
    _, token = services.create_invitation(db_session, account, by, days=14)
    db_session.commit()
    return token


def actions(db_session: Session) -> list[str]:
    db_session.expire_all()
    return list(db_session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


# --- Services ---------------------------------------------------------------------------------------


def test_an_invitation_keeps_only_the_hash_of_its_token_and_works_once(db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    invitation, token = services.create_invitation(db_session, learner, None, days=14)
    assert token not in invitation.token_hash and len(token) >= 40
    assert services.find_invitation(db_session, token) is invitation
    identity = services.link_identity(db_session, invitation, "test", "https://idp.example", "sub-1")
    assert identity.user_id == learner.id and invitation.used_at is not None
    assert services.find_invitation(db_session, token) is None
    with pytest.raises(services.LinkRefused):
        services.link_identity(db_session, invitation, "test", "https://idp.example", "sub-2")


def test_a_new_invitation_revokes_the_previous_one(db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    _, first = services.create_invitation(db_session, learner, None, days=14)
    _, second = services.create_invitation(db_session, learner, None, days=14)
    assert services.find_invitation(db_session, first) is None
    assert services.find_invitation(db_session, second) is not None


def test_an_expired_invitation_or_an_inactive_account_does_not_work(db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    long_ago = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    _, token = services.create_invitation(db_session, learner, None, days=14, now=long_ago)
    assert services.find_invitation(db_session, token) is None
    _, token = services.create_invitation(db_session, learner, None, days=14)
    learner.active = False
    assert services.find_invitation(db_session, token) is None


def test_an_identity_signs_in_one_account_only(db_session: Session) -> None:
    first, second = factories.user(db_session, Role.BENEFICIARY), factories.user(db_session, Role.BENEFICIARY)
    invitation, _ = services.create_invitation(db_session, first, None, days=14)
    services.link_identity(db_session, invitation, "test", "https://idp.example", "shared")
    other, _ = services.create_invitation(db_session, second, None, days=14)
    with pytest.raises(services.LinkRefused) as refused:
        services.link_identity(db_session, other, "test", "https://idp.example", "shared")
    assert refused.value.reason == "linked_elsewhere"
    assert other.used_at is None


def test_the_last_way_in_cannot_be_removed_by_its_owner(db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    invitation, _ = services.create_invitation(db_session, learner, None, days=14)
    identity = services.link_identity(db_session, invitation, "test", "https://idp.example", "only")
    assert services.can_unlink(db_session, identity, learner)  # a password remains
    learner.password_hash = None
    assert not services.can_unlink(db_session, identity, learner)


# --- End to end with the provider -------------------------------------------------------------------


def test_login_page_offers_the_provider(client: Any) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert "Se connecter avec Portail test" in page
    assert 'action="/connexion/externe/test"' in page


def test_the_csp_lets_forms_lead_to_the_provider_only(client: Any, provider: dict[str, Any]) -> None:
    csp = client.get("/login").headers["Content-Security-Policy"]
    assert f"form-action 'self' {provider['issuer']};" in csp


def test_an_unknown_identity_is_not_signed_in_and_no_account_is_created(client: Any, db_session: Session) -> None:
    users_before = db_session.scalar(select(User.id).order_by(User.id.desc()).limit(1))
    response = sso_sign_in(client, "stranger")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "n'est pas encore relié à Ticket Net" in page
    assert client.get("/compte").status_code == 302  # still signed out
    assert db_session.scalar(select(User.id).order_by(User.id.desc()).limit(1)) == users_before
    assert "auth.sso_unknown" in actions(db_session)


def test_an_invitation_links_the_identity_then_it_signs_in(client: Any, db_session: Session,
                                                           provider: dict[str, Any]) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY, first_name="Lucie")
    token = invite(db_session, learner)
    page = client.get(f"/invitation/{token}").get_data(as_text=True)
    assert learner.username in page and "Relier mon compte Portail test" in page

    response = sso_sign_in(client, "lucie-at-idp", start=f"/invitation/{token}", data={"provider": "test"})
    assert response.status_code == 302 and response.headers["Location"] == "/moi"
    assert "Bonjour Lucie" in client.get("/moi").get_data(as_text=True)
    identity = db_session.scalars(select(ExternalIdentity).where(ExternalIdentity.user_id == learner.id)).one()
    assert (identity.issuer, identity.subject) == (provider["issuer"], "lucie-at-idp")
    assert "sso.linked" in actions(db_session)

    # The invitation is spent.
    client.post_form("/logout")
    assert client.get(f"/invitation/{token}").status_code == 404

    # From now on, the provider alone signs Lucie in.
    response = sso_sign_in(client, "lucie-at-idp")
    assert response.headers["Location"] == "/moi"
    logins = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.login",
                                                         AuditEvent.actor_id == learner.id)).all()
    assert [e.details["method"] for e in logins] == ["oidc", "oidc"]


def test_an_identity_linked_elsewhere_is_refused(client: Any, db_session: Session) -> None:
    first, second = factories.user(db_session, Role.BENEFICIARY), factories.user(db_session, Role.BENEFICIARY)
    sso_sign_in(client, "taken", start=f"/invitation/{invite(db_session, first)}", data={"provider": "test"})
    client.post_form("/logout")
    token = invite(db_session, second)
    response = sso_sign_in(client, "taken", start=f"/invitation/{token}", data={"provider": "test"})
    assert response.headers["Location"] == "/login"
    assert "déjà relié à un autre compte" in client.get("/login").get_data(as_text=True)
    db_session.expire_all()
    unused = select(SignInInvitation.used_at).where(SignInInvitation.user_id == second.id)
    assert db_session.scalars(unused).one() is None


def test_a_forged_callback_is_refused(client: Any, db_session: Session) -> None:
    response = client.get("/connexion/externe/test/retour?code=stolen&state=forged")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "auth.sso_failed" in actions(db_session)


def test_a_callback_replayed_in_another_browser_is_refused(app: Any, client: Any, db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    db_session.commit()
    started = client.post_form(f"/invitation/{invite(db_session, learner)}", {"provider": "test"})
    callback = urlsplit(at_the_provider(started.headers["Location"], "victim"))
    other_browser = app.test_client()
    response = other_browser.get(f"{callback.path}?{callback.query}")
    assert response.headers["Location"] == "/login"
    assert other_browser.get("/moi").status_code == 302
    assert db_session.scalars(select(ExternalIdentity).where(ExternalIdentity.user_id == learner.id)).all() == []


def test_cancelling_at_the_provider_signs_nobody_in(client: Any, db_session: Session) -> None:
    started = client.post_form("/connexion/externe/test")
    state = re.search(r"state=([^&]+)", started.headers["Location"]).group(1)  # type: ignore[union-attr]
    response = client.get(f"/connexion/externe/test/retour?error=access_denied&state={state}")
    assert response.headers["Location"] == "/login"
    assert "annulée" in client.get("/login").get_data(as_text=True)


def test_sign_out_also_ends_the_provider_session(client: Any, db_session: Session, provider: dict[str, Any]) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    sso_sign_in(client, "leaving", start=f"/invitation/{invite(db_session, learner)}", data={"provider": "test"})
    response = client.post_form("/logout")
    location = response.headers["Location"]
    assert location.startswith(provider["issuer"]) and "id_token_hint=" in location
    assert "post_logout_redirect_uri=http%3A%2F%2Flocalhost%2Flogin" in location
    assert client.get("/moi").status_code == 302


def test_reauthentication_through_the_provider(client: Any, db_session: Session, app: Any) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    learner.password_hash = None  # signs in through the provider only
    sso_sign_in(client, "fresh", start=f"/invitation/{invite(db_session, learner)}", data={"provider": "test"})
    with client.session_transaction() as sess:
        sess["auth_at"] = 0  # long ago
    assert client.get("/compte/mot-de-passe").headers["Location"].startswith("/compte/confirmer")
    page = client.get("/compte/confirmer").get_data(as_text=True)
    assert "Confirmer avec Portail test" in page
    response = sso_sign_in(client, "fresh", start="/connexion/externe/test/confirmer",
                           data={"next": "/compte/mot-de-passe"})
    assert response.headers["Location"] == "/compte/mot-de-passe"
    assert client.get("/compte/mot-de-passe").status_code == 200
    assert "auth.reauthenticated" in actions(db_session)


def test_reauthentication_with_someone_elses_identity_is_refused(client: Any, db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    sso_sign_in(client, "mine", start=f"/invitation/{invite(db_session, learner)}", data={"provider": "test"})
    with client.session_transaction() as sess:
        sess["auth_at"] = 0
    response = sso_sign_in(client, "someone-else", start="/connexion/externe/test/confirmer")
    assert response.headers["Location"] == "/compte"
    assert client.get("/compte/mot-de-passe").headers["Location"].startswith("/compte/confirmer")


def test_an_unreachable_provider_gets_a_french_message(app_extra_config: dict[str, Any], client: Any) -> None:
    client.application.config["OIDC_PROVIDERS"]["test"] = dict(client.application.config["OIDC_PROVIDERS"]["test"])
    from portfolio.sso import oidc

    with client.application.app_context():
        registered = oidc.client("test")
        registered._server_metadata_url = "http://127.0.0.1:9/.well-known/openid-configuration"
        registered.server_metadata = {}
    response = client.post_form("/connexion/externe/test")
    assert response.headers["Location"] == "/login"
    assert "ne répond pas pour le moment" in client.get("/login").get_data(as_text=True)


# --- The staff's side ---------------------------------------------------------------------------------


def test_an_animator_invites_a_learner_of_its_epm_and_sees_the_link_once(client: Any, login_as: Any,
                                                                         db_session: Session) -> None:
    animator = login_as(Role.ANIMATOR)
    epm = animator.organisations_for(Role.ANIMATOR)[0]
    learner = factories.user(db_session, Role.BENEFICIARY, organisation_=epm, last_name="Invitée")
    db_session.commit()
    listing = client.get("/comptes/connexion-externe?q=invit").get_data(as_text=True)
    assert learner.username in listing
    response = client.post_form(f"/comptes/{learner.id}/connexion-externe/invitation")
    page = response.get_data(as_text=True)
    link = re.search(r"http://localhost/invitation/([A-Za-z0-9_-]+)", page)
    assert response.status_code == 200 and link
    assert services.find_invitation(db_session, link.group(1)).user_id == learner.id  # type: ignore[union-attr]
    assert link.group(1) not in client.get(f"/comptes/{learner.id}/connexion-externe").get_data(as_text=True)
    client.post_form(f"/comptes/{learner.id}/connexion-externe/invitation/annuler")
    assert services.find_invitation(db_session, link.group(1)) is None
    assert {"sso.invitation_created", "sso.invitation_revoked"} <= set(actions(db_session))


@pytest.mark.parametrize("inviter,target,allowed", [
    (Role.ADMIN, Role.ADMIN, True),
    (Role.ADMIN, Role.COORDINATOR, True),
    (Role.COORDINATOR, Role.ANIMATOR, True),
    (Role.COORDINATOR, Role.BENEFICIARY, True),
    (Role.COORDINATOR, Role.ADMIN, False),
    (Role.COORDINATOR, Role.COORDINATOR, False),
    (Role.ANIMATOR, Role.BENEFICIARY, False),  # a learner of another EPM
    (Role.ANIMATOR, Role.ANIMATOR, False),
])
def test_nobody_may_invite_an_account_with_more_rights(client: Any, login_as: Any, db_session: Session,
                                                       inviter: Role, target: Role, allowed: bool) -> None:
    login_as(inviter)
    account = factories.user(db_session, target)
    db_session.commit()
    response = client.post_form(f"/comptes/{account.id}/connexion-externe/invitation")
    assert response.status_code == (200 if allowed else 404)
    assert (client.get(f"/comptes/{account.id}/connexion-externe").status_code == 200) is allowed


def test_staff_remove_a_link(client: Any, login_as: Any, db_session: Session) -> None:
    login_as(Role.ADMIN)
    learner = factories.user(db_session, Role.BENEFICIARY)
    invitation, _ = services.create_invitation(db_session, learner, None, days=14)
    identity = services.link_identity(db_session, invitation, "test", "https://idp.example", "to-remove")
    db_session.commit()
    identity_id = identity.id
    response = client.post_form(f"/comptes/{learner.id}/connexion-externe/{identity_id}/retirer")
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(ExternalIdentity, identity_id) is None
    assert "sso.unlinked" in actions(db_session)


def test_a_person_removes_their_own_link_only_if_another_way_in_remains(client: Any, login_as: Any,
                                                                         db_session: Session) -> None:
    learner = login_as(Role.BENEFICIARY)
    invitation, _ = services.create_invitation(db_session, learner, None, days=14)
    identity = services.link_identity(db_session, invitation, "test", "https://idp.example", "mine")
    db_session.commit()
    assert "Ne plus me connecter avec Portail test" in client.get("/compte").get_data(as_text=True)
    other = factories.user(db_session, Role.BENEFICIARY)
    other_invitation, _ = services.create_invitation(db_session, other, None, days=14)
    others = services.link_identity(db_session, other_invitation, "test", "https://idp.example", "theirs")
    db_session.commit()
    identity_id = identity.id
    assert client.post_form(f"/compte/connexion-externe/{others.id}/retirer").status_code == 404
    assert client.post_form(f"/compte/connexion-externe/{identity_id}/retirer").status_code == 302
    db_session.expire_all()
    assert db_session.get(ExternalIdentity, identity_id) is None
