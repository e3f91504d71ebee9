"""Small portable SQL building blocks shared by the figures (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from portfolio.enrolment.models import Attendance, AttendanceStatus, Enrolment, WorkshopSession
from portfolio.tickets.models import Ticket


class day_after(FunctionElement[Any]):  # noqa: N801
    """The day after a date column, comparable with a UTC datetime column (its midnight)."""

    inherit_cache = True


@compiles(day_after, "sqlite")
def _day_after_sqlite(element: day_after, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, '+1 day')"


@compiles(day_after)
def _day_after_default(element: day_after, compiler: Any, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)} + 1)"


class add_minutes(FunctionElement[Any]):  # noqa: N801
    """A UTC datetime column plus a number of minutes (an integer column or expression)."""

    inherit_cache = True


@compiles(add_minutes, "sqlite")
def _add_minutes_sqlite(element: add_minutes, compiler: Any, **kw: Any) -> str:
    when, minutes = (compiler.process(c, **kw) for c in element.clauses)
    # The same text format as SQLAlchemy stores (microseconds included), so that comparisons hold.
    return f"(datetime({when}, ({minutes}) || ' minutes') || '.000000')"


@compiles(add_minutes)
def _add_minutes_default(element: add_minutes, compiler: Any, **kw: Any) -> str:
    when, minutes = (compiler.process(c, **kw) for c in element.clauses)
    return f"({when} + make_interval(mins => ({minutes})))"


def session_ends_at() -> sa.ColumnElement[Any]:
    return add_minutes(WorkshopSession.starts_at, WorkshopSession.duration_minutes)


def within_validity() -> sa.ColumnElement[bool]:
    """The session starts no later than the ticket's last valid day (a UTC day: workshops are held in daytime)."""
    return WorkshopSession.starts_at < day_after(Ticket.expires_on)


def present() -> sa.ColumnElement[bool]:
    return sa.and_(Attendance.status == AttendanceStatus.PRESENT.value, WorkshopSession.cancelled.is_(False))


def count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def attended_sessions() -> sa.Select[Any]:
    """Present attendances joined with their session, enrolment and ticket (for further filters and groups)."""
    return (
        sa.select()
        .select_from(Attendance)
        .join(WorkshopSession, WorkshopSession.id == Attendance.session_id)
        .join(Enrolment, Enrolment.id == Attendance.enrolment_id)
        .join(Ticket, Ticket.id == Enrolment.ticket_id)
        .where(present())
    )


def ticket_usage() -> sa.Subquery:
    """Per ticket with at least one present session: sessions attended, the minutes they make, and the
    sessions that count for payment (those held while the ticket was valid).

    Sessions after a ticket's expiry are counted apart, from the tickets whose last valid day is before the
    latest workshop (few, found through the index on ``expires_on``): joining every attendance to its ticket
    would cost more than the whole rest of the dashboard."""
    attended = (
        sa.select(Enrolment.ticket_id, sa.func.count().label("sessions"),
                  sa.func.sum(WorkshopSession.duration_minutes).label("minutes"))
        .select_from(Attendance)
        .join(WorkshopSession, WorkshopSession.id == Attendance.session_id)
        .join(Enrolment, Enrolment.id == Attendance.enrolment_id)
        .where(present())
        .group_by(Enrolment.ticket_id)
        .subquery("attended")
    )
    latest_workshop = sa.select(sa.func.max(WorkshopSession.starts_at)).scalar_subquery()
    expired_before = sa.select(Ticket.id).where(Ticket.expires_on < latest_workshop)
    late = (
        attended_sessions()
        .add_columns(Enrolment.ticket_id, sa.func.count().label("sessions"))
        .where(Enrolment.ticket_id.in_(expired_before), sa.not_(within_validity()))
        .group_by(Enrolment.ticket_id)
        .subquery("late")
    )
    return (
        sa.select(attended.c.ticket_id, attended.c.sessions, attended.c.minutes,
                  (attended.c.sessions - sa.func.coalesce(late.c.sessions, 0)).label("valid_sessions"))
        .outerjoin(late, late.c.ticket_id == attended.c.ticket_id)
        .subquery("usage")
    )
