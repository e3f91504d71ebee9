"""Login cards: a printed one-time code that a learner without e-mail exchanges for a password of
their own at first sign-in. Printing a new card is the password reset: the earlier card and the old
password stop working, and every open session of the learner ends."""

from __future__ import annotations

import datetime as dt
import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portfolio.auth.models import LoginCard, User
from portfolio.auth.passwords import hash_password, verify_password
from portfolio.auth.services import find_user
from portfolio.db import utcnow

# No 0/O, 1/I/L, 5/S, 2/Z, 8/B: easy to read aloud and to type from paper.
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 8
CARD_VALID_DAYS = 60


def normalise_code(text: str) -> str:
    return "".join(c for c in (text or "").upper() if c.isalnum())


def format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def new_card(session: Session, user: User, printed_by: User | None, now: dt.datetime | None = None
             ) -> tuple[LoginCard, str]:
    """A new card for ``user``; returns it with its code in clear (shown once, on the printed card)."""
    now = now or utcnow()
    session.execute(
        sa.update(LoginCard).where(LoginCard.user_id == user.id, LoginCard.used_at.is_(None),
                                   LoginCard.revoked_at.is_(None)).values(revoked_at=now)
    )
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    card = LoginCard(user_id=user.id, code_hash=hash_password(code), created_at=now,
                     printed_by_id=printed_by.id if printed_by is not None else None,
                     expires_at=now + dt.timedelta(days=CARD_VALID_DAYS))
    session.add(card)
    user.password_hash = None
    user.session_version += 1
    session.flush()
    return card, format_code(code)


def check_code(session: Session, username: str, code: str, now: dt.datetime | None = None) -> LoginCard | None:
    """The usable card of this user whose code this is, or None."""
    now = now or utcnow()
    user = find_user(session, username)
    cleaned = normalise_code(code)
    card = None
    if user is not None and user.active:
        card = session.scalar(
            sa.select(LoginCard).where(LoginCard.user_id == user.id, LoginCard.used_at.is_(None),
                                       LoginCard.revoked_at.is_(None))
            .order_by(LoginCard.created_at.desc()).limit(1)
        )
    if card is None or not card.is_usable(now):
        verify_password(None, cleaned)  # the same time whether or not a card exists
        return None
    return card if verify_password(card.code_hash, cleaned) else None


def redeem(session: Session, card: LoginCard, password: str, now: dt.datetime | None = None) -> User:
    """Exchange the card's code for the learner's own password; the card cannot be used again."""
    now = now or utcnow()
    user = session.get(User, card.user_id)
    assert user is not None
    card.used_at = now
    user.password_hash = hash_password(password)
    user.session_version += 1
    session.flush()
    return user  # ``start_session`` records the sign-in (and reads the previous one first)


def pending_card(session: Session, user_id: int, now: dt.datetime | None = None) -> LoginCard | None:
    """The learner's card not yet exchanged, if any (to tell the animator)."""
    now = now or utcnow()
    card = session.scalar(
        sa.select(LoginCard).where(LoginCard.user_id == user_id, LoginCard.used_at.is_(None),
                                   LoginCard.revoked_at.is_(None)).order_by(LoginCard.created_at.desc()).limit(1))
    return card if card is not None and card.is_usable(now) else None
