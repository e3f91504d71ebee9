"""Anomaly flags for the coordinator: things that should not happen, found by SQL, each with links.

- **overlap**: a learner (a ticket) marked present in two sessions whose times overlap;
- **over_capacity**: a session with more learners booked or present than its capacity;
- **beyond_hours**: a ticket with more present minutes than its hours;
- **expired**: a present attendance at a session held after the ticket's last valid day;
- **bulk_late**: attendance recorded after the fact in one go: at least ``BULK_MIN_RECORDS`` attendances
  recorded by one person within ``BULK_WINDOW_MINUTES`` minutes, each for a session that had ended at least
  ``LATE_AFTER_DAYS`` days before. One flag per burst, named by its first record.

Each list is capped at ``limit`` rows (the total is given), so the page stays fast whatever the data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from portfolio.auth.models import User
from portfolio.enrolment.models import Attendance, AttendanceStatus, Enrolment, WorkshopSession
from portfolio.orgs.models import Organisation
from portfolio.stats.sql import add_minutes, present, session_ends_at, ticket_usage, within_validity
from portfolio.tickets.models import Ticket

BULK_MIN_RECORDS = 10
BULK_WINDOW_MINUTES = 10
LATE_AFTER_DAYS = 3
LIMIT = 100

KINDS = ("overlap", "over_capacity", "beyond_hours", "expired", "bulk_late")


@dataclass(frozen=True)
class Flag:
    kind: str
    ticket_id: int | None = None
    reference: str = ""
    holder: str = ""
    session_ids: tuple[int, ...] = ()
    when: dt.datetime | None = None
    epm: str = ""
    figure: int = 0  # minutes, learners, records: what the kind measures
    limit: int = 0  # the capacity, the ticket's minutes, ...
    who: str = ""


@dataclass
class Anomalies:
    flags: dict[str, list[Flag]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.totals.values())


def _counted(session: Session, query: sa.Select[Any], limit: int) -> tuple[int, list[Any]]:
    """The first ``limit`` rows and the total, in one execution (a window count over the whole result)."""
    rows = session.execute(query.add_columns(sa.func.count().over().label("total")).limit(limit)).all()
    return (rows[0].total if rows else 0), rows


def _holder() -> sa.ColumnElement[str]:
    return Ticket.first_name + " " + Ticket.last_name


def overlaps(session: Session, limit: int = LIMIT) -> tuple[int, list[Flag]]:
    presence = (
        sa.select(Enrolment.ticket_id, WorkshopSession.id.label("session_id"), WorkshopSession.epm_id,
                  WorkshopSession.starts_at, session_ends_at().label("ends_at"))
        .select_from(Attendance)
        .join(WorkshopSession, WorkshopSession.id == Attendance.session_id)
        .join(Enrolment, Enrolment.id == Attendance.enrolment_id)
        .where(present())
        .cte("presence")
    )
    first, second = presence.alias("first"), presence.alias("second")
    query = (
        sa.select(Ticket.id, Ticket.reference, _holder().label("holder"), first.c.session_id.label("first"),
                  second.c.session_id.label("second"), first.c.starts_at, Organisation.name)
        .select_from(first)
        .join(second, second.c.ticket_id == first.c.ticket_id)
        .join(Ticket, Ticket.id == first.c.ticket_id)
        .join(Organisation, Organisation.id == first.c.epm_id)
        .where(
            sa.or_(second.c.starts_at > first.c.starts_at,
                   sa.and_(second.c.starts_at == first.c.starts_at, second.c.session_id > first.c.session_id)),
            second.c.starts_at < first.c.ends_at,
        )
        .order_by(first.c.starts_at.desc())
    )
    total, rows = _counted(session, query, limit)
    return total, [Flag("overlap", r.id, r.reference, r.holder, (r.first, r.second), r.starts_at, r.name)
                   for r in rows]


def over_capacity(session: Session, limit: int = LIMIT) -> tuple[int, list[Flag]]:
    booked = sa.func.count(Attendance.id)
    query = (
        sa.select(WorkshopSession.id, WorkshopSession.starts_at, WorkshopSession.capacity, Organisation.name,
                  booked.label("booked"))
        .join(Attendance, Attendance.session_id == WorkshopSession.id)
        .join(Organisation, Organisation.id == WorkshopSession.epm_id)
        .where(WorkshopSession.cancelled.is_(False),
               Attendance.status.in_([AttendanceStatus.PRESENT.value, AttendanceStatus.EXPECTED.value]))
        .group_by(WorkshopSession.id, WorkshopSession.starts_at, WorkshopSession.capacity, Organisation.name)
        .having(booked > WorkshopSession.capacity)
        .order_by(WorkshopSession.starts_at.desc())
    )
    total, rows = _counted(session, query, limit)
    return total, [Flag("over_capacity", session_ids=(r.id,), when=r.starts_at, epm=r.name, figure=r.booked,
                        limit=r.capacity) for r in rows]


def beyond_hours(session: Session, limit: int = LIMIT) -> tuple[int, list[Flag]]:
    usage = ticket_usage()
    query = (
        sa.select(Ticket.id, Ticket.reference, _holder().label("holder"), usage.c.minutes, Ticket.hours)
        .join(usage, usage.c.ticket_id == Ticket.id)
        .where(usage.c.minutes > Ticket.hours * 60)
        .order_by(Ticket.reference)
    )
    total, rows = _counted(session, query, limit)
    return total, [Flag("beyond_hours", r.id, r.reference, r.holder, figure=int(r.minutes), limit=r.hours * 60)
                   for r in rows]


def on_expired_tickets(session: Session, limit: int = LIMIT) -> tuple[int, list[Flag]]:
    query = (
        sa.select(Ticket.id, Ticket.reference, _holder().label("holder"), WorkshopSession.id.label("session_id"),
                  WorkshopSession.starts_at, Organisation.name, Ticket.expires_on)
        .select_from(Attendance)
        .join(WorkshopSession, WorkshopSession.id == Attendance.session_id)
        .join(Enrolment, Enrolment.id == Attendance.enrolment_id)
        .join(Ticket, Ticket.id == Enrolment.ticket_id)
        .join(Organisation, Organisation.id == WorkshopSession.epm_id)
        .where(present(), sa.not_(within_validity()))
        .order_by(WorkshopSession.starts_at.desc())
    )
    total, rows = _counted(session, query, limit)
    return total, [Flag("expired", r.id, r.reference, r.holder, (r.session_id,), r.starts_at, r.name)
                   for r in rows]


def _late_records() -> sa.CTE:
    """Attendances recorded at least LATE_AFTER_DAYS days after their session ended."""
    late_limit = add_minutes(WorkshopSession.starts_at, WorkshopSession.duration_minutes + LATE_AFTER_DAYS * 1440)
    return (
        sa.select(Attendance.id, Attendance.recorded_by_id, Attendance.recorded_at, Attendance.session_id)
        .join(WorkshopSession, WorkshopSession.id == Attendance.session_id)
        .where(Attendance.recorded_at.is_not(None), Attendance.recorded_by_id.is_not(None),
               Attendance.recorded_at >= late_limit)
        .cte("late")
    )


def bulk_late(session: Session, limit: int = LIMIT, min_records: int = BULK_MIN_RECORDS,
              window_minutes: int = BULK_WINDOW_MINUTES) -> tuple[int, list[Flag]]:
    late = _late_records()
    other, earlier = late.alias("other"), late.alias("earlier")
    in_window = (
        sa.select(sa.func.count())
        .where(other.c.recorded_by_id == late.c.recorded_by_id, other.c.recorded_at >= late.c.recorded_at,
               other.c.recorded_at <= add_minutes(late.c.recorded_at, window_minutes))
        .scalar_subquery()
    )
    starts_burst = ~sa.exists().where(
        earlier.c.recorded_by_id == late.c.recorded_by_id, earlier.c.recorded_at < late.c.recorded_at,
        late.c.recorded_at <= add_minutes(earlier.c.recorded_at, window_minutes))
    query = (
        sa.select(late.c.recorded_by_id, late.c.recorded_at, late.c.session_id, in_window.label("records"),
                  (User.first_name + " " + User.last_name).label("who"))
        .join(User, User.id == late.c.recorded_by_id)
        .where(in_window >= min_records, starts_burst)
        .order_by(late.c.recorded_at.desc())
    )
    total, rows = _counted(session, query, limit)
    return total, [Flag("bulk_late", session_ids=(r.session_id,), when=r.recorded_at, figure=int(r.records),
                        limit=min_records, who=r.who) for r in rows]


FINDERS = {"overlap": overlaps, "over_capacity": over_capacity, "beyond_hours": beyond_hours,
           "expired": on_expired_tickets, "bulk_late": bulk_late}


def find_all(session: Session, limit: int = LIMIT) -> Anomalies:
    found = Anomalies()
    for kind, finder in FINDERS.items():
        found.totals[kind], found.flags[kind] = finder(session, limit)
    return found


def ticket_record(session: Session, ticket_id: int) -> tuple[Ticket, list[Any]] | None:
    """A ticket and every attendance of it, for checking a flag."""
    ticket = session.scalar(sa.select(Ticket).where(Ticket.id == ticket_id))
    if ticket is None:
        return None
    rows = session.execute(
        sa.select(WorkshopSession.id, WorkshopSession.starts_at, WorkshopSession.duration_minutes,
                  WorkshopSession.cancelled, Organisation.name.label("epm"), Attendance.status,
                  Attendance.recorded_at)
        .join(Attendance, Attendance.session_id == WorkshopSession.id)
        .join(Enrolment, Enrolment.id == Attendance.enrolment_id)
        .join(Organisation, Organisation.id == WorkshopSession.epm_id)
        .where(Enrolment.ticket_id == ticket_id)
        .order_by(WorkshopSession.starts_at)
    ).all()
    return ticket, rows


def session_sheet(session: Session, session_id: int) -> tuple[Any, list[Any]] | None:
    """A workshop session and its attendance list, with who recorded each line and when."""
    recorder = aliased(User)
    head = session.execute(
        sa.select(WorkshopSession.id, WorkshopSession.starts_at, WorkshopSession.duration_minutes,
                  WorkshopSession.capacity, WorkshopSession.cancelled, Organisation.name.label("epm"))
        .join(Organisation, Organisation.id == WorkshopSession.epm_id)
        .where(WorkshopSession.id == session_id)
    ).one_or_none()
    if head is None:
        return None
    rows = session.execute(
        sa.select(Ticket.id.label("ticket_id"), Ticket.reference, _holder().label("holder"), Attendance.status,
                  Attendance.recorded_at, (recorder.first_name + " " + recorder.last_name).label("recorded_by"))
        .select_from(Attendance)
        .join(Enrolment, Enrolment.id == Attendance.enrolment_id)
        .join(Ticket, Ticket.id == Enrolment.ticket_id)
        .outerjoin(recorder, recorder.id == Attendance.recorded_by_id)
        .where(Attendance.session_id == session_id)
        .order_by(Ticket.last_name, Ticket.first_name)
    ).all()
    return head, rows
