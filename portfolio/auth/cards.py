"""Login cards: a printed one-time code that a learner without e-mail exchanges for a password of
their own at first sign-in (a new staff member's access card is one too). Printing a new card is the
password reset: the earlier card and the old password stop working, and every open session ends.

So that nobody revokes a card already handed out without knowing it (a second click, a reload, a
colleague printing at the same time), the page that prints a card names the way in it replaces
(``access_state``) and ``new_card(..., expected_state=...)`` refuses when that has changed meanwhile."""

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


class AccessChanged(Exception):
    """The account's way in changed since the page that prints the card was shown (a card was printed or a
    password chosen meanwhile): nothing was printed."""


def access_state(session: Session, user: User, now: dt.datetime | None = None) -> str:
    """How ``user`` gets in now: ``card-<id>`` (a card waiting for its first use), ``password`` or ``none``."""
    card = pending_card(session, user.id, now)
    if card is not None:
        return f"card-{card.id}"
    return "password" if user.password_hash else "none"


def lock_account(session: Session, user: User) -> None:
    """Hold ``user``'s row until the end of the transaction (PostgreSQL), so that two cards or invitations
    printed at once for the same person are made one after the other."""
    session.execute(sa.select(User.id).where(User.id == user.id).with_for_update())
    session.refresh(user, ["password_hash", "session_version", "active"])


def new_card(session: Session, user: User, printed_by: User | None, now: dt.datetime | None = None, *,
             expected_state: str | None = None, days: int = CARD_VALID_DAYS) -> tuple[LoginCard, str]:
    """A new card for ``user``; returns it with its code in clear (shown once, on the printed card).
    With ``expected_state`` (the ``access_state`` the page showed), ``AccessChanged`` if it changed since."""
    now = now or utcnow()
    if expected_state is not None:
        lock_account(session, user)
        if access_state(session, user, now) != expected_state:
            raise AccessChanged(user.id)
    session.execute(
        sa.update(LoginCard).where(LoginCard.user_id == user.id, LoginCard.used_at.is_(None),
                                   LoginCard.revoked_at.is_(None)).values(revoked_at=now)
    )
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    card = LoginCard(user_id=user.id, code_hash=hash_password(code), created_at=now,
                     printed_by_id=printed_by.id if printed_by is not None else None,
                     expires_at=now + dt.timedelta(days=days))
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


def access_states(session: Session, users: list[User], now: dt.datetime | None = None) -> dict[int, str]:
    """``access_state`` of many people at once (one query): for a workshop group's cards."""
    now = now or utcnow()
    if not users:
        return {}
    latest: dict[int, LoginCard] = {}
    for card in session.scalars(sa.select(LoginCard).where(
            LoginCard.user_id.in_([u.id for u in users]), LoginCard.used_at.is_(None),
            LoginCard.revoked_at.is_(None)).order_by(LoginCard.user_id, LoginCard.created_at.desc())):
        latest.setdefault(card.user_id, card)
    states = {}
    for user in users:
        card = latest.get(user.id)
        if card is not None and card.is_usable(now):
            states[user.id] = f"card-{card.id}"
        else:
            states[user.id] = "password" if user.password_hash else "none"
    return states


def new_cards(session: Session, wanted: list[tuple[User, str]], printed_by: User | None,
              now: dt.datetime | None = None, days: int = CARD_VALID_DAYS) -> list[tuple[LoginCard, str]]:
    """Cards for several people at once (a workshop group), each replacing the way in (``access_state``) that
    the page showed; ``AccessChanged`` and nothing printed if any of them changed meanwhile."""
    now = now or utcnow()
    users = [user for user, _state in wanted]
    if not users:
        return []
    session.scalars(sa.select(User).where(User.id.in_([u.id for u in users])).order_by(User.id).with_for_update()
                    .execution_options(populate_existing=True)).all()
    states = access_states(session, users, now)
    changed = [user.id for user, expected in wanted if states[user.id] != expected]
    if changed:
        raise AccessChanged(*changed)
    return [new_card(session, user, printed_by, now, days=days) for user in users]
