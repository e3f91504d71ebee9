"""Writing to the audit log. Append-only: there is no update path, and deletion happens only in
``purge_older_than`` (``ticketnet purge``) past the retention period; ``pseudonymise_person`` replaces
a deleted account's identity in the events that name it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portfolio.audit.models import PSEUDONYMISE_OPTION, PURGE_OPTION, AuditEvent
from portfolio.auth.models import User
from portfolio.db import utcnow
from portfolio.orgs.models import Organisation


def record(
    session: Session,
    action: str,
    *,
    actor: User | None = None,
    organisation: Organisation | None = None,
    target_type: str = "",
    target_id: object = "",
    subject_user_id: int | None = None,
    details: dict[str, Any] | None = None,
    ip: str = "",
) -> AuditEvent:
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor is not None else None,
        actor_name=actor.display_name if actor is not None else "",
        organisation_id=organisation.id if organisation is not None else None,
        organisation_name=organisation.name if organisation is not None else "",
        target_type=target_type,
        target_id=str(target_id) if target_id != "" else "",
        subject_user_id=subject_user_id,
        details=details,
        ip=ip,
    )
    session.add(event)
    return event


def record_now(factory: Callable[[], Session], action: str, **fields: Any) -> None:
    """Record an event in a transaction of its own, kept even when the request's own work is rolled
    back (a refused request, such as a sign-in refused by a rate limit, answers 4xx)."""
    with factory() as session:
        record(session, action, **fields)
        session.commit()


def purge_older_than(session: Session, days: int, now: dt.datetime | None = None) -> int:
    cutoff = (now or utcnow()) - dt.timedelta(days=days)
    statement = sa.delete(AuditEvent).where(AuditEvent.created_at < cutoff).execution_options(**{PURGE_OPTION: True})
    result = session.execute(statement)
    return result.rowcount or 0


def pseudonymise_person(session: Session, user_id: int, username: str, alias: str) -> None:
    """A deleted account: its events stay, under ``alias``, without the link to the account; so do the
    failed sign-ins that carried its username."""
    option = {PSEUDONYMISE_OPTION: True}
    session.execute(sa.update(AuditEvent).where(AuditEvent.actor_id == user_id)
                    .values(actor_name=alias, details=None, actor_id=None).execution_options(**option))
    session.execute(sa.update(AuditEvent).where(AuditEvent.subject_user_id == user_id)
                    .values(subject_user_id=None).execution_options(**option))
    session.execute(sa.update(AuditEvent)
                    .where(AuditEvent.action == "auth.login_failed",
                           AuditEvent.details["username"].as_string() == username)
                    .values(details={"username": alias}).execution_options(**option))
