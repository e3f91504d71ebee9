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


def linked(db_session: Session, user: User, subject: str, issuer: str = "https://idp.example") -> ExternalIdentity:
    """An identity the person linked herself (from Mon compte), made directly."""
    identity, _created = services.link_own_identity(db_session, user, "test", issuer, subject)
    db_session.commit()
    return identity


def actions(db_session: Session) -> list[str]:
    db_session.expire_all()
    return list(db_session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


# --- Services ---------------------------------------------------------------------------------------


def test_an_invitation_keeps_only_the_hash_of_its_token_and_works_once(db_session: Session) -> None:
    staff = factories.user(db_session, Role.ANIMATOR)
    invitation, token = services.create_invitation(db_session, staff, None, days=14)
    assert token not in invitation.token_hash and len(token) >= 40
    assert services.find_invitation(db_session, token) is invitation
    identity = services.link_identity(db_session, invitation, "test", "https://idp.example", "sub-1")
    assert identity.user_id == staff.id and invitation.used_at is not None
    assert services.find_invitation(db_session, token) is None
    with pytest.raises(services.LinkRefused):
        services.link_identity(db_session, invitation, "test", "https://idp.example", "sub-2")


def test_a_new_invitation_revokes_the_previous_one(db_session: Session) -> None:
    staff = factories.user(db_session, Role.PRESCRIBER)
    _, first = services.create_invitation(db_session, staff, None, days=14)
    _, second = services.create_invitation(db_session, staff, None, days=14)
    assert services.find_invitation(db_session, first) is None
    assert services.find_invitation(db_session, second) is not None


def test_an_expired_invitation_or_an_inactive_account_does_not_work(db_session: Session) -> None:
    staff = factories.user(db_session, Role.ASSESSOR)
    long_ago = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    _, token = services.create_invitation(db_session, staff, None, days=14, now=long_ago)
    assert services.find_invitation(db_session, token) is None
    _, token = services.create_invitation(db_session, staff, None, days=14)
    staff.active = False
    assert services.find_invitation(db_session, token) is None


def test_an_identity_signs_in_one_account_only(db_session: Session) -> None:
    first, second = factories.user(db_session, Role.BENEFICIARY), factories.user(db_session, Role.ANIMATOR)
    linked(db_session, first, "shared")
    other, _ = services.create_invitation(db_session, second, None, days=14)
    with pytest.raises(services.LinkRefused) as refused:
        services.link_identity(db_session, other, "test", "https://idp.example", "shared")
    assert refused.value.reason == "linked_elsewhere"
    assert other.used_at is None
    with pytest.raises(services.LinkRefused):
        services.link_own_identity(db_session, second, "test", "https://idp.example", "shared")


def test_the_last_way_in_cannot_be_removed_by_its_owner(db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    identity = linked(db_session, learner, "only")
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
    staff = factories.user(db_session, Role.PRESCRIBER, first_name="Lucie")
    token = invite(db_session, staff)
    page = client.get(f"/invitation/{token}").get_data(as_text=True)
    assert staff.username in page and "Relier mon compte Portail test" in page

    response = sso_sign_in(client, "lucie-at-idp", start=f"/invitation/{token}", data={"provider": "test"})
    home = response.headers["Location"]
    assert response.status_code == 302 and home != "/login"
    identity = db_session.scalars(select(ExternalIdentity).where(ExternalIdentity.user_id == staff.id)).one()
    assert (identity.issuer, identity.subject) == (provider["issuer"], "lucie-at-idp")
    assert "sso.linked" in actions(db_session)

    # The invitation is spent.
    client.post_form("/logout")
    assert client.get(f"/invitation/{token}").status_code == 404

    # From now on, the provider alone signs Lucie in.
    response = sso_sign_in(client, "lucie-at-idp")
    assert response.headers["Location"] == home
    logins = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.login",
                                                         AuditEvent.actor_id == staff.id)).all()
    assert [e.details["method"] for e in logins] == ["oidc", "oidc"]


def test_a_learner_links_her_identity_herself_then_it_signs_her_in(client: Any, login_as: Any,
                                                                   db_session: Session,
                                                                   provider: dict[str, Any]) -> None:
    learner = login_as(Role.BENEFICIARY, first_name="Lucie")
    page = client.get("/compte").get_data(as_text=True)
    assert "Relier mon compte Portail test" in page and 'action="/compte/connexion-externe/test/relier"' in page
    response = sso_sign_in(client, "lucie-at-idp", start="/compte/connexion-externe/test/relier")
    assert response.status_code == 302 and response.headers["Location"] == "/compte"
    assert "votre compte Portail test est relié" in client.get("/compte").get_data(as_text=True)
    identity = db_session.scalars(select(ExternalIdentity).where(ExternalIdentity.user_id == learner.id)).one()
    assert (identity.issuer, identity.subject) == (provider["issuer"], "lucie-at-idp")
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "sso.linked")).one()
    assert (event.actor_id, event.subject_user_id, event.details["by"]) == (learner.id, learner.id, "owner")
    client.post_form("/logout")
    response = sso_sign_in(client, "lucie-at-idp")
    assert response.headers["Location"] == "/moi"
    assert "Bonjour Lucie" in client.get("/moi").get_data(as_text=True)


