"""Accounts: creating users and memberships, and checking a sign-in."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portfolio.auth.models import Membership, Role, User
from portfolio.auth.passwords import hash_password, needs_rehash, verify_password
from portfolio.orgs.models import Organisation


def normalise_username(username: str) -> str:
    return username.strip().lower()


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == normalise_username(username)))


def create_user(
    session: Session,
    username: str,
    *,
    password: str | None = None,
    password_hash: str | None = None,
    first_name: str = "",
    last_name: str = "",
    email: str | None = None,
) -> User:
    user = User(
        username=normalise_username(username),
        first_name=first_name,
        last_name=last_name,
        email=email or None,
        password_hash=password_hash if password_hash is not None else (
            hash_password(password) if password else None
        ),
    )
    session.add(user)
    return user


def add_membership(session: Session, user: User, organisation: Organisation, role: Role) -> Membership:
    membership = Membership(user=user, organisation=organisation, role=role.value)
    session.add(membership)
    return membership


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user whose name and password these are, or None. Rehashes an outdated hash."""
    user = find_user(session, username)
    if user is None or not user.active:
        verify_password(None, password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user  # ``start_session`` records the sign-in (and reads the previous one first)
