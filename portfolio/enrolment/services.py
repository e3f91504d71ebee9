"""The EPM's daily work: registering a ticket (and the learner's account), the positioning interview,
planning workshops, booking learners, attendance and the ledger's cap, the attendance dashboard."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from competences.loader import B2I_CODE, latest_framework
from competences.models import Assessment, Competence, FrameworkDomain, Level, Voice
from competences.services import record_assessment
from portfolio.auth import services as accounts
from portfolio.auth.models import Membership, Role, User
from portfolio.catalogue.models import Module
from portfolio.catalogue.scheme import Scheme
from portfolio.db import utcnow
from portfolio.enrolment.models import (
    Attendance,
    AttendanceStatus,
    Enrolment,
    PathModule,
    PositioningInterview,
    WorkshopSession,
)
from portfolio.orgs.models import Organisation, OrgKind, epm_module_offer
from portfolio.tickets import services as tickets
from portfolio.tickets.models import Ticket, TicketStatus
from portfolio.tickets.services import TicketRefused
from portfolio.timeutil import LOCAL_TZ

# --- Registration -----------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Names compared as people type them: no accents, no case, no spaces or dashes."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c)).casefold()


def _username_part(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-") or "apprenant"


def new_username(session: Session, first_name: str, last_name: str) -> str:
    """``prenom.nom``, then ``prenom.nom2``, ``prenom.nom3``… when taken (ASCII, lower-case)."""
    base = f"{_username_part(first_name)}.{_username_part(last_name)}"[:70]
    taken = set(session.scalars(sa.select(User.username).where(User.username.like(f"{base}%"))))
    if base not in taken:
        return base
    number = 2
    while f"{base}{number}" in taken:
        number += 1
    return f"{base}{number}"


@dataclass
class Registration:
    enrolment: Enrolment
    learner: User
    account_created: bool


def active_enrolment(session: Session, ticket_id: int) -> Enrolment | None:
    return session.scalar(
        sa.select(Enrolment).options(joinedload(Enrolment.epm))
        .where(Enrolment.ticket_id == ticket_id, Enrolment.active.is_(True))
    )


def register_ticket(
    session: Session,
    epm: Organisation,
    animator: User | None,
    reference_text: str,
    last_name: str,
    birth_date: dt.date,
    today: dt.date,
) -> Registration:
    """Register a ticket at this EPM and open the learner's account (no e-mail needed).

    The ticket's row is locked first (``SELECT ... FOR UPDATE`` on PostgreSQL), so that of many
    registrations of one ticket arriving at once exactly one succeeds; the partial unique index on
    active enrolments is the last guard."""
    if epm.kind != OrgKind.EPM.value:
        raise TicketRefused(_l("Seul un EPM peut inscrire un ticket."))
    if not epm.active:
        raise TicketRefused(_l("%(epm)s est désactivé : il n'inscrit plus de tickets. Voyez avec la coordination.",
                               epm=epm.name))
    ticket = tickets.find_by_reference(session, reference_text, for_update=True)
    status = ticket.effective_status(today)
    if status is TicketStatus.CANCELLED:
        raise TicketRefused(_l("Ce ticket a été annulé par son prescripteur. Il ne peut pas servir."))
    if status is TicketStatus.EXPIRED:
        raise TicketRefused(_l("Ce ticket a expiré le %(date)s. Il ne peut plus servir.",
                               date=ticket.expires_on.strftime("%d/%m/%Y")))
    if status is TicketStatus.COMPLETED:
        raise TicketRefused(_l("Ce ticket a déjà été utilisé en entier."))
    if fold(last_name) != fold(ticket.last_name) or birth_date != ticket.birth_date:
        raise TicketRefused(_l("Le nom ou la date de naissance ne correspondent pas à ceux du ticket. "
                               "Vérifiez la pièce d'identité de la personne."))
    current = active_enrolment(session, ticket.id)
    if current is not None:
        raise _already_registered(current, epm)

    learner, created = _learner_account(session, ticket, epm)
    enrolment = Enrolment(ticket_id=ticket.id, epm_id=epm.id, learner_id=learner.id,
                          registered_by_id=animator.id if animator is not None else None)
    try:
        with session.begin_nested():
            session.add(enrolment)
    except IntegrityError:
        # Another registration of this ticket got there first (on SQLite, or without the row lock).
        raise TicketRefused(_l("Ce ticket vient d'être inscrit par ailleurs.")) from None
    ticket.status = TicketStatus.REGISTERED.value
    ticket.beneficiary_id = learner.id
    session.flush()
    return Registration(enrolment, learner, created)


def _already_registered(current: Enrolment, epm: Organisation) -> TicketRefused:
    if current.epm_id == epm.id:
        return TicketRefused(_l("Ce ticket est déjà inscrit dans votre EPM."))
    return TicketRefused(_l("Ce ticket est déjà inscrit dans un autre EPM : %(epm)s.", epm=current.epm.name))


def _learner_account(session: Session, ticket: Ticket, epm: Organisation) -> tuple[User, bool]:
    """The ticket's beneficiary account (created without password: the login card gives a one-time code)."""
    learner = session.get(User, ticket.beneficiary_id) if ticket.beneficiary_id else None
    created = learner is None
    if learner is None:
        learner = accounts.create_user(
            session, new_username(session, ticket.first_name, ticket.last_name),
            first_name=ticket.first_name, last_name=ticket.last_name, email=ticket.email or None)
    if not any(m.organisation_id == epm.id and m.role == Role.BENEFICIARY.value for m in learner.memberships):
        accounts.add_membership(session, learner, epm, Role.BENEFICIARY)
    session.flush()
    return learner, created


