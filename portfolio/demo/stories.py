"""The demo's stories: tickets at every stage, and one learner's history (Marie Dupont at Cahors)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from competences.loader import B2I_CODE, latest_framework
from competences.models import Competence, Level, Voice
from competences.services import record_assessment
from portfolio.auth.models import User
from portfolio.catalogue.scheme import Scheme, load_scheme_config
from portfolio.enrolment import services as enrolment
from portfolio.enrolment.models import AttendanceStatus, Enrolment, WorkshopSession
from portfolio.journal.models import EntryStatus, EntryTag, JournalEntry, Visibility
from portfolio.markdown import render_markdown
from portfolio.orgs.models import Organisation
from portfolio.tickets import services as tickets
from portfolio.tickets.models import Ticket, TicketStatus
from portfolio.timeutil import LOCAL_TZ, local_today

# (first name, last name, birth date, commune, public category, prescriber, days since issue, stage, EPM)
OTHER_TICKETS = (
    ("Jean", "Delmas", dt.date(1951, 3, 14), "Cahors", "seniors", "caf46", 30, TicketStatus.ISSUED, None),
    ("Fatima", "Benali", dt.date(1984, 7, 2), "Figeac", "femmes-isolees", "caf46", 60, TicketStatus.REGISTERED,
     "epm-figeac"),
    ("Louis", "Carrière", dt.date(1958, 11, 23), "Gourdon", "seniors", "cg46", 120, TicketStatus.IN_PROGRESS,
     "epm-gourdon"),
    ("Odile", "Lafon", dt.date(1962, 5, 9), "Souillac", "conjoints-independants", "cg46", 270,
     TicketStatus.COMPLETED, "epm-cahors"),
    ("Kevin", "Roques", dt.date(1990, 1, 30), "Cahors", "minima-sociaux", "cg46", 425, TicketStatus.EXPIRED,
     "epm-cahors"),
    ("Annie", "Pons", dt.date(1947, 9, 17), "Gramat", "seniors", "caf46", 90, TicketStatus.CANCELLED, None),
    # Valid for a few more weeks: listed as expiring soon for Cahors and for the Conseil Général.
    ("Gilberte", "Vayssié", dt.date(1944, 12, 1), "Cahors", "seniors", "cg46", 345, TicketStatus.IN_PROGRESS,
     "epm-cahors"),
)
# How many workshops each stage has attended.
ATTENDED = {TicketStatus.IN_PROGRESS: 3, TicketStatus.COMPLETED: 10, TicketStatus.EXPIRED: 4}

MARIE_ENTRIES = (
    ("Ma première séance", "J'ai allumé l'ordinateur **toute seule**.\n\nJ'ai appris à utiliser la souris.",
     ["souris", "débuts"]),
    ("Écrire un courriel", "Aujourd'hui j'ai écrit à ma fille.\n\n- ouvrir la messagerie\n- écrire\n- envoyer",
     ["courriel", "famille"]),
    ("Mes photos de vacances", "J'ai rangé mes photos dans un dossier *Vacances*.", ["photos"]),
)


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=LOCAL_TZ).astimezone(dt.UTC)


def _issue(session: Session, scheme: Scheme, prescriber: Organisation, issued_on: dt.date, first: str, last: str,
           born: dt.date, commune: str, public: str, phone: str = "") -> Ticket:
    holder = tickets.Holder(last, first, born, commune, public, phone)
    return tickets.issue_tickets(session, scheme, prescriber, [holder], issued_on)[0]


def _register_with_interview(
    session: Session, scheme: Scheme, epm: Organisation, animator: User | None, ticket: Ticket, on: dt.date,
    path_numbers: tuple[int, ...] | None = None, projects: str = "", levels: enrolment.InitialLevels | None = None,
) -> Enrolment:
    done = enrolment.register_ticket(session, epm, animator, ticket.reference, ticket.last_name, ticket.birth_date, on)
    done.enrolment.registered_at = _at(on, 10)
    offered = {m.number: m.id for m in enrolment.offered_modules(session, epm.id)}
    numbers = path_numbers or tuple(sorted(offered))[: scheme.modules_to_choose]
    enrolment.record_interview(session, scheme, done.enrolment, animator, on, projects,
                               [offered[n] for n in numbers], levels or {})
    return done.enrolment


def _workshops(
    session: Session, scheme: Scheme, epm: Organisation, animator: User | None, learner: Enrolment,
    days: list[dt.date], attended: int, path_ids: list[int],
) -> list[WorkshopSession]:
    """Workshops on ``days`` following the learner's path; the first ``attended`` marked present."""
    planned = []
    for index, day in enumerate(days):
        workshop = enrolment.plan_session(session, scheme, epm, animator, path_ids[index % len(path_ids)], _at(day, 9))
        enrolment.book(session, workshop, learner)
        if index < attended:
            enrolment.record_attendance(session, workshop, {learner.id: AttendanceStatus.PRESENT}, animator,
                                        workshop.ends_at)
        planned.append(workshop)
    return planned


