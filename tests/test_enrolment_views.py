"""The animator's pages, the login card and the learner's first sign-in, the coordination's EPM offers."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from competences.models import Assessment
from portfolio.auth.models import Role, User
from portfolio.enrolment import services as enrolment
from portfolio.enrolment.models import Attendance, Enrolment, WorkshopSession
from portfolio.orgs.models import Organisation
from portfolio.tickets.models import TicketStatus
from portfolio.timeutil import LOCAL_TZ
from tests import factories
from tests.test_tickets_views import pdf_text

BIRTH = dt.date(1950, 6, 1)


def setup_epm(session: Session) -> tuple[Organisation, Any]:
    epm = factories.epm(session, name="EPM de Figeac")
    ticket = factories.ticket(session, last_name="Lacoste", first_name="Hélène", birth_date=BIRTH)
    return epm, ticket


def registered(session: Session, epm: Organisation, **identity: Any) -> Enrolment:
    ticket = factories.ticket(session, birth_date=BIRTH, **identity)
    done = enrolment.register_ticket(session, epm, None, ticket.reference, ticket.last_name, BIRTH, dt.date.today())
    offered = [m.id for m in enrolment.offered_modules(session, epm.id)][:10]
    enrolment.record_interview(session, factories.scheme(session), done.enrolment, None, dt.date.today(), "x",
                               offered, {})
    return done.enrolment


def test_register_refusal_keeps_the_input(client: Any, login_as: Any, db_session: Session) -> None:
    epm, ticket = setup_epm(db_session)
    login_as(Role.ANIMATOR, organisation_=epm)
    mistyped = ticket.reference[:-1] + ("A" if ticket.reference[-1] != "A" else "B")
    page = client.post_form("/epm/inscrire", {"epm": epm.id, "reference": mistyped, "last_name": "Lacoste",
                                              "birth_date": "1950-06-01"}).get_data(as_text=True)
    assert "vérifiez le caractère de contrôle" in page and f'value="{mistyped}"' in page
    page = client.post_form("/epm/inscrire", {"epm": epm.id, "reference": ticket.reference, "last_name": "Dupont",
                                              "birth_date": "1950-06-01"}).get_data(as_text=True)
    assert "ne correspondent pas" in html.unescape(page)
    assert db_session.scalar(sa.select(sa.func.count(Enrolment.id)).where(Enrolment.ticket_id == ticket.id)) == 0


def test_register_then_print_the_login_card_then_first_sign_in(app: Any, client: Any, login_as: Any,
                                                               db_session: Session) -> None:
    epm, ticket = setup_epm(db_session)
    login_as(Role.ANIMATOR, organisation_=epm)
    response = client.post_form("/epm/inscrire", {"epm": epm.id, "reference": ticket.reference.replace("-", ""),
                                                  "last_name": "lacoste", "birth_date": "01/06/1950"})
    assert response.status_code == 302
    learner_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Le ticket est inscrit" in learner_page and "helene.lacoste" in learner_page
    enrolment_id = int(response.headers["Location"].rsplit("/", 1)[1])
    card = client.post_form(f"/epm/apprenants/{enrolment_id}/carte", {"replaces": "none"})
    assert card.status_code == 200 and card.mimetype == "application/pdf"
    text = pdf_text(card.data)
    assert "helene.lacoste" in text and "Hélène Lacoste" in text and "EPM de Figeac" in text
    code = re.search(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b", text).group(1)
    assert "/premiere-connexion" in text
    client.post_form("/logout")

    # The learner types the code on the first sign-in page, then chooses a password.
    wrong = client.post_form("/premiere-connexion", {"username": "helene.lacoste", "code": "AAAA-AAAA"})
    assert "Identifiant ou code incorrect" in wrong.get_data(as_text=True)
    step = client.post_form("/premiere-connexion", {"username": "Helene.Lacoste", "code": code.lower()})
    assert step.headers["Location"] == "/premiere-connexion/mot-de-passe"
    mismatch = client.post_form("/premiere-connexion/mot-de-passe", {"password": "jardin-soleil", "confirm": "autre"})
    assert "ne sont pas pareils" in mismatch.get_data(as_text=True)
    done = client.post_form("/premiere-connexion/mot-de-passe",
                            {"password": "jardin-soleil-noisette", "confirm": "jardin-soleil-noisette"})
    assert done.headers["Location"] == "/moi"
    page = client.get("/moi").get_data(as_text=True)
    assert "Bonjour Hélène" in page and ticket.reference in page
    client.post_form("/logout")
    # The code is spent; the password works.
    again = client.post_form("/premiere-connexion", {"username": "helene.lacoste", "code": code})
    assert again.status_code == 200
    assert client.post_form("/login", {"username": "helene.lacoste",
                                       "password": "jardin-soleil-noisette"}).headers["Location"] == "/moi"


def test_typing_the_code_on_the_login_page_leads_to_choosing_a_password(client: Any, login_as: Any,
                                                                       db_session: Session) -> None:
    epm, _ticket = setup_epm(db_session)
    enrolment_ = registered(db_session, epm, last_name="Cayla", first_name="Rose")
    login_as(Role.ANIMATOR, organisation_=epm)
    text = pdf_text(client.post_form(f"/epm/apprenants/{enrolment_.id}/carte", {"replaces": "none"}).data)
    code = re.search(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b", text).group(1)
    client.post_form("/logout")
    response = client.post_form("/login", {"username": "rose.cayla", "password": code})
    assert response.headers["Location"] == "/premiere-connexion/mot-de-passe"


def test_a_new_card_signs_the_learner_out_and_replaces_the_password(app: Any, client: Any, login_as: Any,
                                                                     db_session: Session) -> None:
    from portfolio.auth import cards

    epm, _ticket = setup_epm(db_session)
    enrolment_ = registered(db_session, epm, last_name="Mouly", first_name="Paul")
    learner = db_session.get(User, enrolment_.learner_id)
    with app.app_context():
        card, _code = cards.new_card(db_session, learner, None)
        cards.redeem(db_session, card, "mon ancien mot de passe")
    login_as(Role.ANIMATOR, organisation_=epm)
    page = client.get(f"/epm/apprenants/{enrolment_.id}/carte").get_data(as_text=True)
    assert "son mot de passe actuel ne marchera plus" in html.unescape(page)
    assert 'name="replaces" value="password"' in page
    # Without the box ticked, nothing is printed and the password still works.
    refused = client.post_form(f"/epm/apprenants/{enrolment_.id}/carte", {"replaces": "password"})
    assert refused.status_code == 422 and refused.mimetype == "text/html"
    db_session.expire_all()
    assert db_session.get(User, learner.id).password_hash is not None
    printed = client.post_form(f"/epm/apprenants/{enrolment_.id}/carte", {"replaces": "password", "confirm": "y"})
    assert printed.status_code == 200 and printed.mimetype == "application/pdf"
    db_session.expire_all()
    assert db_session.get(User, learner.id).password_hash is None


def test_another_epm_sees_nothing(client: Any, login_as: Any, db_session: Session) -> None:
    epm, _ticket = setup_epm(db_session)
    enrolment_ = registered(db_session, epm)
    workshop = factories.workshop(db_session, epm, factories.NOW)
    login_as(Role.ANIMATOR, organisation_=factories.epm(db_session))
    for url in (f"/epm/apprenants/{enrolment_.id}", f"/epm/apprenants/{enrolment_.id}/entretien",
                f"/epm/ateliers/{workshop.id}", f"/epm/ateliers/{workshop.id}/emargement.pdf"):
        assert client.get(url).status_code == 404, url
    assert client.post_form(f"/epm/apprenants/{enrolment_.id}/carte", {"replaces": "none"}).status_code == 404
    assert client.get(f"/epm/apprenants/{enrolment_.id}/carte").status_code == 404
    assert client.get(f"/epm/ateliers/{workshop.id}/cartes").status_code == 404
    assert client.post_form(f"/epm/ateliers/{workshop.id}/cartes", {"learner": enrolment_.learner_id,
                                                                    f"state-{enrolment_.learner_id}": "none"}
                            ).status_code == 404
    assert client.post_form(f"/epm/ateliers/{workshop.id}/reserver", {"enrolment": enrolment_.id}).status_code == 404
    assert "Lacoste" not in client.get("/epm/apprenants").get_data(as_text=True)


def test_interview_form(client: Any, login_as: Any, db_session: Session) -> None:
    epm, ticket = setup_epm(db_session)
    done = enrolment.register_ticket(db_session, epm, None, ticket.reference, "Lacoste", BIRTH, dt.date.today())
    competences = enrolment.b2i_competences(db_session)
    offered = [m.id for m in enrolment.offered_modules(db_session, epm.id)]
    login_as(Role.ANIMATOR, organisation_=epm)
    url = f"/epm/apprenants/{done.enrolment.id}/entretien"
    page = client.get(url).get_data(as_text=True)
    assert competences[0].code in page and "Non évalué" in page
    data: dict[str, Any] = {"held_on": "2026-03-10", "projects": "Envoyer des photos à ma fille.", "notes": "",
                            "modules": offered[:9], f"level-animator-{competences[0].id}": "in_progress",
                            f"level-self-{competences[0].id}": "not_yet"}
    page = client.post_form(url, data).get_data(as_text=True)
    assert "Choisissez 10 modules" in page and "Envoyer des photos à ma fille." in page
    assert 'value="in_progress" selected' in page  # the levels typed are kept
    response = client.post_form(url, {**data, "modules": offered[:10]})
    assert response.status_code == 302
    rows = db_session.scalars(sa.select(Assessment).where(Assessment.learner_id == done.learner.id)).all()
    assert {(r.voice, r.level) for r in rows} == {("animator", "in_progress"), ("self", "not_yet")}
    learner_page = client.get(f"/epm/apprenants/{done.enrolment.id}").get_data(as_text=True)
    assert "Envoyer des photos à ma fille." in learner_page and "Modifier l'entretien" in html.unescape(learner_page)


def test_plan_book_attend_and_print_the_sheet(client: Any, login_as: Any, db_session: Session) -> None:
    epm, _ticket = setup_epm(db_session)
    first = registered(db_session, epm, last_name="Fabre", first_name="Anne")
    second = registered(db_session, epm, last_name="Salvat", first_name="Marc")
    module = enrolment.offered_modules(db_session, epm.id)[0]
    animator = login_as(Role.ANIMATOR, organisation_=epm)
    day = dt.date.today() + dt.timedelta(days=3)
    too_big = client.post_form("/epm/ateliers/nouveau", {"epm": epm.id, "module": module.id, "day": day.isoformat(),
                                                         "start": "09:30", "capacity": 9})
    assert "de 1 à 6 personnes" in too_big.get_data(as_text=True)
    response = client.post_form("/epm/ateliers/nouveau", {"epm": epm.id, "module": module.id,
                                                          "day": day.isoformat(), "start": "09:30", "capacity": 5})
    assert response.status_code == 302
    workshop = db_session.scalar(sa.select(WorkshopSession).where(WorkshopSession.epm_id == epm.id))
    assert workshop.starts_at == dt.datetime.combine(day, dt.time(9, 30), tzinfo=LOCAL_TZ)
    assert workshop.animator_id == animator.id and workshop.duration_minutes == 120
    assert module.title in client.get("/epm/ateliers").get_data(as_text=True)
    page = client.get(f"/epm/ateliers/{workshop.id}").get_data(as_text=True)
    assert "Fabre Anne" in page and "Salvat Marc" in page
    for person in (first, second):
        client.post_form(f"/epm/ateliers/{workshop.id}/reserver", {"enrolment": person.id})
    assert db_session.scalar(sa.select(sa.func.count(Attendance.id)).where(Attendance.session_id == workshop.id)) == 2

    sheet = client.get(f"/epm/ateliers/{workshop.id}/emargement.pdf")
    text = pdf_text(sheet.data)
    assert "Feuille d'émargement" in text and "Fabre Anne" in text and "Salvat Marc" in text
    assert enrolment.load_enrolment(db_session, first.id).ticket.reference in text and module.title[:20] in text

    early = client.post_form(f"/epm/ateliers/{workshop.id}/presences", {f"status-{first.id}": "present"})
    assert early.status_code == 422 and "quand l&#39;atelier aura commencé" in early.get_data(as_text=True)
    workshop.starts_at = factories.NOW - dt.timedelta(hours=2)
    db_session.commit()
    response = client.post_form(f"/epm/ateliers/{workshop.id}/presences",
                                {f"status-{first.id}": "present", f"status-{second.id}": "excused"})
    assert response.status_code == 302
    db_session.expire_all()
    statuses = dict(db_session.execute(sa.select(Attendance.enrolment_id, Attendance.status).where(
        Attendance.session_id == workshop.id)).all())
    assert statuses == {first.id: "present", second.id: "excused"}
    assert enrolment.load_enrolment(db_session, first.id).ticket.status == TicketStatus.IN_PROGRESS.value
    assert enrolment.load_enrolment(db_session, second.id).ticket.status == TicketStatus.REGISTERED.value
    dashboard = client.get("/epm/presences").get_data(as_text=True)
    assert "Tableau de bord des présences" in dashboard and "50 %" in dashboard


def test_expired_ticket_attendance_is_refused_with_a_message(client: Any, login_as: Any, db_session: Session) -> None:
    epm, _ticket = setup_epm(db_session)
    person = registered(db_session, epm, last_name="Teulière", first_name="Luc")
    workshop = factories.workshop(db_session, epm, factories.NOW - dt.timedelta(hours=3),
                                  module=enrolment.offered_modules(db_session, epm.id)[0])
    enrolment.book(db_session, workshop, person)
    enrolment.load_enrolment(db_session, person.id).ticket.expires_on = dt.date.today() - dt.timedelta(days=1)
    db_session.flush()
    login_as(Role.ANIMATOR, organisation_=epm)
    response = client.post_form(f"/epm/ateliers/{workshop.id}/presences", {f"status-{person.id}": "present"})
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert "Le ticket de Luc Teulière a expiré" in page
    assert 'value="present" checked' in page  # the marks typed are shown again


def test_roster_query_count_does_not_grow(client: Any, login_as: Any, db_session: Session,
                                          count_queries: Any) -> None:
    epm, _ticket = setup_epm(db_session)
    registered(db_session, epm, last_name="Un")
    login_as(Role.ANIMATOR, organisation_=epm)
    with count_queries() as few:
        assert client.get("/epm/apprenants").status_code == 200
    for n in range(6):
        registered(db_session, epm, last_name=f"Autre{n}")
    db_session.commit()
    with count_queries() as many:
        assert "Autre5" in client.get("/epm/apprenants").get_data(as_text=True)
    assert few.count == many.count <= 6


def test_workshop_page_query_count_does_not_grow(client: Any, login_as: Any, db_session: Session,
                                                 count_queries: Any) -> None:
    epm, _ticket = setup_epm(db_session)
    module = enrolment.offered_modules(db_session, epm.id)[0]
    workshop = factories.workshop(db_session, epm, factories.NOW + dt.timedelta(days=1), module=module, capacity=6)
    enrolment.book(db_session, workshop, registered(db_session, epm, last_name="Seul"))
    login_as(Role.ANIMATOR, organisation_=epm)
    with count_queries() as few:
        assert client.get(f"/epm/ateliers/{workshop.id}").status_code == 200
    for n in range(4):
        enrolment.book(db_session, workshop, registered(db_session, epm, last_name=f"Groupe{n}"))
    registered(db_session, epm, last_name="Libre")
    db_session.commit()
    with count_queries() as many:
        assert "Groupe3" in client.get(f"/epm/ateliers/{workshop.id}").get_data(as_text=True)
    assert few.count == many.count <= 8


def test_animator_home_lists_expiring_tickets(client: Any, login_as: Any, db_session: Session) -> None:
    epm, _ticket = setup_epm(db_session)
    soon = factories.ticket(db_session, last_name="Bientôt", birth_date=BIRTH,
                            issued_on=dt.date.today() - dt.timedelta(days=350))
    enrolment.register_ticket(db_session, epm, None, soon.reference, "Bientôt", BIRTH, dt.date.today())
    login_as(Role.ANIMATOR, organisation_=epm)
    page = client.get("/epm").get_data(as_text=True)
    assert "Tickets qui expirent dans les 30 jours" in page and "Bientôt" in page


def test_learner_page_in_plain_words_with_path(client: Any, login_as: Any, db_session: Session) -> None:
    epm, _ticket = setup_epm(db_session)
    person = registered(db_session, epm, last_name="Vidal", first_name="Léa")
    module = enrolment.load_enrolment(db_session, person.id).path[0].module
    past = factories.workshop(db_session, epm, factories.NOW - dt.timedelta(days=3), module=module)
    enrolment.book(db_session, past, person)
    enrolment.record_attendance(db_session, past, {person.id: enrolment.AttendanceStatus.PRESENT}, None,
                                factories.NOW)
    learner = db_session.get(User, person.learner_id)
    learner.password_hash = factories.PASSWORD_HASH
    login_as(user=learner)
    page = client.get("/moi").get_data(as_text=True)
    assert "Il vous reste 18 heures sur 20." in page
    assert "Vous avez suivi 1 atelier sur 10." in page
    assert "Mon parcours" in page and f"{module.title} <span class=\"path-state\">(fait)" in page
    assert page.count("(à venir)") == 9


def test_coordinator_keeps_the_epm_offer(client: Any, login_as: Any, db_session: Session) -> None:
    epm = factories.epm(db_session, offering=range(1, 3), name="EPM de Gramat")
    login_as(Role.COORDINATOR)
    assert "EPM de Gramat" in client.get("/coordination/offres").get_data(as_text=True)
    wanted = [m.id for m in factories.modules(db_session) if m.number in (2, 5, 20)]
    response = client.post_form(f"/coordination/offres/{epm.id}", {"module": wanted, "capacity": 8},
                                follow_redirects=True)
    assert "3 modules" in response.get_data(as_text=True)
    db_session.expire_all()
    assert [m.number for m in enrolment.offered_modules(db_session, epm.id)] == [2, 5, 20]
    assert db_session.get(Organisation, epm.id).capacity == 8
    client.post_form("/logout")
    login_as(Role.ANIMATOR, organisation_=epm)
    assert client.post_form(f"/coordination/offres/{epm.id}", {"capacity": 3}).status_code == 404