def roster(session: Session, epm_id: int, today: dt.date) -> list[tuple[Enrolment, TicketStatus, tickets.Ledger]]:
    """The EPM's active learners with their ticket status and ledger (two queries)."""
    enrolments = list(session.scalars(
        sa.select(Enrolment)
        .options(joinedload(Enrolment.ticket), joinedload(Enrolment.learner), joinedload(Enrolment.interview))
        .where(Enrolment.epm_id == epm_id, Enrolment.active.is_(True))
        .order_by(Enrolment.registered_at.desc())
    ).unique())
    used = tickets.ledger(session, [e.ticket_id for e in enrolments])
    return [(e, e.ticket.effective_status(today), used[e.ticket_id]) for e in enrolments]


def load_enrolment(session: Session, enrolment_id: int) -> Enrolment | None:
    return session.scalar(
        sa.select(Enrolment)
        .options(joinedload(Enrolment.ticket), joinedload(Enrolment.learner), joinedload(Enrolment.epm),
                 joinedload(Enrolment.interview), selectinload(Enrolment.path))
        .where(Enrolment.id == enrolment_id)
    )


def enrolment_sessions(session: Session, enrolment_id: int) -> list[tuple[WorkshopSession, Attendance]]:
    rows = session.execute(
        sa.select(WorkshopSession, Attendance)
        .join(Attendance, Attendance.session_id == WorkshopSession.id)
        .options(joinedload(WorkshopSession.module))
        .where(Attendance.enrolment_id == enrolment_id)
        .order_by(WorkshopSession.starts_at)
    ).all()
    return [(w, a) for w, a in rows]


# --- Positioning interview --------------------------------------------------------------------------


def b2i_competences(session: Session) -> list[Competence]:
    """The competences of the latest B2i Adultes framework, in order."""
    framework = latest_framework(session, B2I_CODE)
    if framework is None:
        return []
    return list(session.scalars(
        sa.select(Competence).join(FrameworkDomain, FrameworkDomain.id == Competence.domain_id)
        .where(Competence.framework_id == framework.id)
        .order_by(FrameworkDomain.position, Competence.position)
    ))


def offered_modules(session: Session, epm_id: int) -> list[Module]:
    """The modules this EPM offers for new paths and workshops (those retired from the catalogue left out)."""
    return list(session.scalars(
        sa.select(Module).join(epm_module_offer, epm_module_offer.c.module_id == Module.id)
        .where(epm_module_offer.c.organisation_id == epm_id, Module.retired_at.is_(None)).order_by(Module.number)
    ))


InitialLevels = Mapping[int, tuple[Level | None, Level | None]]  # competence id -> (animator's, learner's)