def test_linking_my_identity_asks_who_i_am_first(client: Any, login_as: Any) -> None:
    login_as(Role.BENEFICIARY)
    with client.session_transaction() as sess:
        sess["auth_at"] = 0  # signed in long ago: someone else may be at the EPM's computer
    response = client.post_form("/compte/connexion-externe/test/relier")
    assert response.status_code == 302 and response.headers["Location"].startswith("/compte/confirmer")


def test_a_link_started_by_one_account_is_not_finished_by_another(app: Any, client: Any, login_as: Any,
                                                                  db_session: Session) -> None:
    first = login_as(Role.BENEFICIARY)
    started = client.post_form("/compte/connexion-externe/test/relier")
    callback = urlsplit(at_the_provider(started.headers["Location"], "not-mine"))
    client.post_form("/logout")
    login_as(Role.BENEFICIARY)  # the next person at the computer
    with client.session_transaction() as sess:
        assert "sso_flow" not in sess  # a new session: the flow is gone
    response = client.get(f"{callback.path}?{callback.query}")
    assert response.headers["Location"] == "/compte"
    assert db_session.scalars(select(ExternalIdentity).where(ExternalIdentity.subject == "not-mine")).all() == []
    assert first.id


def test_an_identity_linked_elsewhere_is_refused(client: Any, db_session: Session) -> None:
    first, second = factories.user(db_session, Role.PRESCRIBER), factories.user(db_session, Role.PRESCRIBER)
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
    learner = factories.user(db_session, Role.ANIMATOR)
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
    linked(db_session, learner, "leaving", issuer=provider["issuer"])
    sso_sign_in(client, "leaving")
    response = client.post_form("/logout")
    location = response.headers["Location"]
    assert location.startswith(provider["issuer"]) and "id_token_hint=" in location
    assert "post_logout_redirect_uri=http%3A%2F%2Flocalhost%2Flogin" in location
    assert client.get("/moi").status_code == 302


def test_reauthentication_through_the_provider(client: Any, db_session: Session, app: Any,
                                               provider: dict[str, Any]) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    learner.password_hash = None  # signs in through the provider only
    linked(db_session, learner, "fresh", issuer=provider["issuer"])
    sso_sign_in(client, "fresh")
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


def test_reauthentication_with_someone_elses_identity_is_refused(client: Any, db_session: Session,
                                                                 provider: dict[str, Any]) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    linked(db_session, learner, "mine", issuer=provider["issuer"])
    sso_sign_in(client, "mine")
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


def test_an_admin_invites_a_coordinator_and_sees_the_link_once(client: Any, login_as: Any,
                                                                db_session: Session) -> None:
    login_as(Role.ADMIN)
    coordinator = factories.user(db_session, Role.COORDINATOR, last_name="Invitée")
    db_session.commit()
    listing = client.get("/comptes/connexion-externe?q=invit").get_data(as_text=True)
    assert coordinator.username in listing
    response = client.post_form(f"/comptes/{coordinator.id}/connexion-externe/invitation")
    page = response.get_data(as_text=True)
    link = re.search(r"http://localhost/invitation/([A-Za-z0-9_-]+)", page)
    assert response.status_code == 200 and link
    found = services.find_invitation(db_session, link.group(1))
    assert found is not None and found.user_id == coordinator.id
    assert link.group(1) not in client.get(f"/comptes/{coordinator.id}/connexion-externe").get_data(as_text=True)
    client.post_form(f"/comptes/{coordinator.id}/connexion-externe/invitation/annuler")
    db_session.expire_all()
    assert services.find_invitation(db_session, link.group(1)) is None
    assert {"sso.invitation_created", "sso.invitation_revoked"} <= set(actions(db_session))


def test_nobody_creates_an_invitation_for_a_learner(client: Any, login_as: Any, db_session: Session) -> None:
    """Today a coordinator could create an invitation for a learner's account, link an identity of their own
    and be signed in as her: her private entries, her files, her consents. Nobody may, even her animator;
    she links her identity herself."""
    epm = factories.organisation(db_session)
    learner = factories.user(db_session, Role.BENEFICIARY, epm)
    animator = factories.user(db_session, Role.ANIMATOR, epm)
    db_session.commit()
    for role, user in ((Role.COORDINATOR, None), (Role.ADMIN, None), (Role.ANIMATOR, animator)):
        login_as(role, user=user)
        page = client.get(f"/comptes/{learner.id}/connexion-externe").get_data(as_text=True)
        assert "Créer une invitation" not in page and "relie elle-même son compte externe" in page, role
        assert client.post_form(f"/comptes/{learner.id}/connexion-externe/invitation").status_code == 404, role
        client.post_form("/logout")
    db_session.expire_all()
    assert db_session.scalars(select(SignInInvitation).where(SignInInvitation.user_id == learner.id)).all() == []
    with pytest.raises(services.LinkRefused):
        services.create_invitation(db_session, learner, None, days=14)


