"""Password hashing with argon2id (argon2-cffi's RFC 9106 low-memory profile by default)."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context


@cache
def _hasher(profile: str) -> PasswordHasher:
    # "cheapest" exists for the test suite only, where thousands of hashes would otherwise cost minutes.
    chosen = profiles.CHEAPEST if profile == "cheapest" else profiles.RFC_9106_LOW_MEMORY
    return PasswordHasher.from_parameters(chosen)


def hasher() -> PasswordHasher:
    profile = current_app.config.get("PASSWORD_HASH_PROFILE", "") if has_app_context() else ""
    return _hasher(profile)


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        # Spend the same time as a real check, so that a missing account does not show.
        hasher().hash(password)
        return False
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
