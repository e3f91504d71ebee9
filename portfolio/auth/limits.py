"""Sign-in throttling that nobody can turn against someone else.

Every form that checks a password or a login card's code (the sign-in page, the login-card page, the
confirmation before a sensitive action) takes ``@signin_limits`` and calls ``note_failed_attempt()`` on a
wrong one. Three counters, all in the rate-limit store (Redis in production, shared by every worker):

1. **Per address, every attempt** (``LOGIN_LIMIT_PER_ADDRESS``, 20 a minute; Flask-Limiter): whoever hammers
   the form waits, from their own address only.
2. **Per account × address, failures, with growing delays**: ``LOGIN_FREE_FAILURES`` (5) wrong passwords for
   one account from one address are free; after each further one that address waits for that account, 2 s,
   then 4, 8, 16… up to ``LOGIN_DELAY_MAX_SECONDS`` (15 minutes). The counter forgets after an hour, and at
   the account's next sign-in from that address. Someone elsewhere hammering ``prenom.nom`` never slows her
   down at home or at her EPM: there is no lock-out of the account itself.
3. **Per account, failures from every address** (``LOGIN_LIMIT_PER_ACCOUNT``, 100 an hour; OWASP ASVS 2.2.1):
   beyond it, attempts for that account from a browser where it never signed in wait until the hour ends;
   from a browser where it signed in before (a signed *device token* left by ``start_session``, one per
   account, unreadable without the secret key) nothing changes. A botnet trying passwords from thousands of
   addresses gets 100 an hour; the person, on her own device, gets in.

Refusals answer 429 with a French message that says how long to wait and what else to do; the failure
that starts a delay, and the one that reaches the account's hourly cap, are written to the audit log.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, after_this_request, current_app, g, has_request_context, request
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from limits import parse
from limits.storage import Storage
from werkzeug.wrappers import Response

from portfolio.audit import services as audit
from portfolio.auth.services import normalise_username
from portfolio.extensions import db, limiter

F = TypeVar("F", bound=Callable[..., Any])

PREFIX = "ticketnet/signin"
FAILURE_MEMORY_SECONDS = 3600  # an address's failures for an account are forgotten after an hour
FIRST_DELAY_SECONDS = 2
DEVICE_COOKIE_DAYS = 400  # the most browsers keep a cookie
DEVICE_TOKENS_KEPT = 12  # a shared computer of an EPM remembers the last twelve accounts that signed in


def attempted_username() -> str:
    typed = request.form.get("username")
    if typed is None and current_user.is_authenticated:
        return str(current_user.username)
    return normalise_username(typed or "")[:80]


def client_address() -> str:
    """The client's address (the real one behind ``TICKETNET_PROXY_FIX`` proxies, through ProxyFix)."""
    return request.remote_addr or ""


def _enabled() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED", True)) and limiter.enabled


def _storage() -> Storage:
    return limiter.storage


def _account_key(username: str) -> str:
    # Hashed: a name typed by anybody never becomes a readable key of the store.
    return hashlib.sha256(username.encode()).hexdigest()[:32]


def _keys(username: str, address: str) -> tuple[str, str, str]:
    account = _account_key(username)
    pair = f"{account}/{address}"
    prefix = f"{current_app.config.get('RATELIMIT_KEY_PREFIX') or ''}{PREFIX}"
    return f"{prefix}/failures/{pair}", f"{prefix}/wait/{pair}", f"{prefix}/account/{account}"


def _seconds_left(storage: Storage, key: str) -> int:
    if storage.get(key) <= 0:
        return 0
    return max(1, math.ceil(storage.get_expiry(key) - time.time()))


def delay_after(failures: int) -> int:
    """How long an address waits for an account after its ``failures``-th wrong password in a row (0: none)."""
    free = int(current_app.config["LOGIN_FREE_FAILURES"])
    if failures <= free:
        return 0
    return int(min(current_app.config["LOGIN_DELAY_MAX_SECONDS"], FIRST_DELAY_SECONDS * 2 ** (failures - free - 1)))


def _account_limit() -> tuple[int, int]:
    limit = parse(str(current_app.config["LOGIN_LIMIT_PER_ACCOUNT"]))
    return limit.amount, limit.get_expiry()


# --- Devices where an account signed in --------------------------------------------------------------------


def _device_cookie() -> str:
    return str(current_app.config["DEVICE_COOKIE_NAME"])


def _device_token(user_id: int) -> str:
    secret = (current_app.secret_key or "").encode() if isinstance(current_app.secret_key, str) \
        else bytes(current_app.secret_key or b"")
    return hmac.new(secret, f"signin-device:{user_id}".encode(), hashlib.sha256).hexdigest()[:24]


def _device_tokens() -> list[str]:
    raw = request.cookies.get(_device_cookie(), "")
    return [t for t in raw.split(".") if len(t) == 24 and all(c in "0123456789abcdef" for c in t)]


