"""Tickets: the nominative voucher a prescriber issues to a beneficiary."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.db import Base, check_in, utcnow

if TYPE_CHECKING:
    from portfolio.auth.models import User
    from portfolio.orgs.models import Organisation


class TicketStatus(enum.StrEnum):
    ISSUED = "issued"
    REGISTERED = "registered"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


# Statuses stored in the database; "expired" is never stored, it is computed from the date.
STORED_STATUSES = [s.value for s in TicketStatus if s is not TicketStatus.EXPIRED]


class Ticket(Base):
    __tablename__ = "ticket"
    __table_args__ = (
        check_in("status", STORED_STATUSES, "status"),
        sa.Index("ix_ticket_beneficiary_identity", "last_name", "first_name", "birth_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(24), unique=True)
    prescriber_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    # The beneficiary's identity as printed on the ticket.
    last_name: Mapped[str] = mapped_column(sa.String(100))
    first_name: Mapped[str] = mapped_column(sa.String(100))
    birth_date: Mapped[dt.date] = mapped_column(sa.Date)
    commune: Mapped[str] = mapped_column(sa.String(100))
    phone: Mapped[str] = mapped_column(sa.String(30), default="")
    email: Mapped[str] = mapped_column(sa.String(200), default="")
    public_category: Mapped[str] = mapped_column(sa.String(40))
    # The terms printed on the ticket, fixed when it is issued.
    issued_on: Mapped[dt.date] = mapped_column(sa.Date, index=True)
    expires_on: Mapped[dt.date] = mapped_column(sa.Date, index=True)
    value_cents: Mapped[int]
    hours: Mapped[int]
    sessions: Mapped[int]
    session_minutes: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(20), default=TicketStatus.ISSUED.value, index=True)
    cancelled_at: Mapped[dt.datetime | None]
    beneficiary_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    prescriber: Mapped[Organisation] = relationship(lazy="raise")
    beneficiary: Mapped[User | None] = relationship(foreign_keys=[beneficiary_id], lazy="raise")

    def effective_status(self, today: dt.date) -> TicketStatus:
        """The status as people see it: a ticket not completed nor cancelled expires by its date."""
        status = TicketStatus(self.status)
        if status in (TicketStatus.COMPLETED, TicketStatus.CANCELLED):
            return status
        if today > self.expires_on:
            return TicketStatus.EXPIRED
        return status

    @property
    def holder_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def __repr__(self) -> str:
        return f"<Ticket {self.reference}>"


class TicketSerial(Base):
    """The last serial number given per département and year: ``UPDATE ... RETURNING`` hands out the
    next ones atomically, so that two prescribers issuing at once never get the same reference."""

    __tablename__ = "ticket_serial"

    department: Mapped[str] = mapped_column(sa.String(3), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_serial: Mapped[int] = mapped_column(default=0)