def create_stories(
    session: Session, orgs: dict[str, Organisation], users: dict[str, User], today: dt.date | None = None
) -> None:
    """Every ticket goes through the services an EPM and a prescriber use: issue, register, interview,
    plan, book, attendance."""
    today = today or local_today()
    scheme = load_scheme_config(session, "ticket-net-lot")
    animator = users["animateur.cahors"]
    marie = users["marie.dupont"]
    framework = latest_framework(session, B2I_CODE)
    competences = {
        c.code: c for c in session.scalars(sa.select(Competence).where(Competence.framework_id == framework.id))
    } if framework else {}

    # Tickets at every stage, for the prescribers', the animators' and the coordinator's pages.
    for first, last, born, commune, public, prescriber, days_ago, stage, epm_code in OTHER_TICKETS:
        issued = today - dt.timedelta(days=days_ago)
        ticket = _issue(session, scheme, orgs[prescriber], issued, first, last, born, commune, public)
        if stage is TicketStatus.CANCELLED:
            tickets.cancel_ticket(session, ticket, today)
        if epm_code is None:
            continue
        epm = orgs[epm_code]
        on = issued + dt.timedelta(days=12)
        learner = _register_with_interview(session, scheme, epm, animator if epm_code == "epm-cahors" else None,
                                           ticket, on, projects=f"{first} veut se servir d'internet au quotidien.")
        attended = ATTENDED.get(stage, 0)
        if attended:
            path_ids = [m.id for m in enrolment.offered_modules(session, epm.id)][: scheme.modules_to_choose]
            _workshops(session, scheme, epm, None, learner,
                       [on + dt.timedelta(days=7 * (i + 1)) for i in range(attended)], attended, path_ids)

    # Marie Dupont: a CAF ticket, registered at Cahors, 4 workshops attended, 2 to come.
    issued = today - dt.timedelta(days=75)
    ticket = _issue(session, scheme, orgs["caf46"], issued, marie.first_name, marie.last_name, dt.date(1956, 4, 12),
                    "Cahors", "seniors", phone="06 12 34 56 78")
    ticket.beneficiary_id = marie.id  # her demo account already exists
    path_numbers = (1, 2, 3, 5, 4, 6, 7, 13, 9, 10)
    levels = {competences[code].id: (Level.NOT_YET, Level.NOT_YET) for code in ("D1.1", "D1.2", "D5.1", "D5.2", "D2.1")
              if code in competences}
    interview_day = issued + dt.timedelta(days=10)
    marie_enrolment = _register_with_interview(
        session, scheme, orgs["epm-cahors"], animator, ticket, interview_day, path_numbers,
        "Écrire à mes petits-enfants et faire mes démarches en ligne toute seule.", levels)
    modules = {m.number: m.id for m in enrolment.offered_modules(session, orgs["epm-cahors"].id)}
    days = [issued + dt.timedelta(days=17 + 7 * i) for i in range(4)] + [
        today + dt.timedelta(days=2 + 7 * i) for i in range(2)]
    sessions = _workshops(session, scheme, orgs["epm-cahors"], animator, marie_enrolment, days, 4,
                          [modules[n] for n in path_numbers])

    # What her animator validated at the workshops (the animator's grid, one row per judgement).
    validated = (("D1.1", 0, Level.IN_PROGRESS), ("D1.1", 1, Level.ACQUIRED), ("D1.2", 1, Level.ACQUIRED),
                 ("D1.3", 1, Level.IN_PROGRESS), ("D5.1", 2, Level.ACQUIRED), ("D5.2", 3, Level.IN_PROGRESS))
    for code, index, level in validated:
        if code in competences:
            record_assessment(session, marie, competences[code], Voice.ANIMATOR, level, animator,
                              at_session=sessions[index], at=sessions[index].starts_at + dt.timedelta(minutes=110))

    for index, (title, body, tags) in enumerate(MARIE_ENTRIES):
        when = sessions[index].starts_at + dt.timedelta(hours=3)
        entry = JournalEntry(owner_id=marie.id, title=title, body_md=body, body_html=render_markdown(body),
                             entry_date=when.astimezone(LOCAL_TZ).date(), status=EntryStatus.PUBLISHED.value,
                             visibility=Visibility.EPM.value if index else Visibility.PRIVATE.value,
                             in_portfolio=index > 0,
                             session_id=sessions[index].id, module_id=sessions[index].module_id,
                             created_at=when, updated_at=when, published_at=when)
        entry.tags = [EntryTag(tag=t) for t in tags]
        session.add(entry)

    session.flush()
