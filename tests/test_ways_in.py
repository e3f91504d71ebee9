"""Every new way into an account — a login card printed or used, an identity linked, an invitation made, a
password changed — is announced to its holder at her next sign-in and listed on "Qui s'est connecté"; login
cards are printed only by her EPM's animators, never for an account that holds a staff role too."""

from __future__ import annotations

import html
import re
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from portfolio.audit.models import AuditEvent
from portfolio.auth import cards
from portfolio.auth.models import Role, User
from portfolio.sso import services as sso
from tests import factories

BANNER = re.compile(r"Depuis votre dernière connexion, il y a (une nouvelle façon|(\d+) nouvelles façons)")


def banner(client: Any) -> int:
    """How many new ways in the page announces (0: no announcement)."""
    found = BANNER.search(html.unescape(client.get("/compte").get_data(as_text=True)))
    if found is None:
        return 0
    return int(found.group(2)) if found.group(2) else 1


def sign_in(client: Any, user: User, password: str = factories.PASSWORD) -> None:
    response = client.post_form("/login", {"username": user.username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]


def learner_at_epm(session: Session) -> tuple[User, User, Any]:
    epm = factories.organisation(session, name="EPM de Figeac")
    learner = factories.user(session, Role.BENEFICIARY, epm, first_name="Odette")
    animator = factories.user(session, Role.ANIMATOR, epm, first_name="Paul", last_name="Martin")
    enrolment = factories.enrolment(session, factories.ticket(session), epm, learner)
    session.commit()
    return learner, animator, enrolment


def use_card(client: Any, username: str, code: str, password: str) -> None:
    first = client.post_form("/premiere-connexion", {"username": username, "code": code})
    assert first.status_code == 302, first.get_data(as_text=True)[:1500]
    chosen = client.post_form("/premiere-connexion/mot-de-passe", {"password": password, "confirm": password})
    assert chosen.status_code == 302, chosen.get_data(as_text=True)[:3000]


def print_card(app: Flask, client: Any, animator: User, enrolment: Any) -> str:
    """The animator prints a card through the page; its code is read back from the PDF's text."""
    import io

    from pypdf import PdfReader

    client.post_form("/logout")
    sign_in(client, animator)
    page = client.get(f"/epm/apprenants/{enrolment.id}/carte").get_data(as_text=True)
    replaces = re.search(r'name="replaces" value="([^"]+)"', page)
    assert replaces, page[:1500]
    response = client.post_form(f"/epm/apprenants/{enrolment.id}/carte",
                                {"replaces": replaces.group(1), "confirm": "y"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    code = re.search(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b", text)
    assert code, text
    client.post_form("/logout")
    return code.group(1)


def test_someone_who_used_her_card_is_announced_and_listed(app: Flask, client: Any, db_session: Session) -> None:
    """A card printed at the EPM and used by someone else: at her next sign-in she is told, and the list says
    who printed it and when it was used."""
    learner, animator, enrolment = learner_at_epm(db_session)
    sign_in(client, learner)
    assert banner(client) == 0
    client.post_form("/logout")
    code = print_card(app, client, animator, enrolment)
    use_card(client, learner.username, code, "le mot de passe de quelqu'un d'autre")  # not her
    client.post_form("/logout")
    code = print_card(app, client, animator, enrolment)  # she cannot sign in any more: a new card at the EPM
    use_card(client, learner.username, code, "mon vrai jardin au printemps")
    assert banner(client) == 2  # the card someone used, the card she was just given
    page = html.unescape(client.get("/compte/connexions").get_data(as_text=True))
    assert page.count("Une carte de connexion a été imprimée pour ce compte") == 2
    assert "Paul Martin (EPM de Figeac)" in page
    assert page.count("Une carte de connexion a servi : un nouveau mot de passe a été choisi") == 2


def test_the_announcement_is_read_once_and_the_list_stays(app: Flask, client: Any, db_session: Session) -> None:
    learner, _animator, _enrolment = learner_at_epm(db_session)
    sign_in(client, learner)
    client.post_form("/logout")
    with app.app_context():
        from portfolio.extensions import db

        sso.link_own_identity(db.session, db.session.get(User, learner.id), "test", "https://idp.example", "x")
        from portfolio.audit import services as audit

        audit.record(db.session, "sso.linked", actor=None, subject_user_id=learner.id, details={"provider": "test"})
        db.session.commit()
    sign_in(client, learner)
    assert banner(client) == 1
    page = html.unescape(client.get("/moi").get_data(as_text=True))
    assert "Voir qui s'est connecté" in page
    seen = client.post_form("/compte/connexions/vu")
    assert seen.headers["Location"] == "/compte/connexions"
    assert banner(client) == 0
    assert "Un compte externe (portail, FranceConnect…) a été relié" in client.get("/compte/connexions").get_data(
        as_text=True)
    client.post_form("/logout")
    sign_in(client, learner)
    assert banner(client) == 0  # announced once: nothing new since


def test_a_new_account_signing_in_for_the_first_time_is_not_alarmed(app: Flask, client: Any,
                                                                    db_session: Session) -> None:
    learner, animator, enrolment = learner_at_epm(db_session)
    learner.password_hash = None
    learner.last_login_at = None
    db_session.commit()
    code = print_card(app, client, animator, enrolment)
    use_card(client, learner.username, code, "mon vrai jardin au printemps")
    assert banner(client) == 0


def test_an_invitation_and_a_password_change_are_announced(client: Any, login_as: Any, db_session: Session) -> None:
    coordinator = factories.user(db_session, Role.COORDINATOR)
    db_session.commit()
    sign_in(client, coordinator)
    client.post_form("/logout")
    login_as(Role.ADMIN)
    assert client.post_form(f"/comptes/{coordinator.id}/connexion-externe/invitation").status_code == 200
    client.post_form("/logout")
    sign_in(client, coordinator)
    assert banner(client) == 1
    assert "Une invitation à relier un compte externe a été créée" in client.get("/compte/connexions").get_data(
        as_text=True)


def test_the_learner_sees_who_signed_in_beside_who_read(client: Any, login_as: Any) -> None:
    login_as(Role.BENEFICIARY)
    page = html.unescape(client.get("/moi/partage/consultations").get_data(as_text=True))
    assert "Qui a consulté mon portfolio, qui s'est connecté" in page
    assert "Qui s'est connecté à mon compte" in page and "Connexion réussie" in page


def test_the_history_costs_the_same_whatever_its_length(client: Any, login_as: Any, db_session: Session,
                                                        count_queries: Any) -> None:
    user = login_as(Role.BENEFICIARY)
    with count_queries() as few:
        assert client.get("/compte/connexions").status_code == 200
    for n in range(60):
        db_session.add(AuditEvent(action="auth.login", actor_id=user.id, actor_name="x", details={"n": n}))
    db_session.commit()
    with count_queries() as many:
        page = client.get("/compte/connexions").get_data(as_text=True)
    assert "Voir les plus anciennes" in page and many.count == few.count


# --- Login cards ---------------------------------------------------------------------------------------------


def test_only_her_epms_animators_print_her_card_and_never_for_a_staff_account(
        client: Any, login_as: Any, db_session: Session) -> None:
    learner, animator, enrolment = learner_at_epm(db_session)
    elsewhere = factories.user(db_session, Role.ANIMATOR)
    db_session.commit()
    login_as(user=elsewhere)
    assert client.post_form(f"/epm/apprenants/{enrolment.id}/carte").status_code == 404
    client.post_form("/logout")
    login_as(Role.COORDINATOR)
    assert client.post_form(f"/epm/apprenants/{enrolment.id}/carte").status_code == 404
    client.post_form("/logout")
    # A learner who is also on a team (an assessor here): no card, which would let an animator into that account.
    factories.add_role(db_session, learner, Role.ASSESSOR)
    db_session.commit()
    login_as(user=animator)
    assert "il n'a pas de carte de connexion" in html.unescape(client.get(f"/epm/apprenants/{enrolment.id}").get_data(
        as_text=True))
    assert client.post_form(f"/epm/apprenants/{enrolment.id}/carte").status_code == 404
    db_session.expire_all()
    assert cards.pending_card(db_session, learner.id) is None
    assert db_session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.action == "auth.login_card")) == 0


def test_a_staff_invitation_made_for_an_account_in_use_is_announced(client: Any, db_session: Session,
                                                                     app: Flask) -> None:
    """Whoever manages a staff account may give it a new way in (the holder forgot her password); the holder
    is told at her next sign-in, and the list says who made it."""
    from portfolio.staff import services as staff

    epm = factories.organisation(db_session, name="EPM de Gourdon")
    animator = factories.user(db_session, Role.ANIMATOR, epm, first_name="Claire")
    admin = factories.user(db_session, Role.ADMIN, first_name="Anne", last_name="Lacaze")
    db_session.commit()
    sign_in(client, animator)
    client.post_form("/logout")
    with app.test_request_context():
        _invitation, token = staff.invite_by_link(db_session, animator, actor=admin, days=7)
        found = staff.find_invitation(db_session, token)
        assert found is not None
        staff.accept(db_session, found, "un nouveau mot de passe pour le lundi")
    db_session.commit()
    sign_in(client, animator, "un nouveau mot de passe pour le lundi")
    assert banner(client) == 1
    listed = html.unescape(client.get("/compte/connexions").get_data(as_text=True))
    assert "Une invitation à choisir un nouveau mot de passe a été créée" in listed and "Anne Lacaze" in listed