def is_known_device(user_id: int | None) -> bool:
    """Whether this browser holds the device token of ``user_id``: the account signed in here before."""
    return user_id is not None and _device_token(user_id) in _device_tokens()


def remember_device(user_id: int) -> None:
    """Called by ``start_session``: this browser is one where the account signed in (its token first)."""
    if not has_request_context():
        return
    token = _device_token(user_id)
    tokens = [token] + [t for t in _device_tokens() if t != token][:DEVICE_TOKENS_KEPT - 1]

    @after_this_request
    def _set(response: Response) -> Response:
        response.set_cookie(_device_cookie(), ".".join(tokens), max_age=DEVICE_COOKIE_DAYS * 86400,
                            secure=bool(current_app.config["SESSION_COOKIE_SECURE"]), httponly=True,
                            samesite="Lax", path="/")
        return response


def forget_failures(username: str) -> None:
    """A successful sign-in: this address's failures for the account are forgotten."""
    if not has_request_context() or not _enabled():
        return
    failures, wait, _account = _keys(normalise_username(username)[:80], client_address())
    storage = _storage()
    storage.clear(failures)
    storage.clear(wait)


# --- Messages --------------------------------------------------------------------------------------------


def _duration(seconds: int) -> str:
    if seconds < 60:
        return ngettext("%(num)d seconde", "%(num)d secondes", seconds)
    minutes = math.ceil(seconds / 60)
    return ngettext("%(num)d minute", "%(num)d minutes", minutes)


def _wait_message(seconds: int) -> str:
    return _("Trop d'essais avec un mauvais mot de passe depuis cet appareil. Attendez %(wait)s, puis réessayez "
             "(ailleurs, sur votre appareil habituel, vous pouvez vous connecter). Vous avez oublié votre mot de "
             "passe ? Demandez à l'animateur ou l'animatrice de votre EPM une nouvelle carte de connexion.",
             wait=_duration(seconds))


def _account_message(seconds: int) -> str:
    return _("Ce compte reçoit beaucoup d'essais de connexion depuis d'autres appareils. Par sécurité, depuis un "
             "appareil où ce compte ne s'est jamais connecté, attendez %(wait)s. Depuis votre appareil habituel, "
             "vous pouvez vous connecter tout de suite ; sinon, votre EPM peut vous aider.",
             wait=_duration(seconds))


def _address_message() -> str:
    minutes = max(1, math.ceil(parse(_per_address()).get_expiry() / 60))
    return ngettext(
        "Trop d'essais de connexion depuis cet appareil ou ce réseau. Attendez %(num)d minute, puis réessayez.",
        "Trop d'essais de connexion depuis cet appareil ou ce réseau. Attendez %(num)d minutes, puis réessayez.",
        minutes,
    )


def _per_address() -> str:
    return str(current_app.config["LOGIN_LIMIT_PER_ADDRESS"])


# --- The decorator ------------------------------------------------------------------------------------------


def note_failed_attempt() -> None:
    """Views call this when a password (or a card's code) was wrong: the counters count this request."""
    g.signin_failed = True


def _known_user_id(username: str) -> int | None:
    from portfolio.auth.services import find_user

    found = find_user(db.session, username)
    return found.id if found is not None else None


def _refuse(message: str) -> None:
    abort(429, description=message)


def _before(username: str, address: str) -> None:
    storage = _storage()
    _failures, wait, account = _keys(username, address)
    waiting = _seconds_left(storage, wait)
    if waiting:
        _refuse(_wait_message(waiting))
    cap, _window = _account_limit()
    if storage.get(account) >= cap and not is_known_device(_known_user_id(username)):
        _refuse(_account_message(_seconds_left(storage, account)))


def _after_failure(username: str, address: str) -> None:
    storage = _storage()
    failures_key, wait, account = _keys(username, address)
    failures = storage.incr(failures_key, FAILURE_MEMORY_SECONDS)
    delay = delay_after(failures)
    if delay:
        storage.clear(wait)
        storage.incr(wait, delay)
        audit.record(db.session, "auth.throttled", details={"username": username, "scope": "address",
                                                            "failures": failures, "seconds": delay}, ip=address)
    cap, window = _account_limit()
    if storage.incr(account, window) == cap:
        audit.record(db.session, "auth.throttled", details={"username": username, "scope": "account",
                                                            "failures": cap}, ip=address)


def signin_limits(view: F) -> F:
    """The three limits, on the POSTs of a view that checks a password."""
    per_address = limiter.shared_limit(_per_address, "signin-address", methods=["POST"],
                                       error_message=_address_message)

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if request.method != "POST" or not _enabled():
            return view(*args, **kwargs)
        username, address = attempted_username(), client_address()
        _before(username, address)
        result = view(*args, **kwargs)
        if g.get("signin_failed"):
            _after_failure(username, address)
        return result

    return per_address(wrapped)  # type: ignore[return-value]
