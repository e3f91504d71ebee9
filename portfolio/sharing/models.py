"""Consents given by a portfolio's owner, and evidence files sent for certification."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.db import Base, check_in, utcnow

if TYPE_CHECKING:
    from portfolio.auth.models import User
    from portfolio.orgs.models import Organisation


class ConsentScope(enum.StrEnum):
    COMPETENCES = "competences"
    JOURNAL = "journal"
    FULL = "full"


class ConsentMethod(enum.StrEnum):
    ONLINE = "online"
    PAPER = "paper"


class Consent(Base):
    """The owner lets an organisation read their portfolio within a scope, for a while.
    Valid when ``starts_at <= now < ends_at`` and not revoked; expiry needs no job."""

    __tablename__ = "consent"
    __table_args__ = (
        check_in("scope", [s.value for s in ConsentScope], "scope"),
        check_in("method", [m.value for m in ConsentMethod], "method"),
        check_in("revoked_method", [m.value for m in ConsentMethod], "revoked_method"),
        sa.Index("ix_consent_org_owner", "organisation_id", "owner_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(sa.String(12))
    starts_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ends_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    # How the owner withdrew it: online (themselves) or on paper (recorded by an animator, ``revoked_by``);
    # empty when it ended otherwise (replaced by a new consent to the same organisation, account deleted).
    revoked_method: Mapped[str | None] = mapped_column(sa.String(10))
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    method: Mapped[str] = mapped_column(sa.String(10), default=ConsentMethod.ONLINE.value)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    # The SHA-256 of the exact text the owner agreed to, the version of that text and its language
    # (``portfolio.sharing.services.consent_text`` gives the text again from these).
    text_hash: Mapped[str] = mapped_column(sa.String(64))
    text_version: Mapped[str] = mapped_column(sa.String(20), default="1")
    text_language: Mapped[str] = mapped_column(sa.String(5), default="fr")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    owner: Mapped[User] = relationship(foreign_keys=[owner_id], lazy="raise")
    organisation: Mapped[Organisation] = relationship(lazy="raise")
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id], lazy="raise")
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id], lazy="raise")

    def is_valid(self, now: dt.datetime) -> bool:
        return self.revoked_at is None and self.starts_at <= now < self.ends_at


class SubmissionStatus(enum.StrEnum):
    SENT = "sent"
    WITHDRAWN = "withdrawn"
    DECIDED = "decided"


class Decision(enum.StrEnum):
    READY = "ready"
    TO_COMPLETE = "to_complete"


class Submission(Base):
    """A frozen snapshot of the evidence file (dossier de preuves) sent to one training body."""

    __tablename__ = "submission"
    __table_args__ = (
        check_in("status", [s.value for s in SubmissionStatus], "status"),
        sa.CheckConstraint("decision IS NULL OR decision IN ('ready', 'to_complete')", name="decision"),
        sa.Index("ix_submission_org_status", "organisation_id", "status", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"))
    snapshot: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(sa.String(10), default=SubmissionStatus.SENT.value)
    sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[dt.datetime | None]
    decision: Mapped[str | None] = mapped_column(sa.String(12))
    decision_comment: Mapped[str] = mapped_column(sa.Text, default="")
    decided_at: Mapped[dt.datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    # On the attestation, once decided: "TN-7KQ4-M2XP" (see portfolio.sharing.submissions).
    verification_code: Mapped[str | None] = mapped_column(sa.String(20), unique=True)

    owner: Mapped[User] = relationship(foreign_keys=[owner_id], lazy="raise")
    organisation: Mapped[Organisation] = relationship(lazy="raise")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id], lazy="raise")
