"""Signed-in sessions: starting and ending one, its absolute lifetime, and re-authentication before
sensitive actions.

- ``start_session(user, method=...)`` is the one way a person becomes signed in (password, one-time
  code, identity provider): a new session (nothing of the previous one is kept but the language), the
  Flask-Login cookie ``id:session_version``, and an audit event.
- The session ends after ``PERMANENT_SESSION_LIFETIME`` without a request (Flask checks the signed
  cookie's age; the page announces it in advance, see ``static/js/session.js``) and in any case
  ``SESSION_MAX_HOURS`` after sign-in.
- ``@recent_auth_required`` guards a sensitive action (changing the password, deleting the account,
  granting a new consent): if the person has not proved who they are within ``RECENT_AUTH_MINUTES``,
  they are sent to ``/compte/confirmer`` and then back. Put it *under* ``@signed_in`` or
  ``@role_required``::

      @bp.route("/consentements/nouveau", methods=["GET", "POST"])
      @role_required(Role.BENEFICIARY)
      @recent_auth_required
      def grant_consent(): ...
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from portfolio.audit import services as audit
from portfolio.auth.models import User
from portfolio.db import utcnow
from portfolio.extensions import db

F = TypeVar("F", bound=Callable[..., Any])

AUTH_AT = "auth_at"  # when the person last proved who they are (epoch seconds)
SIGNED_IN_AT = "signed_in_at"
KEPT_ACROSS_SESSIONS = ("lang",)


def client_address() -> str:
    return request.remote_addr or ""


def _fresh_session() -> None:
    kept = {key: session[key] for key in KEPT_ACROSS_SESSIONS if key in session}
    session.clear()
    session.update(kept)


def start_session(user: User, *, method: str, details: dict[str, Any] | None = None) -> None:
    """Sign ``user`` in on a new session and record it (``method``: password, oidc, ...)."""
    _fresh_session()
    login_user(user)
    session.permanent = True
    now = int(time.time())
    session[SIGNED_IN_AT] = now
    session[AUTH_AT] = now
    user.last_login_at = utcnow()
    audit.record(db.session, "auth.login", actor=user, details={"method": method, **(details or {})},
                 ip=client_address())


def end_session(action: str = "auth.logout") -> None:
    """Sign the current person out of this session (record ``action`` if someone was signed in)."""
    if current_user.is_authenticated:
        audit.record(db.session, action, actor=current_user._get_current_object(), ip=client_address())
    logout_user()
    _fresh_session()


def sign_out_everywhere(user: User) -> None:
    """End every session of ``user`` on every device (older cookies name an older session version)."""
    user.session_version += 1


def mark_recent_auth() -> None:
    session[AUTH_AT] = int(time.time())


def recently_authenticated(now: float | None = None) -> bool:
    proved = session.get(AUTH_AT)
    window = current_app.config["RECENT_AUTH_MINUTES"] * 60
    return isinstance(proved, int) and 0 <= (now or time.time()) - proved <= window


def recent_auth_required(view: F) -> F:
    """Send a signed-in person who has not proved who they are recently to the confirmation page."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user.is_authenticated and not recently_authenticated():
            if request.method == "GET":
                back: str | None = request.full_path.rstrip("?")
            else:
                # A form sent too late: come back to the page that holds it (what was typed is asked again).
                referrer = urlsplit(request.referrer or "")
                back = referrer.path + (f"?{referrer.query}" if referrer.query else "") \
                    if referrer.netloc == request.host else None
                flash(_("Pour votre sécurité, confirmez d'abord que c'est bien vous, puis recommencez."), "info")
            return redirect(url_for("account.confirm", next=back))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def enforce_session_lifetime() -> Any:
    """Before each request: a session older than ``SESSION_MAX_HOURS`` ends, however active."""
    if "_user_id" not in session:
        return None
    started = session.get(SIGNED_IN_AT)
    now = int(time.time())
    if not isinstance(started, int):
        session[SIGNED_IN_AT] = now
        return None
    if now - started <= current_app.config["SESSION_MAX_HOURS"] * 3600:
        return None
    logout_user()
    _fresh_session()
    if request.endpoint == "static":
        return None
    flash(_("Votre session a duré trop longtemps : elle est fermée. Connectez-vous à nouveau."), "info")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None))
