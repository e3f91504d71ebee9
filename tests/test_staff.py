"""Staff accounts: who may grant which role, creating and deactivating accounts, invitations by link (through a
real SMTP server on loopback) and by printed card, and the commands ``ticketnet admin`` / ``accounts``."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from pypdf import PdfReader
from sqlalchemy.orm import Session

from portfolio.audit.models import AuditEvent
from portfolio.auth import cards
from portfolio.auth.models import LoginCard, Membership, Role, User
from portfolio.auth.services import find_user
from portfolio.orgs.models import OrgKind
from portfolio.permissions import can_grant, can_invite_staff, can_manage_staff
from portfolio.staff import services
from portfolio.staff.models import StaffInvitation
from tests import factories
from tests.mailbox import Mailbox, free_port

GOOD_PASSWORD = "noyer causse riviere quercy"
NOW = factories.NOW


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def lead_of(session: Session, epm: Any, **fields: Any) -> User:
    user = factories.user(session, Role.ANIMATOR, epm, **fields)
    user.memberships[0].lead = True
    session.flush()
    return user


@pytest.fixture
def world(db_session: Session) -> dict[str, Any]:
    epm, other_epm = factories.epm(db_session), factories.epm(db_session)
    prescriber_org = factories.organisation(db_session, OrgKind.PRESCRIBER)
    body = factories.organisation(db_session, OrgKind.TRAINING_BODY)
    coordination = factories.organisation(db_session, OrgKind.COORDINATION)
    closed = factories.organisation(db_session, OrgKind.EPM, active=False)
    return {
        "epm": epm, "other_epm": other_epm, "prescriber_org": prescriber_org, "body": body,
        "coordination": coordination, "closed": closed,
        "admin": factories.user(db_session, Role.ADMIN, coordination),
        "coordinator": factories.user(db_session, Role.COORDINATOR, coordination),
        "lead": lead_of(db_session, epm),
        "animator": factories.user(db_session, Role.ANIMATOR, epm),
        "prescriber": factories.user(db_session, Role.PRESCRIBER, prescriber_org),
    }


# (actor, organisation, role, lead) -> may grant. Pinned: nobody grants more rights than they hold.
GRANTS = [
    ("admin", "epm", "animator", False, True), ("admin", "epm", "animator", True, True),
    ("admin", "coordination", "admin", False, True), ("admin", "coordination", "coordinator", False, True),
    ("admin", "epm", "prescriber", False, False),  # a prescriber's role is held in a prescriber
    ("admin", "epm", "beneficiary", False, False),  # a learner's role comes from registering a ticket
    ("admin", "closed", "animator", False, False),  # a deactivated EPM
    ("admin", "prescriber_org", "prescriber", True, False),  # only an animator can be a lead
    ("coordinator", "epm", "animator", False, True), ("coordinator", "epm", "animator", True, True),
    ("coordinator", "prescriber_org", "prescriber", False, True), ("coordinator", "body", "assessor", False, True),
    ("coordinator", "coordination", "coordinator", False, False),
    ("coordinator", "coordination", "admin", False, False),
    ("lead", "epm", "animator", False, True), ("lead", "epm", "animator", True, False),
    ("lead", "other_epm", "animator", False, False), ("lead", "prescriber_org", "prescriber", False, False),
    ("animator", "epm", "animator", False, False),
    ("prescriber", "prescriber_org", "prescriber", False, False),
]


@pytest.mark.parametrize(("actor", "org", "role", "lead", "expected"), GRANTS)
def test_who_may_grant_which_role(world: dict[str, Any], actor: str, org: str, role: str, lead: bool,
                                  expected: bool) -> None:
    assert can_grant(world[actor], world[org], role, lead) is expected


def test_who_manages_which_account(db_session: Session, world: dict[str, Any]) -> None:
    epm, other_epm = world["epm"], world["other_epm"]
    colleague = factories.user(db_session, Role.ANIMATOR, epm)
    in_two_epms = factories.user(db_session, Role.ANIMATOR, epm)
    db_session.add(Membership(user=in_two_epms, organisation=other_epm, role="animator"))
    also_learner = factories.user(db_session, Role.ANIMATOR, epm)
    db_session.add(Membership(user=also_learner, organisation=epm, role="beneficiary"))
    nobody = factories.user(db_session)
    db_session.flush()
    lead, coordinator, admin = world["lead"], world["coordinator"], world["admin"]
    assert can_manage_staff(lead, colleague) and not can_manage_staff(lead, in_two_epms)
    assert not can_manage_staff(lead, lead_of(db_session, epm))  # another lead: a right the lead cannot grant
    assert not can_manage_staff(lead, lead) and not can_manage_staff(world["animator"], colleague)
    assert can_manage_staff(coordinator, in_two_epms) and can_manage_staff(coordinator, world["prescriber"])
    assert not can_manage_staff(coordinator, world["admin"]) and not can_manage_staff(coordinator, also_learner)
    assert not can_manage_staff(coordinator, nobody)  # an account without a role: administrators only
    assert can_manage_staff(admin, nobody) and can_manage_staff(admin, also_learner) and not can_manage_staff(admin,
                                                                                                           admin)
    # A way in is only ever made for an active staff account: never for a learner's.
    assert not can_invite_staff(admin, also_learner) and can_invite_staff(admin, colleague)
    colleague.active = False
    assert not can_invite_staff(admin, colleague)


def test_creating_an_account_checks_the_name_and_the_password(db_session: Session, app_context: None) -> None:
    user = services.create_account(db_session, "  Claire.Vidal ", first_name="Claire", last_name="Vidal",
                                   password=GOOD_PASSWORD)
    assert user.username == "claire.vidal" and user.password_hash and GOOD_PASSWORD not in user.password_hash
    with pytest.raises(services.StaffRefused, match="déjà pris"):
        services.create_account(db_session, "CLAIRE.VIDAL")
    with pytest.raises(services.StaffRefused, match="minuscules"):
        services.create_account(db_session, "cl")  # 2 characters: one too few
    assert services.create_account(db_session, "clv").username == "clv"  # 3: enough
    with pytest.raises(services.StaffRefused, match="trop court"):
        services.create_account(db_session, "paul.roques", password="onze lettre")  # 11 characters
    with pytest.raises(services.StaffRefused, match="identifiant"):
        services.create_account(db_session, "paul.roques", password="paul.roques du lot")
    with pytest.raises(services.StaffRefused, match="adresse"):
        services.create_account(db_session, "paul.roques", email="paul@")
    assert services.create_account(db_session, "paul.roques", password="douze lettre").username == "paul.roques"


def test_granting_follows_the_kind_and_the_rule(db_session: Session, world: dict[str, Any], app_context: None) -> None:
    account = services.create_account(db_session, "new.person")
    with pytest.raises(services.StaffRefused, match="se tient dans un organisme de type"):
        services.grant(db_session, account, world["epm"], Role.PRESCRIBER)
    with pytest.raises(services.StaffRefused, match="désactivé"):
        services.grant(db_session, account, world["closed"], Role.ANIMATOR)
    with pytest.raises(services.StaffRefused, match="plus de droits"):
        services.grant(db_session, account, world["coordination"], Role.COORDINATOR, actor=world["coordinator"])
    with pytest.raises(services.StaffRefused, match="plus de droits"):
        services.grant(db_session, account, world["other_epm"], Role.ANIMATOR, actor=world["lead"])
    services.grant(db_session, account, world["epm"], Role.ANIMATOR, actor=world["lead"])
    services.grant(db_session, account, world["prescriber_org"], Role.PRESCRIBER, actor=world["coordinator"])
    assert account.roles == {Role.ANIMATOR, Role.PRESCRIBER}  # a person may hold roles in several organisations
    with pytest.raises(services.StaffRefused, match="déjà ce rôle"):
        services.grant(db_session, account, world["epm"], Role.ANIMATOR, actor=world["coordinator"])
    services.grant(db_session, account, world["epm"], Role.ANIMATOR, lead=True, actor=world["coordinator"])
    assert [m.lead for m in account.memberships if m.role == "animator"] == [True]
    events = db_session.scalars(sa.select(AuditEvent.action).where(AuditEvent.subject_user_id == account.id)).all()
    assert events.count("staff.role_granted") == 3 and "staff.account_created" in events


def test_the_last_administrator_stays(db_session: Session, world: dict[str, Any], app_context: None) -> None:
    admin = world["admin"]
    db_session.execute(sa.update(User).where(User.id != admin.id, User.id.in_(
        sa.select(Membership.user_id).where(Membership.role == "admin"))).values(active=False))
    with pytest.raises(services.StaffRefused, match="dernier compte administrateur"):
        services.set_active(db_session, admin, False)
    with pytest.raises(services.StaffRefused, match="dernier compte administrateur"):
        services.remove_role(db_session, admin, admin.memberships[0])
    second = factories.user(db_session, Role.ADMIN, world["coordination"])
    assert services.active_admin_count(db_session) == 2
    services.remove_role(db_session, admin, admin.memberships[0], actor=second)
    assert admin.roles == frozenset() and db_session.get(User, admin.id) is not None  # the account stays


def test_an_invitation_link_is_a_digest_works_once_and_expires(db_session: Session, world: dict[str, Any],
                                                                 app_context: None) -> None:
    account = factories.user(db_session, Role.ANIMATOR, world["epm"])
    invitation, token = services.invite_by_link(db_session, account, actor=world["lead"], days=7, now=NOW)
    stored = db_session.scalars(sa.select(StaffInvitation.token_hash)).all()
    assert token not in stored and hashlib.sha256(token.encode()).hexdigest() in stored
    assert account.password_hash is None  # the invitation is the way in: the old password stops
    expires = invitation.expires_at
    assert expires == NOW + dt.timedelta(days=7)
    assert services.find_invitation(db_session, token, expires - dt.timedelta(seconds=1)) is not None
    assert services.find_invitation(db_session, token, expires) is None  # expired on the dot
    assert services.find_invitation(db_session, token + "x", NOW) is None
    services.accept(db_session, invitation, GOOD_PASSWORD, NOW)
    assert services.find_invitation(db_session, token, NOW) is None
    with pytest.raises(services.StaffRefused, match="déjà servi"):
        services.accept(db_session, invitation, "un autre mot de passe long", NOW)


def test_a_new_way_in_replaces_the_previous_one(db_session: Session, world: dict[str, Any], app_context: None) -> None:
    account = factories.user(db_session, Role.PRESCRIBER, world["prescriber_org"])
    assert services.access_state(db_session, account) == "password"
    first, first_token = services.invite_by_link(db_session, account, actor=world["admin"], days=7,
                                                 expected_state="password")
    assert services.access_state(db_session, account) == f"invitation-{first.id}"
    # A second click of the same page (it still says "password"): refused, the first link keeps working.
    with pytest.raises(cards.AccessChanged):
        services.invite_by_link(db_session, account, actor=world["admin"], days=7, expected_state="password")
    assert services.find_invitation(db_session, first_token) is not None
    card, _code = services.new_access_card(db_session, account, actor=world["admin"], days=7,
                                           expected_state=f"invitation-{first.id}")
    assert services.find_invitation(db_session, first_token) is None
    assert services.access_state(db_session, account) == f"card-{card.id}"
    with pytest.raises(services.StaffRefused):
        services.invite_by_link(db_session, account, actor=world["lead"], days=7)  # not the lead's to invite


def test_no_way_into_a_learners_account(db_session: Session, world: dict[str, Any], app_context: None) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY, world["epm"])
    for actor in (world["admin"], None):  # not from the pages, not from the commands
        with pytest.raises(services.StaffRefused, match="apprenant"):
            services.invite_by_link(db_session, learner, actor=actor, days=7)
        with pytest.raises(services.StaffRefused):
            services.new_access_card(db_session, learner, actor=actor, days=7)
    assert db_session.scalar(sa.select(sa.func.count(StaffInvitation.id))) == 0


# --- Pages ------------------------------------------------------------------------------------------


@pytest.fixture
def mailbox() -> Any:
    with Mailbox() as box:
        yield box


def create_form(org: Any, username: str, access: str, **extra: Any) -> dict[str, Any]:
    return {"first_name": "Claire", "last_name": "Vidal", "username": username, "organisation": org.id,
            "role": "animator", "access": access, **extra}


def test_an_animator_invited_by_email_chooses_a_password(app: Flask, client: Any, login_as: Any,
                                                         db_session: Session, world: dict[str, Any],
                                                         mailbox: Mailbox) -> None:
    app.config["SMTP_URL"] = mailbox.url
    login_as(user=world["admin"])
    response = client.post_form("/personnel/nouveau", create_form(world["epm"], "claire.vidal", "email",
                                                                   email="claire.vidal@mairie-figeac.fr"))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "L'invitation est partie à claire.vidal@mairie-figeac.fr" in html.unescape(page) and "/acces/" not in page
    assert mailbox.recipients == [["claire.vidal@mairie-figeac.fr"]]
    message = mailbox.messages[0]
    assert message["Subject"] == "Votre accès à Ticket Net" and message["To"] == "claire.vidal@mairie-figeac.fr"
    body = mailbox.body()
    assert "claire.vidal" in body and world["epm"].name in body and world["admin"].display_name in body
    link = re.search(r"http://localhost(/acces/[\w-]+)", body).group(1)
    client.post_form("/logout")

    invited = client.get(link)
    assert invited.status_code == 200 and "Bienvenue, Claire Vidal" in invited.get_data(as_text=True)
    weak = client.post_form(link, {"new_password": "azerty", "confirm_password": "azerty"})
    assert weak.status_code == 422 and "trop court" in weak.get_data(as_text=True)
    done = client.post_form(link, {"new_password": GOOD_PASSWORD, "confirm_password": GOOD_PASSWORD})
    assert done.headers["Location"] == "/epm"
    assert "Bienvenue" in client.get("/epm").get_data(as_text=True)
    client.post_form("/logout")
    assert client.get(link).status_code == 404  # single use
    assert client.post_form("/login", {"username": "claire.vidal", "password": GOOD_PASSWORD}).status_code == 302
    actions = set(db_session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.actor_id == world["admin"].id)))
    assert {"staff.account_created", "staff.role_granted", "staff.invitation_created"} <= actions


def test_without_smtp_the_link_is_shown_once(client: Any, login_as: Any, db_session: Session,
                                             world: dict[str, Any]) -> None:
    login_as(user=world["coordinator"])
    response = client.post_form("/personnel/nouveau", create_form(world["epm"], "paul.roques", "email",
                                                                   email="paul@example.org"))
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200 and "Voici le lien d'invitation" in page
    assert "Aucun serveur de courriel n'est réglé" in page
    link = re.search(r"http://localhost/acces/[\w-]+", page).group(0)
    account = find_user(db_session, "paul.roques")
    assert "/acces/" not in client.get(f"/personnel/{account.id}").get_data(as_text=True)
    invitation = db_session.scalars(sa.select(StaffInvitation).where(StaffInvitation.user_id == account.id)).one()
    assert invitation.delivery == "shown" and link.endswith(link.rsplit("/", 1)[1])
    # The same form sent again (a reload): a clear French message, still one account.
    again = client.post_form("/personnel/nouveau", create_form(world["epm"], "paul.roques", "email",
                                                                email="paul@example.org"))
    assert again.status_code == 422 and "déjà pris" in html.unescape(again.get_data(as_text=True))
    assert db_session.scalar(sa.select(sa.func.count(User.id)).where(User.username == "paul.roques")) == 1


def test_an_unreachable_mail_server_shows_the_link_instead(app: Flask, client: Any, login_as: Any,
                                                           world: dict[str, Any]) -> None:
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"  # nothing listens there
    app.config["SMTP_TIMEOUT_SECONDS"] = 2
    login_as(user=world["admin"])
    response = client.post_form("/personnel/nouveau", create_form(world["epm"], "rose.cayla", "email",
                                                                   email="rose@example.org"))
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200 and "Le courriel n'a pas pu partir" in page and "/acces/" in page


def test_a_prescriber_gets_a_printed_card(client: Any, login_as: Any, db_session: Session,
                                          world: dict[str, Any]) -> None:
    login_as(user=world["coordinator"])
    response = client.post_form("/personnel/nouveau", {
        "first_name": "Sophie", "last_name": "Bernard", "username": "sophie.bernard",
        "organisation": world["prescriber_org"].id, "role": "prescriber", "access": "card"})
    assert response.status_code == 302 and response.headers["Location"].endswith("#carte")
    account = find_user(db_session, "sophie.bernard")
    page = client.get(f"/personnel/{account.id}").get_data(as_text=True)
    assert '<input type="hidden" name="replaces" value="none">' in page
    card = client.post_form(f"/personnel/{account.id}/carte", {"replaces": "none"})
    assert card.mimetype == "application/pdf"
    text = pdf_text(card.data)
    assert "sophie.bernard" in text and world["prescriber_org"].name in text and "/premiere-connexion" in text
    code = re.search(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b", text).group(1)
    # The reload of the same form: refused, the card just printed keeps working.
    again = client.post_form(f"/personnel/{account.id}/carte", {"replaces": "none"})
    assert again.status_code == 409 and "vient d'être faite" in html.unescape(again.get_data(as_text=True))
    # Replacing the card needs the box ticked.
    state = f"card-{cards.pending_card(db_session, account.id).id}"
    assert client.post_form(f"/personnel/{account.id}/carte", {"replaces": state}).status_code == 422
    client.post_form("/logout")
    step = client.post_form("/premiere-connexion", {"username": "sophie.bernard", "code": code})
    assert step.headers["Location"] == "/premiere-connexion/mot-de-passe"
    done = client.post_form("/premiere-connexion/mot-de-passe", {"password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD})
    assert done.headers["Location"] == "/prescripteur"


def test_rights_on_the_pages(client: Any, login_as: Any, db_session: Session, world: dict[str, Any]) -> None:
    login_as(user=world["coordinator"])
    form = client.get("/personnel/nouveau").get_data(as_text=True)
    assert 'value="coordinator"' not in form and 'value="admin"' not in form
    refused = client.post_form("/personnel/nouveau", {**create_form(world["coordination"], "x.y", "card"),
                                                      "role": "coordinator"})
    assert refused.status_code == 422 and find_user(db_session, "x.y") is None
    assert client.get(f"/personnel/{world['admin'].id}").status_code == 404
    client.post_form("/logout")

    login_as(user=world["lead"])
    form = client.get("/personnel/nouveau").get_data(as_text=True)
    assert world["epm"].name in form and world["other_epm"].name not in form and 'name="lead"' not in form
    made = client.post_form("/personnel/nouveau", create_form(world["epm"], "julie.marty", "card", lead="y"))
    assert made.status_code == 302
    account = find_user(db_session, "julie.marty")
    assert [(m.organisation_id, m.role, m.lead) for m in account.memberships] == [(world["epm"].id, "animator", False)]
    other = client.post_form("/personnel/nouveau", create_form(world["other_epm"], "marc.marty", "card"))
    assert other.status_code == 422 and find_user(db_session, "marc.marty") is None
    client.post_form("/logout")

    login_as(user=world["animator"])  # not the lead: sees the team, adds nobody
    assert client.get("/personnel").status_code == 200
    assert client.get("/personnel/nouveau").headers["Location"].endswith("/personnel")
    assert client.get(f"/personnel/{account.id}").status_code == 404
    client.post_form("/logout")
    login_as(user=world["prescriber"])
    assert client.get("/personnel").status_code == 404


def test_deactivating_ends_the_sessions_at_once(app: Flask, client: Any, login_as: Any, db_session: Session,
                                                world: dict[str, Any]) -> None:
    from tests.conftest import TestClient

    colleague = factories.user(db_session, Role.ANIMATOR, world["epm"])
    db_session.commit()
    elsewhere: TestClient = app.test_client()  # type: ignore[assignment]
    assert elsewhere.post_form("/login", {"username": colleague.username,
                                          "password": factories.PASSWORD}).status_code == 302
    assert elsewhere.get("/epm").status_code == 200
    login_as(user=world["lead"])
    assert client.post_form(f"/personnel/{colleague.id}/desactiver").status_code == 302
    assert elsewhere.get("/epm").headers["Location"].startswith("/login")  # the very next request
    assert elsewhere.post_form("/login", {"username": colleague.username,
                                          "password": factories.PASSWORD}).status_code == 200  # refused
    assert client.post_form(f"/personnel/{colleague.id}/reactiver").status_code == 302
    assert elsewhere.post_form("/login", {"username": colleague.username,
                                          "password": factories.PASSWORD}).status_code == 302
    actions = db_session.scalars(sa.select(AuditEvent.action).where(AuditEvent.subject_user_id == colleague.id)).all()
    assert "staff.deactivated" in actions and "staff.reactivated" in actions
    assert client.post_form(f"/personnel/{world['lead'].id}/desactiver").status_code == 404  # not oneself


def test_a_role_in_one_more_organisation_and_taken_back(client: Any, login_as: Any, db_session: Session,
                                                        world: dict[str, Any]) -> None:
    account = factories.user(db_session, Role.ANIMATOR, world["epm"])
    login_as(user=world["coordinator"])
    added = client.post_form(f"/personnel/{account.id}/roles", {"organisation": world["prescriber_org"].id,
                                                                "role": "prescriber"})
    assert added.status_code == 302
    db_session.expire_all()
    account = db_session.get(User, account.id)
    assert account.roles == {Role.ANIMATOR, Role.PRESCRIBER}
    membership = next(m for m in account.memberships if m.role == "prescriber")
    assert client.post_form(f"/personnel/{account.id}/retirer-role", {"membership": membership.id}).status_code == 302
    db_session.expire_all()
    assert db_session.get(User, account.id).roles == {Role.ANIMATOR}


def test_staff_pages_queries_do_not_grow(client: Any, login_as: Any, db_session: Session, world: dict[str, Any],
                                         count_queries: Any) -> None:
    login_as(user=world["admin"])

    def counts() -> tuple[int, int]:
        with count_queries() as listing:
            assert client.get("/personnel").status_code == 200
        with count_queries() as page:
            assert client.get(f"/personnel/{world['animator'].id}").status_code == 200
        return listing.count, page.count

    before = counts()
    for n in range(8):
        someone = factories.user(db_session, Role.ANIMATOR, world["other_epm"])
        services.invite_by_link(db_session, someone, actor=None, days=7) if n % 2 else cards.new_card(
            db_session, someone, None)
        db_session.add(Membership(user=world["animator"], organisation=factories.epm(db_session), role="animator"))
    db_session.commit()
    assert counts() == before
    assert before[0] <= 8 and before[1] <= 14, before


# --- Commands -----------------------------------------------------------------------------------------


def test_admin_create(runner: Any, db_session: Session) -> None:
    done = runner.invoke(args=["admin", "create", "Anne.Lacaze", "--password", GOOD_PASSWORD, "--first-name", "Anne",
                               "--last-name", "Lacaze", "--email", "anne@lot.fr"])
    assert done.exit_code == 0, done.output
    assert "Compte administrateur « anne.lacaze » créé" in done.output
    admin = find_user(db_session, "anne.lacaze")
    assert admin.roles == {Role.ADMIN} and admin.memberships[0].organisation.kind == "coordination"
    taken = runner.invoke(args=["admin", "create", "anne.lacaze", "--password", GOOD_PASSWORD])
    assert taken.exit_code == 1 and "« anne.lacaze » est déjà pris" in taken.output
    weak = runner.invoke(args=["admin", "create", "paul.admin", "--password", "motdepasse123"])
    assert weak.exit_code == 1 and "trop courant" in weak.output and find_user(db_session, "paul.admin") is None
    # Without --password: asked twice (the second time to confirm).
    asked = runner.invoke(args=["admin", "create", "rose.admin"], input=f"{GOOD_PASSWORD}\n{GOOD_PASSWORD}\n")
    assert asked.exit_code == 0, asked.output
    assert asked.output.count("Mot de passe") == 1 and "encore une fois" in asked.output
    assert find_user(db_session, "rose.admin").memberships[0].organisation_id == admin.memberships[0].organisation_id
    events = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "staff.account_created")).all()
    assert {e.details["via"] for e in events} == {"cli"}


def test_accounts_commands(runner: Any, db_session: Session, tmp_path: Path, app: Flask) -> None:
    epm = factories.epm(db_session, code="epm-figeac", name="EPM de Figeac")
    factories.organisation(db_session, OrgKind.PRESCRIBER, code="caf46", name="CAF du Lot")
    db_session.commit()
    made = runner.invoke(args=["accounts", "create", "claire.vidal", "--role", "animator", "--organisation",
                               "epm-figeac", "--lead", "--first-name", "Claire", "--last-name", "Vidal",
                               "--email", "claire@figeac.fr"])
    assert made.exit_code == 0, made.output
    wrong_kind = runner.invoke(args=["accounts", "create", "x.y", "--role", "prescriber", "--organisation",
                                     "epm-figeac"])
    assert wrong_kind.exit_code == 1 and "EPM de Figeac n'en est pas un" in wrong_kind.output
    assert runner.invoke(args=["accounts", "create", "x.y", "--role", "boss", "--organisation",
                               "caf46"]).exit_code == 2
    assert runner.invoke(args=["accounts", "create", "p.cabrol", "--role", "prescriber", "--organisation",
                               "caf46"]).exit_code == 0
    with Mailbox() as box:
        app.config["SMTP_URL"] = box.url
        sent = runner.invoke(args=["accounts", "invite", "claire.vidal"])
        assert sent.exit_code == 0 and "Invitation envoyée à claire@figeac.fr" in sent.output
        assert "/acces/" in box.body() and "Animateur·trice : EPM de Figeac" in box.body()
    card_file = tmp_path / "carte.pdf"
    printed = runner.invoke(args=["accounts", "invite", "p.cabrol", "--card", str(card_file)])
    assert printed.exit_code == 0 and "p.cabrol" in pdf_text(card_file.read_bytes())
    listed = json.loads(runner.invoke(args=["accounts", "list", "--organisation", "epm-figeac", "--json"]).output)
    assert listed == [{"username": "claire.vidal", "name": "Claire Vidal", "email": "claire@figeac.fr",
                       "active": True, "sign_in": "invitation",
                       "roles": [{"role": "animator", "organisation": "epm-figeac", "lead": True}]}]
    assert runner.invoke(args=["accounts", "deactivate", "p.cabrol"]).exit_code == 0
    everyone = {a["username"]: a for a in json.loads(runner.invoke(args=["accounts", "list", "--json"]).output)}
    assert everyone["p.cabrol"]["active"] is False and everyone["p.cabrol"]["sign_in"] == "none"  # its card stopped
    assert runner.invoke(args=["accounts", "deactivate", "nobody"]).exit_code == 1
    assert db_session.scalar(sa.select(sa.func.count(LoginCard.id)).where(LoginCard.revoked_at.is_(None),
                                                                           LoginCard.used_at.is_(None))) == 0
    assert epm.id