def record_interview(
    session: Session,
    scheme: Scheme,
    enrolment: Enrolment,
    animator: User | None,
    held_on: dt.date,
    projects: str,
    module_ids: Sequence[int],
    levels: InitialLevels,
    notes: str = "",
) -> PositioningInterview:
    """Record (or correct) the positioning interview: projects, initial levels, the learning path."""
    if not enrolment.active:
        raise TicketRefused(_l("Cette inscription est close."))
    chosen = list(dict.fromkeys(module_ids))
    wanted = scheme.modules_to_choose
    offered = {m.id for m in offered_modules(session, enrolment.epm_id)}
    if len(offered) < wanted:
        raise TicketRefused(_l("Votre EPM propose moins de %(num)s modules : demandez à la coordination de "
                               "compléter son offre.", num=wanted))
    if len(chosen) != wanted:
        raise TicketRefused(_l("Choisissez %(num)s modules pour le parcours (vous en avez choisi %(chosen)s).",
                               num=wanted, chosen=len(chosen)))
    if not set(chosen) <= offered:
        raise TicketRefused(_l("Un des modules choisis n'est pas proposé par votre EPM."))

    interview = session.scalar(sa.select(PositioningInterview).where(
        PositioningInterview.enrolment_id == enrolment.id))
    if interview is None:
        interview = PositioningInterview(enrolment_id=enrolment.id, held_on=held_on,
                                         duration_minutes=scheme.data["ticket"].get(
                                             "positioning_interview_minutes", 30))
        session.add(interview)
    interview.held_on = held_on
    interview.animator_id = animator.id if animator is not None else None
    interview.projects = projects.strip()
    interview.notes = notes.strip()

    session.execute(sa.delete(PathModule).where(PathModule.enrolment_id == enrolment.id))
    session.add_all(PathModule(enrolment_id=enrolment.id, module_id=m, position=i) for i, m in enumerate(chosen))
    if enrolment.learner_id is not None:
        record_initial_levels(session, enrolment.learner_id, animator, levels, held_on)
    session.flush()
    return interview


def record_initial_levels(session: Session, learner_id: int, animator: User | None, levels: InitialLevels,
                          held_on: dt.date) -> int:
    """The interview's initial level per competence, in the animator's and the learner's own voices, as
    assessment rows outside any session, dated at the start of the interview's day (an interview written
    down days later still comes before the workshops that followed it). A judgement is never overwritten:
    only a level that differs from the latest one recorded at an interview is added. Returns the number of
    rows added."""
    latest: dict[tuple[int, str], str] = {}
    for competence_id, voice, level in session.execute(
        sa.select(Assessment.competence_id, Assessment.voice, Assessment.level)
        .where(Assessment.learner_id == learner_id, Assessment.session_id.is_(None),
               Assessment.voice.in_([Voice.ANIMATOR.value, Voice.SELF.value]))
        .order_by(Assessment.created_at, Assessment.id)
    ):
        latest[(competence_id, voice)] = level
    added = 0
    at = min(utcnow(), dt.datetime.combine(held_on, dt.time(0), LOCAL_TZ).astimezone(dt.UTC))
    for competence_id, pair in levels.items():
        for voice, level in zip((Voice.ANIMATOR, Voice.SELF), pair, strict=True):
            if level is None or latest.get((competence_id, voice.value)) == level.value:
                continue
            record_assessment(session, learner_id, competence_id, voice, level,
                              by=animator if voice is Voice.ANIMATOR else learner_id, at=at)
            added += 1
    return added


def initial_levels(session: Session, learner_id: int) -> dict[int, tuple[str | None, str | None]]:
    """The latest interview level per competence: (animator's, learner's)."""
    found: dict[int, list[str | None]] = defaultdict(lambda: [None, None])
    for competence_id, voice, level in session.execute(
        sa.select(Assessment.competence_id, Assessment.voice, Assessment.level)
        .where(Assessment.learner_id == learner_id, Assessment.session_id.is_(None),
               Assessment.voice.in_([Voice.ANIMATOR.value, Voice.SELF.value]))
        .order_by(Assessment.created_at, Assessment.id)
    ):
        found[competence_id][0 if voice == Voice.ANIMATOR.value else 1] = level
    return {k: (v[0], v[1]) for k, v in found.items()}


# --- Workshops --------------------------------------------------------------------------------------


def max_capacity(scheme: Scheme, epm: Organisation) -> int:
    """The largest group this EPM can take: its workstations (set by the coordination), else the scheme's size."""
    return epm.capacity or scheme.group_size


def plan_session(
    session: Session,
    scheme: Scheme,
    epm: Organisation,
    animator: User | None,
    module_id: int,
    starts_at: dt.datetime,
    capacity: int | None = None,
) -> WorkshopSession:
    if module_id not in {m.id for m in offered_modules(session, epm.id)}:
        raise TicketRefused(_l("Ce module n'est pas proposé par votre EPM."))
    capacity = scheme.group_size if capacity is None else capacity
    biggest = max_capacity(scheme, epm)
    if not 1 <= capacity <= biggest:
        raise TicketRefused(_l("Un atelier accueille de 1 à %(num)s personnes dans cet EPM.", num=biggest))
    workshop = WorkshopSession(epm_id=epm.id, module_id=module_id, starts_at=starts_at,
                               animator_id=animator.id if animator is not None else None,
                               duration_minutes=scheme.session_minutes, capacity=capacity)
    session.add(workshop)
    session.flush()
    return workshop


