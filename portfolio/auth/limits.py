"""Sign-in rate limits (Flask-Limiter): every attempt per address, failed attempts per account.

The per-account limit counts only failures (a locked account stays locked until the window passes,
even with the right password) and is shared by every form that checks a password (the sign-in page,
the confirmation before a sensitive action). Refusals answer 429 with a French message that says how
long to wait and whom to ask, and a lockout is written to the audit log.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, g, request
from flask_babel import ngettext
from flask_limiter import RequestLimit
from flask_login import current_user
from limits import parse
from werkzeug.wrappers import Response

from portfolio.audit import services as audit
from portfolio.auth.services import normalise_username
from portfolio.extensions import db, limiter

F = TypeVar("F", bound=Callable[..., Any])


def attempted_username() -> str:
    typed = request.form.get("username")
    if typed is None and current_user.is_authenticated:
        return str(current_user.username)
    return normalise_username(typed or "")[:80]


def _account_key() -> str:
    return f"signin-account:{attempted_username()}"


def _per_account() -> str:
    return str(current_app.config["LOGIN_LIMIT_PER_ACCOUNT"])


def _per_address() -> str:
    return str(current_app.config["LOGIN_LIMIT_PER_ADDRESS"])


def _minutes(limit: str) -> int:
    return max(1, math.ceil(parse(limit).get_expiry() / 60))


def _account_message() -> str:
    minutes = _minutes(_per_account())
    return ngettext(
        "Trop d'essais avec un mauvais mot de passe pour ce compte. Par sécurité, il est bloqué pendant "
        "%(num)d minute. Attendez, puis réessayez. Vous avez oublié votre mot de passe ? Demandez à "
        "l'animateur ou l'animatrice de votre EPM une nouvelle carte de connexion.",
        "Trop d'essais avec un mauvais mot de passe pour ce compte. Par sécurité, il est bloqué pendant "
        "%(num)d minutes. Attendez, puis réessayez. Vous avez oublié votre mot de passe ? Demandez à "
        "l'animateur ou l'animatrice de votre EPM une nouvelle carte de connexion.",
        minutes,
    )


def _address_message() -> str:
    minutes = _minutes(_per_address())
    return ngettext(
        "Trop d'essais de connexion depuis cet appareil ou ce réseau. Attendez %(num)d minute, puis réessayez.",
        "Trop d'essais de connexion depuis cet appareil ou ce réseau. Attendez %(num)d minutes, puis réessayez.",
        minutes,
    )


def note_failed_attempt() -> None:
    """Views call this when a password was wrong: the per-account limit counts this request."""
    g.signin_failed = True


def _counts_as_failure(response: Response) -> bool:
    return bool(g.get("signin_failed"))


def _on_lockout(request_limit: RequestLimit) -> None:
    # The request answers 429 and is rolled back: the event is written in a transaction of its own.
    audit.record_now(db.state().sessionmaker, "auth.lockout", details={
        "username": attempted_username(), "limit": str(request_limit.limit)}, ip=request.remote_addr or "")


def signin_limits(view: F) -> F:
    """Both limits, on the POSTs of a view that checks a password."""
    per_account = limiter.shared_limit(_per_account, "signin-account", key_func=_account_key, methods=["POST"],
                                       deduct_when=_counts_as_failure, error_message=_account_message,
                                       on_breach=_on_lockout)
    per_address = limiter.shared_limit(_per_address, "signin-address", methods=["POST"],
                                       error_message=_address_message)
    return per_address(per_account(view))  # type: ignore[return-value]
