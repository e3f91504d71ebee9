"""The audit log: append-only. The application has no path that updates or deletes a row, except
``ticketnet purge`` past the retention period, and the pseudonymisation of a person who deleted their
account (their name replaced, the link to their account cleared; the events themselves stay)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portfolio.db import Base, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (sa.Index("ix_audit_event_subject_created", "subject_user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    # The actor's name and organisation at the time of the event, kept when the account changes.
    actor_name: Mapped[str] = mapped_column(sa.String(200), default="")
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisation.id", ondelete="SET NULL"))
    organisation_name: Mapped[str] = mapped_column(sa.String(200), default="")
    action: Mapped[str] = mapped_column(sa.String(60), index=True)
    target_type: Mapped[str] = mapped_column(sa.String(40), default="")
    target_id: Mapped[str] = mapped_column(sa.String(40), default="")
    # Whose data the event concerns (the owner of the portfolio read, for instance).
    subject_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    details: Mapped[dict[str, Any] | None]
    ip: Mapped[str] = mapped_column(sa.String(45), default="")


# --- Append-only, enforced in the application -----------------------------------------------------
# The unit of work refuses to update or delete an AuditEvent, and every engine refuses an UPDATE or a
# DELETE statement on the table (ORM bulk or Core) unless it carries the ``audit_purge`` execution
# option, which only ``portfolio.audit.services.purge_older_than`` sets, or an UPDATE of the identity
# columns only with the ``audit_pseudonymise`` option, which only ``pseudonymise_person`` sets.

PURGE_OPTION = "audit_purge"
PSEUDONYMISE_OPTION = "audit_pseudonymise"
IDENTITY_COLUMNS = frozenset({"actor_id", "actor_name", "subject_user_id", "details"})


class AuditLogIsAppendOnly(RuntimeError):
    """Something tried to change or remove an audit event."""


@sa.event.listens_for(AuditEvent, "before_update")
def _refuse_update(mapper: Any, connection: Any, target: AuditEvent) -> None:
    raise AuditLogIsAppendOnly(f"audit event {target.id} cannot be changed: the audit log is append-only")


@sa.event.listens_for(AuditEvent, "before_delete")
def _refuse_delete(mapper: Any, connection: Any, target: AuditEvent) -> None:
    raise AuditLogIsAppendOnly(f"audit event {target.id} cannot be deleted: only `ticketnet purge` removes events")


@sa.event.listens_for(sa.Engine, "before_execute")
def _refuse_statements(conn: sa.Connection, clauseelement: Any, multiparams: Any, params: Any,
                       execution_options: Any) -> None:
    if not isinstance(clauseelement, sa.Update | sa.Delete):
        return
    if getattr(clauseelement.table, "name", None) != AuditEvent.__tablename__:
        return
    options = {**clauseelement.get_execution_options(), **execution_options}
    if isinstance(clauseelement, sa.Delete) and options.get(PURGE_OPTION):
        return
    if isinstance(clauseelement, sa.Update) and options.get(PSEUDONYMISE_OPTION):
        changed = {getattr(column, "key", str(column)) for column in clauseelement._values or {}}
        if changed and changed <= IDENTITY_COLUMNS:
            return
    raise AuditLogIsAppendOnly("UPDATE and DELETE on audit_event are refused: the audit log is append-only")