def load_session(session: Session, session_id: int) -> WorkshopSession | None:
    return session.scalar(
        sa.select(WorkshopSession)
        .options(joinedload(WorkshopSession.module), joinedload(WorkshopSession.epm),
                 joinedload(WorkshopSession.animator))
        .where(WorkshopSession.id == session_id)
    )


def sessions_of(session: Session, epm_id: int, since: dt.datetime, until: dt.datetime | None = None
                ) -> list[tuple[WorkshopSession, int]]:
    """The EPM's workshops from ``since`` (to ``until``), with the number of learners booked."""
    booked = (sa.select(sa.func.count(Attendance.id)).where(Attendance.session_id == WorkshopSession.id)
              .scalar_subquery())
    query = (sa.select(WorkshopSession, booked).options(joinedload(WorkshopSession.module))
             .where(WorkshopSession.epm_id == epm_id, WorkshopSession.starts_at >= since)
             .order_by(WorkshopSession.starts_at))
    if until is not None:
        query = query.where(WorkshopSession.starts_at < until)
    return [(w, n) for w, n in session.execute(query).all()]


@dataclass
class Participant:
    attendance: Attendance
    enrolment: Enrolment
    used: tickets.Ledger


def participants(session: Session, workshop_id: int) -> list[Participant]:
    rows = session.execute(
        sa.select(Attendance, Enrolment)
        .join(Enrolment, Enrolment.id == Attendance.enrolment_id)
        .options(joinedload(Enrolment.learner), joinedload(Enrolment.ticket))
        .where(Attendance.session_id == workshop_id)
        .order_by(Attendance.id)
    ).all()
    used = tickets.ledger(session, [e.ticket_id for _a, e in rows])
    people = [Participant(a, e, used[e.ticket_id]) for a, e in rows]
    return sorted(people, key=lambda p: (fold(p.enrolment.ticket.last_name), fold(p.enrolment.ticket.first_name)))


def bookable_enrolments(session: Session, workshop: WorkshopSession) -> list[Enrolment]:
    """The EPM's active learners whose path holds this workshop's module and who are not booked yet."""
    already = sa.select(Attendance.enrolment_id).where(Attendance.session_id == workshop.id)
    return list(session.scalars(
        sa.select(Enrolment)
        .join(PathModule, PathModule.enrolment_id == Enrolment.id)
        .options(joinedload(Enrolment.ticket))
        .where(Enrolment.epm_id == workshop.epm_id, Enrolment.active.is_(True),
               PathModule.module_id == workshop.module_id, Enrolment.id.not_in(already))
    ).unique())


def _local_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(LOCAL_TZ).date()


def _lock_tickets(session: Session, enrolment_ids: Sequence[int]) -> dict[int, Ticket]:
    """Lock the tickets of these enrolments (in id order, so that two transactions never deadlock)."""
    rows = session.execute(
        sa.select(Enrolment.id, Ticket).join(Ticket, Ticket.id == Enrolment.ticket_id)
        .where(Enrolment.id.in_(list(enrolment_ids))).order_by(Ticket.id).with_for_update(of=Ticket)
    ).all()
    return {enrolment_id: ticket for enrolment_id, ticket in rows}


def _usable_on(ticket: Ticket, day: dt.date, name: str) -> None:
    if ticket.status == TicketStatus.CANCELLED.value:
        raise TicketRefused(_l("Le ticket de %(name)s a été annulé.", name=name))
    if day > ticket.expires_on:
        raise TicketRefused(_l("Le ticket de %(name)s a expiré le %(date)s : pas d'atelier après cette date.",
                               name=name, date=ticket.expires_on.strftime("%d/%m/%Y")))


