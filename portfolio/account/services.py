"""My account: changing my password, and the recent sign-ins shown to me."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portfolio.audit.models import AuditEvent
from portfolio.auth.models import User
from portfolio.auth.password_policy import password_problems
from portfolio.auth.passwords import hash_password
from portfolio.auth.sessions import sign_out_everywhere

SIGN_IN_ACTIONS = ("auth.login", "auth.login_failed", "auth.throttled")


class PasswordRefused(ValueError):
    pass


def change_password(session: Session, user: User, new_password: str) -> None:
    """Set a new password (checked against the policy) and end every other session of ``user``."""
    problems = password_problems(new_password, username=user.username)
    if problems:
        raise PasswordRefused(problems[0])
    user.password_hash = hash_password(new_password)
    sign_out_everywhere(session, user, keep_current=True)
    session.flush()


def recent_sign_ins(session: Session, user: User, limit: int = 5) -> list[AuditEvent]:
    """The latest sign-ins and refused attempts on ``user``'s account, newest first."""
    refused_for_me = sa.and_(AuditEvent.action.in_(("auth.login_failed", "auth.throttled")),
                             AuditEvent.details["username"].as_string() == user.username)
    return list(session.scalars(
        sa.select(AuditEvent)
        .where(sa.or_(sa.and_(AuditEvent.action == "auth.login", AuditEvent.actor_id == user.id), refused_for_me))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    ))
