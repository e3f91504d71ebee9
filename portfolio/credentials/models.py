"""Open Badges 3.0 credentials: the issuing organisations' keys, the learners' stable identifiers, and each
credential issued (its signed JSON, its place in its issuer's status list)."""

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


class CredentialKind(enum.StrEnum):
    PATH = "path"  # (a) the Ticket Net path completed, issued by the EPM
    DOMAIN = "domain"  # (b) a B2i Adultes domain validated, by the EPM or the training body whose voice did it
    CERTIFICATION = "certification"  # (c) a positive certification decision, by the training body


class CredentialStatus(enum.StrEnum):
    PENDING = "pending"  # awarded, waiting for its issuer's key (production without a key yet)
    ACTIVE = "active"
    REVOKED = "revoked"


class RevocationReason(enum.StrEnum):
    DECISION_WITHDRAWN = "decision_withdrawn"
    TICKET_FRAUD = "ticket_fraud"
    ACCOUNT_DELETED = "account_deleted"
    PATH_CORRECTED = "path_corrected"  # attendance corrected: the path is no longer complete
    REPLACED = "replaced"  # the learner asked for it again, with other evidence
    ISSUER = "issuer"  # revoked by hand (ticketnet credentials revoke)


# Each issuer's Bitstring Status List: 131 072 entries (16 KiB), the minimum the standard asks for.
STATUS_LIST_SIZE = 131_072


class IssuerKey(Base):
    """An Ed25519 key of an issuing organisation. Only the public half is here; the private half is a file
    of the key folder or an environment variable (``portfolio.credentials.keys``). A rotated key keeps its
    row (``retired_at``) and stays listed in the organisation's DID document."""

    __tablename__ = "credential_issuer_key"
    __table_args__ = (
        sa.Index("uq_credential_issuer_key_current", "organisation_id", unique=True,
                 sqlite_where=sa.text("retired_at IS NULL"), postgresql_where=sa.text("retired_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    public_key: Mapped[str] = mapped_column(sa.String(64), unique=True)  # Multikey, "z6Mk..."
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[dt.datetime | None]

    organisation: Mapped[Organisation] = relationship(lazy="raise")


class CredentialHolder(Base):
    """The stable identifier a learner's credentials name her by (``urn:uuid:...``), never her e-mail; the
    salted hash of her e-mail goes in only if she has one and agreed."""

    __tablename__ = "credential_holder"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), unique=True)
    subject_id: Mapped[str] = mapped_column(sa.String(60), unique=True)
    include_email: Mapped[bool] = mapped_column(default=False)
    email_salt: Mapped[str] = mapped_column(sa.String(40), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


KINDS = [k.value for k in CredentialKind]


class Credential(Base):
    """One credential issued to a learner. ``document`` is the signed JSON exactly as it is handed out (erased
    when her account is deleted); ``status_index`` is its bit in the issuer's status list."""

    __tablename__ = "credential"
    __table_args__ = (
        check_in("kind", KINDS, "kind"),
        check_in("status", [s.value for s in CredentialStatus], "status"),
        check_in("revocation_reason", [r.value for r in RevocationReason], "revocation_reason"),
        sa.UniqueConstraint("organisation_id", "status_index"),
        # What the scheme awards once: one standing credential per ticket's path, per learner and domain,
        # and per decision.
        sa.Index("uq_credential_path_ticket", "ticket_id", unique=True,
                 sqlite_where=sa.text("kind = 'path' AND status != 'revoked'"),
                 postgresql_where=sa.text("kind = 'path' AND status != 'revoked'")),
        sa.Index("uq_credential_domain_holder", "holder_id", "domain_code", unique=True,
                 sqlite_where=sa.text("kind = 'domain' AND status != 'revoked'"),
                 postgresql_where=sa.text("kind = 'domain' AND status != 'revoked'")),
        sa.Index("uq_credential_submission", "submission_id", unique=True,
                 sqlite_where=sa.text("kind = 'certification'"), postgresql_where=sa.text("kind = 'certification'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(60), unique=True)  # the credential's "id", urn:uuid:...
    holder_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[str] = mapped_column(sa.String(10), default=CredentialStatus.PENDING.value)
    status_index: Mapped[int]
    ticket_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ticket.id", ondelete="SET NULL"), index=True)
    submission_id: Mapped[int | None] = mapped_column(sa.ForeignKey("submission.id", ondelete="SET NULL"))
    domain_code: Mapped[str | None] = mapped_column(sa.String(20))
    title: Mapped[str] = mapped_column(sa.String(300))
    # What the credential says, before signing (kept so that a pending one can be signed later).
    content: Mapped[dict[str, Any] | None]
    document: Mapped[dict[str, Any] | None]
    key_id: Mapped[int | None] = mapped_column(sa.ForeignKey("credential_issuer_key.id"))
    awarded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    issued_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    revocation_reason: Mapped[str | None] = mapped_column(sa.String(24))

    holder: Mapped[User | None] = relationship(lazy="raise")
    organisation: Mapped[Organisation] = relationship(lazy="raise")
    key: Mapped[IssuerKey | None] = relationship(lazy="raise")