def book(session: Session, workshop: WorkshopSession, enrolment: Enrolment) -> Attendance:
    """Book a learner on a workshop: same EPM, module in their path, a seat left, sessions left on the ticket."""
    locked = session.scalar(sa.select(WorkshopSession).where(WorkshopSession.id == workshop.id).with_for_update())
    assert locked is not None
    ticket = _lock_tickets(session, [enrolment.id])[enrolment.id]
    name = ticket.holder_name
    if workshop.cancelled:
        raise TicketRefused(_l("Cet atelier est annulé."))
    if enrolment.epm_id != workshop.epm_id or not enrolment.active:
        raise TicketRefused(_l("%(name)s n'est pas inscrit·e dans cet EPM.", name=name))
    _usable_on(ticket, _local_day(workshop.starts_at), name)
    in_path = session.scalar(sa.select(sa.func.count(PathModule.id)).where(
        PathModule.enrolment_id == enrolment.id, PathModule.module_id == workshop.module_id))
    if not in_path:
        raise TicketRefused(_l("Le parcours de %(name)s ne contient pas ce module.", name=name))
    counts = dict(session.execute(
        sa.select(Attendance.status, sa.func.count(Attendance.id)).where(Attendance.session_id == workshop.id)
        .group_by(Attendance.status)).all())
    if sum(counts.values()) >= workshop.capacity:
        raise TicketRefused(_l("L'atelier est complet (%(num)s places).", num=workshop.capacity))
    engaged = session.scalar(
        sa.select(sa.func.count(Attendance.id)).join(Enrolment, Enrolment.id == Attendance.enrolment_id)
        .where(Enrolment.ticket_id == ticket.id,
               Attendance.status.in_([AttendanceStatus.PRESENT.value, AttendanceStatus.EXPECTED.value]))) or 0
    if engaged >= ticket.sessions:
        raise TicketRefused(_l("%(name)s a déjà %(num)s ateliers suivis ou réservés : c'est le maximum du ticket.",
                               name=name, num=ticket.sessions))
    attendance = Attendance(session_id=workshop.id, enrolment_id=enrolment.id,
                            status=AttendanceStatus.EXPECTED.value)
    try:
        with session.begin_nested():
            session.add(attendance)
    except IntegrityError:
        raise TicketRefused(_l("%(name)s est déjà inscrit·e à cet atelier.", name=name)) from None
    return attendance


def unbook(session: Session, workshop: WorkshopSession, enrolment_id: int) -> None:
    """Take a learner off a workshop, unless their attendance is already recorded."""
    attendance = session.scalar(sa.select(Attendance).where(
        Attendance.session_id == workshop.id, Attendance.enrolment_id == enrolment_id))
    if attendance is None:
        return
    if attendance.status != AttendanceStatus.EXPECTED.value:
        raise TicketRefused(_l("La présence est déjà notée : modifiez-la plutôt."))
    session.delete(attendance)
    session.flush()


def record_attendance(
    session: Session,
    workshop: WorkshopSession,
    marks: Mapping[int, AttendanceStatus],
    recorded_by: User | None,
    now: dt.datetime,
) -> None:
    """Mark booked learners present, excused or absent. All or nothing: a refusal changes nothing.

    The tickets are locked first, so that the cap (sessions and hours of the ticket) holds when two
    workshops are marked at the same moment."""
    if now < workshop.starts_at:
        raise TicketRefused(_l("Vous pourrez noter les présences quand l'atelier aura commencé."))
    if workshop.cancelled:
        raise TicketRefused(_l("Cet atelier est annulé."))
    locked = _lock_tickets(session, list(marks))
    statuses_before = {ticket.id: ticket.status for ticket in locked.values()}
    attendances = {a.enrolment_id: a for a in session.scalars(
        sa.select(Attendance).where(Attendance.session_id == workshop.id, Attendance.enrolment_id.in_(list(marks))))}
    day = _local_day(workshop.starts_at)
    used = tickets.ledger(session, [t.id for t in locked.values()])
    for enrolment_id, status in marks.items():
        if enrolment_id not in attendances or enrolment_id not in locked:
            raise TicketRefused(_l("Cette personne n'est pas inscrite à l'atelier."))
        ticket, attendance = locked[enrolment_id], attendances[enrolment_id]
        if status is not AttendanceStatus.PRESENT or attendance.status == AttendanceStatus.PRESENT.value:
            continue
        name = ticket.holder_name
        _usable_on(ticket, day, name)
        ledger = used[ticket.id]
        if ledger.sessions + 1 > ticket.sessions or ledger.minutes + workshop.duration_minutes > ticket.hours * 60:
            raise TicketRefused(_l("%(name)s a déjà utilisé tout son ticket (%(sessions)s ateliers, %(hours)s heures).",
                                   name=name, sessions=ticket.sessions, hours=ticket.hours))
        used[ticket.id] = tickets.Ledger(ledger.sessions + 1, ledger.minutes + workshop.duration_minutes)
    for enrolment_id, status in marks.items():
        attendance = attendances[enrolment_id]
        if attendance.status == status.value:
            continue
        if attendance.status == AttendanceStatus.PRESENT.value:
            ledger = used[locked[enrolment_id].id]
            used[locked[enrolment_id].id] = tickets.Ledger(ledger.sessions - 1,
                                                           ledger.minutes - workshop.duration_minutes)
        attendance.status = status.value
        attendance.recorded_by_id = recorded_by.id if recorded_by is not None else None
        attendance.recorded_at = now
    for ticket in locked.values():
        _update_ticket_status(ticket, used[ticket.id])
    session.flush()
    from portfolio.credentials import services as credentials  # a completed path earns its credential

    credentials.ticket_statuses_changed(session, locked.values(), statuses_before, now)


