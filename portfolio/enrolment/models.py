"""Enrolment at an EPM, the positioning interview, the learning path, workshops and attendance."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.db import Base, check_in, utcnow

if TYPE_CHECKING:
    from portfolio.auth.models import User
    from portfolio.catalogue.models import Module
    from portfolio.orgs.models import Organisation
    from portfolio.tickets.models import Ticket


class AttendanceStatus(enum.StrEnum):
    EXPECTED = "expected"  # booked, not yet marked
    PRESENT = "present"
    EXCUSED = "excused"
    ABSENT = "absent"


class Enrolment(Base):
    """A ticket registered at one EPM. At most one active enrolment per ticket (partial unique index)."""

    __tablename__ = "enrolment"
    __table_args__ = (
        sa.Index(
            "uq_enrolment_active_ticket",
            "ticket_id",
            unique=True,
            sqlite_where=sa.text("active"),
            postgresql_where=sa.text("active"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("ticket.id"), index=True)
    epm_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    learner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    registered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    registered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    active: Mapped[bool] = mapped_column(default=True)
    ended_at: Mapped[dt.datetime | None]

    ticket: Mapped[Ticket] = relationship(lazy="raise")
    epm: Mapped[Organisation] = relationship(lazy="raise")
    learner: Mapped[User | None] = relationship(foreign_keys=[learner_id], lazy="raise")
    interview: Mapped[PositioningInterview | None] = relationship(
        back_populates="enrolment", cascade="all, delete-orphan", lazy="raise", uselist=False
    )
    path: Mapped[list[PathModule]] = relationship(
        order_by="PathModule.position", cascade="all, delete-orphan", lazy="raise"
    )


class PositioningInterview(Base):
    """The 30-minute individual interview held before the first workshop."""

    __tablename__ = "positioning_interview"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrolment.id", ondelete="CASCADE"), unique=True)
    held_on: Mapped[dt.date] = mapped_column(sa.Date)
    animator_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    duration_minutes: Mapped[int] = mapped_column(default=30)
    # The learner's projects, in their own words.
    projects: Mapped[str] = mapped_column(sa.Text, default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    enrolment: Mapped[Enrolment] = relationship(back_populates="interview", lazy="raise")


class PathModule(Base):
    """One module of the learning path chosen at the interview, in order."""

    __tablename__ = "path_module"
    __table_args__ = (sa.UniqueConstraint("enrolment_id", "module_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrolment.id", ondelete="CASCADE"))
    # Indexed for the coordination's "modules chosen" figure (a count per module).
    module_id: Mapped[int] = mapped_column(sa.ForeignKey("module.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)

    module: Mapped[Module] = relationship(lazy="joined")


class WorkshopSession(Base):
    __tablename__ = "workshop_session"
    __table_args__ = (sa.Index("ix_workshop_session_epm_starts", "epm_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    epm_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"))
    module_id: Mapped[int] = mapped_column(sa.ForeignKey("module.id"), index=True)
    animator_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    starts_at: Mapped[dt.datetime]
    duration_minutes: Mapped[int] = mapped_column(default=120)
    capacity: Mapped[int] = mapped_column(default=5)
    cancelled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    epm: Mapped[Organisation] = relationship(lazy="raise")
    module: Mapped[Module] = relationship(lazy="raise")
    animator: Mapped[User | None] = relationship(lazy="raise")
    attendances: Mapped[list[Attendance]] = relationship(
        back_populates="session", cascade="all, delete-orphan", lazy="raise"
    )

    @property
    def ends_at(self) -> dt.datetime:
        return self.starts_at + dt.timedelta(minutes=self.duration_minutes)


class Attendance(Base):
    __tablename__ = "attendance"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "enrolment_id"),
        check_in("status", [s.value for s in AttendanceStatus], "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("workshop_session.id", ondelete="CASCADE"))
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrolment.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(sa.String(10), default=AttendanceStatus.EXPECTED.value)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    recorded_at: Mapped[dt.datetime | None]

    session: Mapped[WorkshopSession] = relationship(back_populates="attendances", lazy="raise")
    enrolment: Mapped[Enrolment] = relationship(lazy="raise")
