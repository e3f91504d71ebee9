"""My account: changing my password; who signed in to it and every new way into it (a login card printed, an
identity linked, a password changed), listed for its holder and announced at her next sign-in."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portfolio.audit.models import AuditEvent
from portfolio.auth.models import User
from portfolio.auth.password_policy import password_problems
from portfolio.auth.passwords import hash_password
from portfolio.auth.sessions import sign_out_everywhere

SIGN_IN_ACTIONS = ("auth.login", "auth.login_failed", "auth.throttled")
# A new way into an account: announced to its holder at her next sign-in, and listed on "Qui s'est connecté".
WAYS_IN = {
    "auth.login_card": _l("Une carte de connexion a été imprimée pour ce compte"),
    "auth.first_sign_in": _l("Une carte de connexion a servi : un nouveau mot de passe a été choisi"),
    "sso.invitation_created": _l("Une invitation à relier un compte externe a été créée"),
    "sso.linked": _l("Un compte externe (portail, FranceConnect…) a été relié"),
    "account.password_changed": _l("Le mot de passe a été changé"),
    "staff.invitation_created": _l("Une invitation à choisir un nouveau mot de passe a été créée"),
    "staff.card_printed": _l("Une carte d'accès a été imprimée pour ce compte"),
}
ACCESS_LABELS = {
    "auth.login": _l("Connexion réussie"),
    "auth.login_failed": _l("Mot de passe refusé"),
    "auth.throttled": _l("Essais ralentis après plusieurs mots de passe refusés"),
    **WAYS_IN,
}
NEW_WAYS_IN = "new_ways_in"  # in the browser's session: how many new ways in to announce (a number only)


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


def _about(user: User) -> Any:
    """The audit events of ``user``'s account: its sign-ins, the refusals under its name, its new ways in."""
    refused_for_me = sa.and_(AuditEvent.action.in_(("auth.login_failed", "auth.throttled")),
                             AuditEvent.details["username"].as_string() == user.username)
    return sa.or_(sa.and_(AuditEvent.action == "auth.login", AuditEvent.actor_id == user.id), refused_for_me,
                  sa.and_(AuditEvent.action.in_(list(WAYS_IN)), AuditEvent.subject_user_id == user.id))


@dataclass(frozen=True)
class AccessPage:
    events: list[AuditEvent]
    older: int | None  # the id to continue from, if there are older events


def access_history(session: Session, user: User, before: int | None = None, limit: int = 50) -> AccessPage:
    """Who signed in to ``user``'s account, the refused attempts, and every new way in (a card printed, an
    identity linked, a password changed…), newest first, a page at a time (keyset on the event's id)."""
    query = sa.select(AuditEvent).where(_about(user)).order_by(AuditEvent.id.desc()).limit(limit + 1)
    if before is not None:
        query = query.where(AuditEvent.id < before)
    events = list(session.scalars(query))
    return AccessPage(events[:limit], events[limit - 1].id if len(events) > limit else None)


def recent_sign_ins(session: Session, user: User, limit: int = 5) -> list[AuditEvent]:
    """The latest sign-ins, refused attempts and new ways in of ``user``'s account, newest first."""
    return access_history(session, user, limit=limit).events


def new_ways_in_since(session: Session, user: User, since: dt.datetime) -> int:
    """How many new ways into ``user``'s account were made after ``since`` (her previous sign-in)."""
    return session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.action.in_(list(WAYS_IN)), AuditEvent.subject_user_id == user.id,
        AuditEvent.created_at > since)) or 0
