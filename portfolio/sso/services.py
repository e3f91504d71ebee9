"""Single sign-on rules: invitations, linking an identity of a provider to an account, and finding
the account an identity signs in. No account is ever created here, and nothing links by e-mail."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from portfolio.auth.models import Role, User
from portfolio.db import utcnow
from portfolio.sso.models import ExternalIdentity, SignInInvitation


class LinkRefused(Exception):
    """The identity cannot be linked; ``reason`` is a short code the view turns into a message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_invitation(session: Session, user: User, created_by: User | None, days: int,
                      now: dt.datetime | None = None) -> tuple[SignInInvitation, str]:
    """A new invitation for ``user`` and its secret token (shown once). Older open invitations of the
    same account are revoked: only the latest link works. Never for an account that owns a portfolio: a
    learner links an identity herself (``link_own_identity``); views ask ``can_create_sign_in_means``."""
    if Role.BENEFICIARY in user.roles:
        raise LinkRefused("owner_only")
    now = now or utcnow()
    for older in open_invitations(session, user, now):
        older.revoked_at = now
    token = secrets.token_urlsafe(32)
    invitation = SignInInvitation(user_id=user.id, token_hash=_digest(token),
                                  created_by_id=created_by.id if created_by else None,
                                  created_at=now, expires_at=now + dt.timedelta(days=days))
    session.add(invitation)
    session.flush()
    return invitation, token


def open_invitations(session: Session, user: User, now: dt.datetime | None = None) -> list[SignInInvitation]:
    now = now or utcnow()
    return list(session.scalars(
        sa.select(SignInInvitation).where(
            SignInInvitation.user_id == user.id, SignInInvitation.used_at.is_(None),
            SignInInvitation.revoked_at.is_(None), SignInInvitation.expires_at > now,
        ).order_by(SignInInvitation.id)
    ))


def find_invitation(session: Session, token: str, now: dt.datetime | None = None) -> SignInInvitation | None:
    """The open invitation of this token (with its account), or None."""
    if not token or len(token) > 100:
        return None
    invitation = session.scalar(
        sa.select(SignInInvitation).options(joinedload(SignInInvitation.user))
        .where(SignInInvitation.token_hash == _digest(token))
    )
    if invitation is None or not invitation.is_open(now or utcnow()) or not invitation.user.active:
        return None
    if Role.BENEFICIARY in invitation.user.roles:  # made before learners linked their identities themselves
        return None
    return invitation


def revoke_invitations(session: Session, user: User, now: dt.datetime | None = None) -> int:
    now = now or utcnow()
    invitations = open_invitations(session, user, now)
    for invitation in invitations:
        invitation.revoked_at = now
    return len(invitations)


def identity_for(session: Session, issuer: str, subject: str) -> ExternalIdentity | None:
    return session.scalar(
        sa.select(ExternalIdentity).options(joinedload(ExternalIdentity.user))
        .where(ExternalIdentity.issuer == issuer, ExternalIdentity.subject == subject)
    )


def identities_of(session: Session, user: User) -> list[ExternalIdentity]:
    return list(session.scalars(
        sa.select(ExternalIdentity).where(ExternalIdentity.user_id == user.id).order_by(ExternalIdentity.id)
    ))


def link_identity(session: Session, invitation: SignInInvitation, provider: str, issuer: str, subject: str,
                  now: dt.datetime | None = None) -> ExternalIdentity:
    """Use ``invitation`` to link (issuer, subject) to its account. Refused if the invitation is no
    longer open, or if the identity already signs in another account."""
    now = now or utcnow()
    if not invitation.is_open(now):
        raise LinkRefused("invitation_closed")
    account = session.get(User, invitation.user_id)
    if account is None or Role.BENEFICIARY in account.roles:  # a learner links her identity herself
        raise LinkRefused("invitation_closed")
    identity = identity_for(session, issuer, subject)
    if identity is not None and identity.user_id != invitation.user_id:
        raise LinkRefused("linked_elsewhere")
    if identity is None:
        identity = ExternalIdentity(user_id=invitation.user_id, provider=provider, issuer=issuer,
                                    subject=subject, created_at=now)
        session.add(identity)
        session.flush()
    identity.last_used_at = now
    invitation.used_at = now
    invitation.identity_id = identity.id
    return identity


def link_own_identity(session: Session, user: User, provider: str, issuer: str, subject: str,
                      now: dt.datetime | None = None) -> tuple[ExternalIdentity, bool]:
    """The signed-in person links (issuer, subject) to her own account; returns it and whether it is new.
    Refused if the identity already signs in another account."""
    now = now or utcnow()
    identity = identity_for(session, issuer, subject)
    if identity is not None and identity.user_id != user.id:
        raise LinkRefused("linked_elsewhere")
    created = identity is None
    if identity is None:
        identity = ExternalIdentity(user_id=user.id, provider=provider, issuer=issuer, subject=subject,
                                    created_at=now)
        session.add(identity)
        session.flush()
    identity.last_used_at = now
    return identity, created


def can_unlink(session: Session, identity: ExternalIdentity, user: User) -> bool:
    """Removing ``identity`` must leave its owner a way to sign in (a password or another identity)."""
    if user.password_hash:
        return True
    return session.scalar(sa.select(sa.func.count(ExternalIdentity.id)).where(
        ExternalIdentity.user_id == user.id, ExternalIdentity.id != identity.id)) > 0


def unlink_identity(session: Session, identity: ExternalIdentity) -> None:
    session.delete(identity)
    session.flush()
