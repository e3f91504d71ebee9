"""The demo's stories: tickets at every stage, and one learner's history (Marie Dupont at Cahors)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from competences.loader import B2I_CODE, latest_framework
from competences.models import Assessment, Competence, Level, Voice
from portfolio.auth import services as account_services
from portfolio.auth.models import Role, User
from portfolio.catalogue.models import Module
from portfolio.catalogue.scheme import Scheme, load_scheme_config
from portfolio.db import utcnow
from portfolio.enrolment.models import (
    Attendance,
    AttendanceStatus,
    Enrolment,
    PathModule,
    PositioningInterview,
    WorkshopSession,
)
from portfolio.journal.models import EntryStatus, EntryTag, JournalEntry, Visibility
from portfolio.markdown import render_markdown
from portfolio.orgs.models import Organisation
from portfolio.tickets.models import Ticket, TicketStatus
from portfolio.tickets.reference import make_reference
from portfolio.timeutil import LOCAL_TZ, add_months, local_today

DEPARTMENT = "46"

# (first name, last name, birth date, commune, public category, prescriber, months since issue, stage)
OTHER_TICKETS = (
    ("Jean", "Delmas", dt.date(1951, 3, 14), "Cahors", "seniors", "caf46", 1, TicketStatus.ISSUED),
    ("Fatima", "Benali", dt.date(1984, 7, 2), "Figeac", "femmes-isolees", "caf46", 2, TicketStatus.REGISTERED),
    ("Louis", "Carrière", dt.date(1958, 11, 23), "Gourdon", "seniors", "cg46", 4, TicketStatus.IN_PROGRESS),
    ("Odile", "Lafon", dt.date(1962, 5, 9), "Souillac", "conjoints-independants", "cg46", 9, TicketStatus.COMPLETED),
    ("Kevin", "Roques", dt.date(1990, 1, 30), "Cahors", "minima-sociaux", "cg46", 14, TicketStatus.EXPIRED),
    ("Annie", "Pons", dt.date(1947, 9, 17), "Gramat", "seniors", "caf46", 3, TicketStatus.CANCELLED),
)

MARIE_ENTRIES = (
    ("Ma première séance", "J'ai allumé l'ordinateur **toute seule**.\n\nJ'ai appris à utiliser la souris.",
     ["souris", "débuts"]),
    ("Écrire un courriel", "Aujourd'hui j'ai écrit à ma fille.\n\n- ouvrir la messagerie\n- écrire\n- envoyer",
     ["courriel", "famille"]),
    ("Mes photos de vacances", "J'ai rangé mes photos dans un dossier *Vacances*.", ["photos"]),
)


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=LOCAL_TZ).astimezone(dt.timezone.utc)


def _ticket(scheme: Scheme, serial: int, prescriber: Organisation, issued_on: dt.date, **identity: object) -> Ticket:
    return Ticket(
        reference=make_reference(DEPARTMENT, issued_on.year, serial),
        prescriber_id=prescriber.id,
        issued_on=issued_on,
        expires_on=add_months(issued_on, scheme.validity_months) - dt.timedelta(days=1),
        value_cents=scheme.value_cents,
        hours=scheme.hours,
        sessions=scheme.sessions,
        session_minutes=scheme.session_minutes,
        **identity,
    )


def _next_serial(session: Session) -> int:
    return (session.scalar(sa.select(sa.func.count(Ticket.id))) or 0) + 1


def create_stories(
    session: Session, orgs: dict[str, Organisation], users: dict[str, User], today: dt.date | None = None
) -> None:
    today = today or local_today()
    scheme = load_scheme_config(session, "ticket-net-lot")
    animator = users["animateur.cahors"]
    marie = users["marie.dupont"]
    modules = {m.number: m for m in session.scalars(sa.select(Module))}
    framework = latest_framework(session, B2I_CODE)
    competences = {
        c.code: c for c in session.scalars(sa.select(Competence).where(Competence.framework_id == framework.id))
    } if framework else {}
    serial = _next_serial(session)

    # Tickets at every stage, for the prescribers' and the coordinator's pages.
    for first, last, born, commune, public, prescriber, months_ago, stage in OTHER_TICKETS:
        ticket = _ticket(scheme, serial, orgs[prescriber], add_months(today, -months_ago), first_name=first,
                         last_name=last, birth_date=born, commune=commune, public_category=public)
        serial += 1
        ticket.status = TicketStatus.IN_PROGRESS.value if stage is TicketStatus.EXPIRED else stage.value
        if stage is TicketStatus.CANCELLED:
            ticket.cancelled_at = utcnow()
        session.add(ticket)
        if stage in (TicketStatus.REGISTERED, TicketStatus.IN_PROGRESS, TicketStatus.COMPLETED, TicketStatus.EXPIRED):
            epm = orgs["epm-figeac"] if commune == "Figeac" else orgs["epm-gourdon"] if commune == "Gourdon" else (
                orgs["epm-cahors"])
            learner = account_services.create_user(
                session, f"{first}.{last}".lower().replace("è", "e"), first_name=first, last_name=last)
            account_services.add_membership(session, learner, epm, Role.BENEFICIARY)
            session.flush()
            ticket.beneficiary_id = learner.id
            session.add(Enrolment(ticket=ticket, epm_id=epm.id, learner_id=learner.id,
                                  active=stage is not TicketStatus.COMPLETED))

    # Marie Dupont: a CAF ticket, registered at Cahors, 4 workshops attended, 2 to come.
    issued = today - dt.timedelta(days=75)
    ticket = _ticket(scheme, serial, orgs["caf46"], issued, first_name=marie.first_name, last_name=marie.last_name,
                     birth_date=dt.date(1956, 4, 12), commune="Cahors", public_category="seniors",
                     phone="06 12 34 56 78")
    ticket.status = TicketStatus.IN_PROGRESS.value
    ticket.beneficiary_id = marie.id
    session.add(ticket)
    path_numbers = (1, 2, 3, 5, 4, 6, 7, 13, 9, 10)
    enrolment = Enrolment(
        ticket=ticket, epm_id=orgs["epm-cahors"].id, learner_id=marie.id, registered_by_id=animator.id,
        registered_at=_at(issued + dt.timedelta(days=10), 10),
        interview=PositioningInterview(
            held_on=issued + dt.timedelta(days=10), animator_id=animator.id,
            projects="Écrire à mes petits-enfants et faire mes démarches en ligne toute seule.",
        ),
        path=[PathModule(module_id=modules[n].id, position=i) for i, n in enumerate(path_numbers)],
    )
    session.add(enrolment)
    session.flush()

    sessions: list[WorkshopSession] = []
    for index, number in enumerate(path_numbers[:6]):
        day = issued + dt.timedelta(days=17 + 7 * index) if index < 4 else today + dt.timedelta(days=2 + 7 * (index - 4))
        workshop = WorkshopSession(epm_id=orgs["epm-cahors"].id, module_id=modules[number].id,
                                   animator_id=animator.id, starts_at=_at(day, 9), duration_minutes=120,
                                   capacity=5)
        workshop.attendances = [Attendance(
            enrolment_id=enrolment.id,
            status=AttendanceStatus.PRESENT.value if index < 4 else AttendanceStatus.EXPECTED.value,
            recorded_by_id=animator.id if index < 4 else None,
            recorded_at=_at(day, 11) if index < 4 else None,
        )]
        sessions.append(workshop)
    session.add_all(sessions)
    session.flush()

    # Her positioning (self voice) and what her animator validated at the workshops.
    start = _at(issued + dt.timedelta(days=10), 10)
    for code in ("D1.1", "D1.2", "D5.1", "D5.2", "D2.1"):
        if code in competences:
            session.add(Assessment(learner_id=marie.id, competence_id=competences[code].id, voice=Voice.SELF.value,
                                   level=Level.NOT_YET.value, assessor_id=marie.id, created_at=start))
    validated = (("D1.1", 0, Level.IN_PROGRESS), ("D1.1", 1, Level.ACQUIRED), ("D1.2", 1, Level.ACQUIRED),
                 ("D1.3", 1, Level.IN_PROGRESS), ("D5.1", 2, Level.ACQUIRED), ("D5.2", 3, Level.IN_PROGRESS))
    for code, index, level in validated:
        if code in competences:
            session.add(Assessment(learner_id=marie.id, competence_id=competences[code].id,
                                   voice=Voice.ANIMATOR.value, level=level.value, assessor_id=animator.id,
                                   session_id=sessions[index].id,
                                   created_at=sessions[index].starts_at + dt.timedelta(minutes=110)))

    for index, (title, body, tags) in enumerate(MARIE_ENTRIES):
        when = sessions[index].starts_at + dt.timedelta(hours=3)
        entry = JournalEntry(owner_id=marie.id, title=title, body_md=body, body_html=render_markdown(body),
                             entry_date=when.astimezone(LOCAL_TZ).date(), status=EntryStatus.PUBLISHED.value,
                             visibility=Visibility.EPM.value if index else Visibility.PRIVATE.value,
                             session_id=sessions[index].id, module_id=sessions[index].module_id,
                             created_at=when, updated_at=when, published_at=when)
        entry.tags = [EntryTag(tag=t) for t in tags]
        session.add(entry)

    session.flush()
