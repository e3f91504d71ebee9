"""Invitations of staff members: a one-time link through which a new staff member (or one whose first
invitation expired) chooses their password. Only the SHA-256 of the link's token is kept. The printed
card of a staff member is a ``LoginCard``, like a learner's."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.auth.models import User
from portfolio.db import Base, check_in, utcnow

DELIVERIES = ("email", "shown")  # sent by e-mail, or shown once to the inviter who hands it over


class StaffInvitation(Base):
    __tablename__ = "staff_invitation"
    __table_args__ = (check_in("delivery", DELIVERIES, "delivery"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    delivery: Mapped[str] = mapped_column(sa.String(10))
    sent_to: Mapped[str] = mapped_column(sa.String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    # Set when the link is used to choose a password, or when a newer invitation or card replaces it.
    used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="raise")

    def is_open(self, now: dt.datetime) -> bool:
        return self.used_at is None and self.revoked_at is None and now < self.expires_at