def test_an_invitation_made_for_a_learner_before_no_longer_works(db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    token = "made-before-the-rule-" + "x" * 30
    invitation = SignInInvitation(user_id=learner.id, token_hash=services._digest(token),
                                  expires_at=factories.NOW + dt.timedelta(days=10))
    db_session.add(invitation)
    db_session.flush()
    assert services.find_invitation(db_session, token) is None
    with pytest.raises(services.LinkRefused):
        services.link_identity(db_session, invitation, "test", "https://idp.example", "coordinator-own")


@pytest.mark.parametrize("inviter,target,same_organisation,in_use,allowed", [
    (Role.ADMIN, Role.ADMIN, False, True, True),
    (Role.ADMIN, Role.COORDINATOR, False, True, True),
    (Role.COORDINATOR, Role.PRESCRIBER, False, True, True),  # the coordination reads every ticket
    (Role.COORDINATOR, Role.ANIMATOR, False, True, False),  # not the journals an EPM reads
    (Role.COORDINATOR, Role.ANIMATOR, False, False, True),  # a new account, never used: its first way in
    (Role.COORDINATOR, Role.ASSESSOR, False, True, False),  # not the files a training body reads
    (Role.ADMIN, Role.ANIMATOR, False, True, False),
    (Role.COORDINATOR, Role.BENEFICIARY, False, True, False),
    (Role.COORDINATOR, Role.BENEFICIARY, False, False, False),
    (Role.ADMIN, Role.BENEFICIARY, False, True, False),
    (Role.COORDINATOR, Role.ADMIN, False, True, False),
    (Role.COORDINATOR, Role.COORDINATOR, False, True, False),
    (Role.ANIMATOR, Role.BENEFICIARY, True, True, False),  # her own animator: she links it herself
    (Role.ANIMATOR, Role.ANIMATOR, False, True, False),
    (Role.ANIMATOR, Role.ANIMATOR, True, True, True),  # a colleague of the same EPM reads the same journals
    (Role.ASSESSOR, Role.ASSESSOR, True, True, True),
    (Role.PRESCRIBER, Role.PRESCRIBER, False, True, False),
])
def test_nobody_creates_a_way_into_an_account_with_rights_over_data_they_may_not_read(
        db_session: Session, inviter: Role, target: Role, same_organisation: bool, in_use: bool,
        allowed: bool) -> None:
    from portfolio.permissions import can_create_sign_in_means

    user = factories.user(db_session, inviter)
    organisation = user.memberships[0].organisation if same_organisation else None
    account = factories.user(db_session, target, organisation)
    if not in_use:
        account.password_hash = None
    assert can_create_sign_in_means(user, account) is allowed


@pytest.mark.parametrize("inviter,target,allowed", [
    (Role.ADMIN, Role.COORDINATOR, True),
    (Role.COORDINATOR, Role.PRESCRIBER, True),
    (Role.COORDINATOR, Role.ANIMATOR, False),
    (Role.COORDINATOR, Role.BENEFICIARY, False),
    (Role.COORDINATOR, Role.ADMIN, False),
    (Role.ANIMATOR, Role.BENEFICIARY, False),  # a learner of another EPM
])
def test_the_invitation_route_follows_the_rule(client: Any, login_as: Any, db_session: Session,
                                               inviter: Role, target: Role, allowed: bool) -> None:
    login_as(inviter)
    account = factories.user(db_session, target)
    db_session.commit()
    response = client.post_form(f"/comptes/{account.id}/connexion-externe/invitation")
    assert response.status_code == (200 if allowed else 404)


def test_staff_remove_a_link(client: Any, login_as: Any, db_session: Session) -> None:
    login_as(Role.ADMIN)
    learner = factories.user(db_session, Role.BENEFICIARY)
    identity = linked(db_session, learner, "to-remove")
    identity_id = identity.id
    response = client.post_form(f"/comptes/{learner.id}/connexion-externe/{identity_id}/retirer")
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(ExternalIdentity, identity_id) is None
    assert "sso.unlinked" in actions(db_session)


def test_a_person_removes_their_own_link_only_if_another_way_in_remains(client: Any, login_as: Any,
                                                                         db_session: Session) -> None:
    learner = login_as(Role.BENEFICIARY)
    identity = linked(db_session, learner, "mine")
    assert "Ne plus me connecter avec Portail test" in client.get("/compte").get_data(as_text=True)
    other = factories.user(db_session, Role.BENEFICIARY)
    others = linked(db_session, other, "theirs")
    identity_id = identity.id
    assert client.post_form(f"/compte/connexion-externe/{others.id}/retirer").status_code == 404
    assert client.post_form(f"/compte/connexion-externe/{identity_id}/retirer").status_code == 302
    db_session.expire_all()
    assert db_session.get(ExternalIdentity, identity_id) is None
