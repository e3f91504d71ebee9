"""What each role sees first when signing in."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, selectinload

from competences.models import Framework
from portfolio.auth.models import Membership, Role, User
from portfolio.catalogue.models import Module
from portfolio.enrolment.models import Attendance, AttendanceStatus, Enrolment, WorkshopSession
from portfolio.orgs.models import Organisation, OrgKind
from portfolio.tickets import services as tickets
from portfolio.tickets.models import Ticket, TicketStatus
from portfolio.timeutil import LOCAL_TZ

HOME_ENDPOINTS: dict[Role, str] = {
    Role.BENEFICIARY: "home.beneficiary",
    Role.ANIMATOR: "home.animator",
    Role.PRESCRIBER: "home.prescriber",
    Role.ASSESSOR: "home.assessor",
    Role.COORDINATOR: "home.coordinator",
    Role.ADMIN: "home.admin",
}


def home_endpoint(user: User) -> str:
    role = user.primary_role
    return HOME_ENDPOINTS[role] if role is not None else "home.no_role"


@dataclass
class PathStep:
    module: Module
    done: bool


@dataclass
class LearnerSummary:
    ticket: Ticket | None
    status: TicketStatus | None = None
    epm: Organisation | None = None
    minutes_used: int = 0
    sessions_used: int = 0
    next_sessions: list[WorkshopSession] = field(default_factory=list)
    path: list[PathStep] = field(default_factory=list)
    interview_done: bool = False

    @property
    def hours_used(self) -> float:
        return self.minutes_used / 60

    @property
    def hours_left(self) -> float:
        if self.ticket is None:
            return 0
        return max(self.ticket.hours - self.hours_used, 0)


def learner_summary(session: Session, user: User, now: dt.datetime, today: dt.date) -> LearnerSummary:
    ticket = session.scalar(
        sa.select(Ticket).where(Ticket.beneficiary_id == user.id).order_by(Ticket.issued_on.desc()).limit(1)
    )
    if ticket is None:
        return LearnerSummary(ticket=None)
    enrolment = session.scalar(
        sa.select(Enrolment)
        .options(joinedload(Enrolment.epm), joinedload(Enrolment.interview), selectinload(Enrolment.path))
        .where(Enrolment.ticket_id == ticket.id, Enrolment.active.is_(True))
    )
    next_sessions: list[WorkshopSession] = []
    path: list[PathStep] = []
    if enrolment is not None:
        done_modules = set(session.scalars(
            sa.select(WorkshopSession.module_id).join(Attendance, Attendance.session_id == WorkshopSession.id)
            .where(Attendance.enrolment_id == enrolment.id, Attendance.status == AttendanceStatus.PRESENT.value)))
        path = [PathStep(step.module, step.module_id in done_modules) for step in enrolment.path]
        next_sessions = list(
            session.scalars(
                sa.select(WorkshopSession)
                .options(joinedload(WorkshopSession.module))
                .join(Attendance, Attendance.session_id == WorkshopSession.id)
                .where(
                    Attendance.enrolment_id == enrolment.id,
                    Attendance.status == AttendanceStatus.EXPECTED.value,
                    WorkshopSession.starts_at >= now,
                    WorkshopSession.cancelled.is_(False),
                )
                .order_by(WorkshopSession.starts_at)
                .limit(3)
            )
        )
    used = tickets.ledger(session, [ticket.id])[ticket.id]
    return LearnerSummary(
        ticket=ticket,
        status=ticket.effective_status(today),
        epm=enrolment.epm if enrolment is not None else None,
        minutes_used=used.minutes,
        sessions_used=used.sessions,
        next_sessions=next_sessions,
        path=path,
        interview_done=enrolment is not None and enrolment.interview is not None,
    )


@dataclass
class EpmSummary:
    epm: Organisation
    active_learners: int
    upcoming: list[tuple[WorkshopSession, int]]  # (session, learners booked)


def epm_summaries(session: Session, epms: list[Organisation], now: dt.datetime, days: int = 14) -> list[EpmSummary]:
    if not epms:
        return []
    ids = [epm.id for epm in epms]
    learners = dict(
        session.execute(
            sa.select(Enrolment.epm_id, sa.func.count(Enrolment.id))
            .where(Enrolment.epm_id.in_(ids), Enrolment.active.is_(True))
            .group_by(Enrolment.epm_id)
        ).all()
    )
    booked = (
        sa.select(sa.func.count(Attendance.id))
        .where(Attendance.session_id == WorkshopSession.id)
        .scalar_subquery()
    )
    rows = session.execute(
        sa.select(WorkshopSession, booked)
        .options(joinedload(WorkshopSession.module))
        .where(
            WorkshopSession.epm_id.in_(ids),
            # Today's workshops too, so that the one in progress stays at hand (its grid, its attendance).
            WorkshopSession.starts_at >= now.astimezone(LOCAL_TZ).replace(hour=0, minute=0, second=0, microsecond=0),
            WorkshopSession.starts_at < now + dt.timedelta(days=days),
            WorkshopSession.cancelled.is_(False),
        )
        .order_by(WorkshopSession.starts_at)
    ).all()
    upcoming: dict[int, list[tuple[WorkshopSession, int]]] = {epm_id: [] for epm_id in ids}
    for workshop, count in rows:
        upcoming[workshop.epm_id].append((workshop, count))
    return [EpmSummary(epm, learners.get(epm.id, 0), upcoming[epm.id]) for epm in epms]


@dataclass
class SchemeOverview:
    organisations: dict[OrgKind, int]
    tickets: dict[TicketStatus, int]
    registered_learners: int
    frameworks: list[Framework]


def scheme_overview(session: Session, today: dt.date) -> SchemeOverview:
    orgs = {kind: 0 for kind in OrgKind}
    for kind, count in session.execute(
        sa.select(Organisation.kind, sa.func.count(Organisation.id)).group_by(Organisation.kind)
    ):
        orgs[OrgKind(kind)] = count
    registered = session.scalar(
        sa.select(sa.func.count(sa.distinct(Enrolment.ticket_id)))
    ) or 0
    frameworks = list(session.scalars(sa.select(Framework).order_by(Framework.code, Framework.loaded_at)))
    return SchemeOverview(orgs, tickets.status_counts(session, today), registered, frameworks)


def members_by_organisation(session: Session) -> list[tuple[Organisation, dict[str, int]]]:
    rows = session.execute(
        sa.select(Organisation, Membership.role, sa.func.count(Membership.id))
        .outerjoin(Membership, Membership.organisation_id == Organisation.id)
        .group_by(Organisation.id, Membership.role)
        .order_by(Organisation.kind, Organisation.name)
    ).all()
    result: dict[int, tuple[Organisation, dict[str, int]]] = {}
    for org, role, count in rows:
        entry = result.setdefault(org.id, (org, {}))
        if role is not None:
            entry[1][role] = count
    return list(result.values())