def _update_ticket_status(ticket: Ticket, used: tickets.Ledger) -> None:
    if ticket.status == TicketStatus.CANCELLED.value:
        return
    if used.sessions >= ticket.sessions or used.minutes >= ticket.hours * 60:
        ticket.status = TicketStatus.COMPLETED.value
    elif used.sessions:
        ticket.status = TicketStatus.IN_PROGRESS.value
    else:
        ticket.status = TicketStatus.REGISTERED.value


# --- Attendance dashboard ---------------------------------------------------------------------------


@dataclass
class PeriodFigures:
    start: dt.date
    sessions: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in AttendanceStatus})
    minutes_present: int = 0

    @property
    def hours_present(self) -> float:
        return self.minutes_present / 60

    @property
    def rate(self) -> int | None:
        marked = sum(v for k, v in self.counts.items() if k != AttendanceStatus.EXPECTED.value)
        return round(100 * self.counts[AttendanceStatus.PRESENT.value] / marked) if marked else None


def _week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def attendance_dashboard(session: Session, epm_id: int, today: dt.date, weeks: int = 8, months: int = 6
                         ) -> tuple[list[PeriodFigures], list[PeriodFigures]]:
    """Workshops held and attendance per week (last ``weeks``) and per month (last ``months``), newest first."""
    first_month = dt.date(today.year, today.month, 1)
    for _ in range(months - 1):
        first_month = (first_month - dt.timedelta(days=1)).replace(day=1)
    first_week = _week_start(today) - dt.timedelta(weeks=weeks - 1)
    since = min(first_month, first_week)
    start = dt.datetime(since.year, since.month, since.day, tzinfo=LOCAL_TZ)
    rows = session.execute(
        sa.select(WorkshopSession.id, WorkshopSession.starts_at, WorkshopSession.duration_minutes,
                  Attendance.status, sa.func.count(Attendance.id))
        .outerjoin(Attendance, Attendance.session_id == WorkshopSession.id)
        .where(WorkshopSession.epm_id == epm_id, WorkshopSession.cancelled.is_(False),
               WorkshopSession.starts_at >= start)
        .group_by(WorkshopSession.id, WorkshopSession.starts_at, WorkshopSession.duration_minutes, Attendance.status)
    ).all()
    by_week = {first_week + dt.timedelta(weeks=i): PeriodFigures(first_week + dt.timedelta(weeks=i))
               for i in range(weeks)}
    by_month: dict[dt.date, PeriodFigures] = {}
    month = first_month
    for _ in range(months):
        by_month[month] = PeriodFigures(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    seen: set[tuple[str, int]] = set()
    for session_id, starts_at, minutes, status, count in rows:
        day = _local_day(starts_at)
        if day > today:
            continue
        for key, buckets in (("w", by_week.get(_week_start(day))), ("m", by_month.get(day.replace(day=1)))):
            if buckets is None:
                continue
            if (key, session_id) not in seen:
                seen.add((key, session_id))
                buckets.sessions += 1
            if status is not None:
                buckets.counts[status] += count
                if status == AttendanceStatus.PRESENT.value:
                    buckets.minutes_present += minutes * count
    return sorted(by_week.values(), key=lambda p: p.start, reverse=True), sorted(
        by_month.values(), key=lambda p: p.start, reverse=True)


def epms_of(session: Session, user: User) -> list[Organisation]:
    """The EPMs where this person is an animator."""
    return list(session.scalars(
        sa.select(Organisation).join(Membership, Membership.organisation_id == Organisation.id)
        .where(Membership.user_id == user.id, Membership.role == Role.ANIMATOR.value)
        .order_by(Organisation.name)
    ))
