"""Ticket rules: status as people see it, hours used."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portfolio.enrolment.models import Attendance, AttendanceStatus, Enrolment, WorkshopSession
from portfolio.tickets.models import Ticket, TicketStatus


def effective_status_expr(today: dt.date) -> sa.ColumnElement[str]:
    """SQL for ``Ticket.effective_status(today)``: unfinished tickets past their date are expired."""
    return sa.case(
        (Ticket.status.in_([TicketStatus.COMPLETED.value, TicketStatus.CANCELLED.value]), Ticket.status),
        (Ticket.expires_on < today, sa.literal(TicketStatus.EXPIRED.value)),
        else_=Ticket.status,
    )


def status_counts(session: Session, today: dt.date, prescriber_id: int | None = None) -> dict[TicketStatus, int]:
    """How many tickets are in each status (every status present, zero included)."""
    status = effective_status_expr(today).label("status")
    query = sa.select(status, sa.func.count(Ticket.id)).group_by(status)
    if prescriber_id is not None:
        query = query.where(Ticket.prescriber_id == prescriber_id)
    counts = {s: 0 for s in TicketStatus}
    for value, count in session.execute(query):
        counts[TicketStatus(value)] = count
    return counts


def minutes_used(session: Session, ticket_ids: list[int]) -> dict[int, int]:
    """Minutes of workshops attended (present) per ticket, over all its enrolments."""
    if not ticket_ids:
        return {}
    query = (
        sa.select(Enrolment.ticket_id, sa.func.sum(WorkshopSession.duration_minutes))
        .join(Attendance, Attendance.enrolment_id == Enrolment.id)
        .join(WorkshopSession, WorkshopSession.id == Attendance.session_id)
        .where(Enrolment.ticket_id.in_(ticket_ids), Attendance.status == AttendanceStatus.PRESENT.value)
        .group_by(Enrolment.ticket_id)
    )
    used = {ticket_id: 0 for ticket_id in ticket_ids}
    used.update({ticket_id: int(total or 0) for ticket_id, total in session.execute(query)})
    return used
