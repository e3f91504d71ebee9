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

import datetime as dt
import hashlib
import secrets
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy.orm import Session

from portfolio.account.models import SignedInSession
from portfolio.audit import services as audit
from portfolio.auth.models import User
from portfolio.db import utcnow
from portfolio.extensions import db

F = TypeVar("F", bound=Callable[..., Any])

SESSION_ID = "sid"  # the random identifier of this signed-in session (SignedInSession.token_hash)
AUTH_AT = "auth_at"  # when the person last proved who they are (epoch seconds)
SIGNED_IN_AT = "signed_in_at"
KEPT_ACROSS_SESSIONS = {"lang"}


def keep_across_sign_in(key: str) -> None:
    """Keep ``key`` of the browser's session when someone signs in or out here (e.g. the language, or the
    journal's text kept after a session ended, which its owner's next sign-in publishes)."""
    KEPT_ACROSS_SESSIONS.add(key)


def client_address() -> str:
    return request.remote_addr or ""


def _fresh_session() -> None:
    kept = {key: session[key] for key in KEPT_ACROSS_SESSIONS if key in session}
    session.clear()
    session.update(kept)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User, *, method: str, details: dict[str, Any] | None = None) -> None:
    """Sign ``user`` in on a new session and record it (``method``: password, oidc, ...). This is the
    one way to sign someone in: a session that did not start here is not recognised."""
    _fresh_session()
    previous_sign_in = user.last_login_at
    token = secrets.token_urlsafe(32)
    db.session.add(SignedInSession(user_id=user.id, token_hash=_digest(token), method=method[:20],
                                   ip=client_address(), user_agent=request.user_agent.string[:200]))
    login_user(user)
    session.permanent = True
    now = int(time.time())
    session[SESSION_ID] = token
    session[SIGNED_IN_AT] = now
    session[AUTH_AT] = now
    user.last_login_at = utcnow()
    audit.record(db.session, "auth.login", actor=user, details={"method": method, **(details or {})},
                 ip=client_address())
    from portfolio.account.services import NEW_WAYS_IN, new_ways_in_since
    from portfolio.auth import limits

    limits.forget_failures(user.username)  # this address's wrong passwords for the account are forgotten
    limits.remember_device(user.id)  # and this browser is one where the account signed in
    # Every new way into the account since its previous sign-in (a card printed, an identity linked…) is
    # announced now, on every page of this session until she has seen the list (``base.html``).
    if previous_sign_in is not None and (count := new_ways_in_since(db.session, user, previous_sign_in)):
        session[NEW_WAYS_IN] = count


def load_session_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the cookie names ``id:session_version`` and the session's random
    identifier; the user must be active, at that version, and the session not ended. One query."""
    try:
        raw_id, raw_version = user_id.split(":", 1)
        uid, version = int(raw_id), int(raw_version)
    except ValueError:
        return None
    token = session.get(SESSION_ID)
    if not isinstance(token, str):
        return None
    user = db.session.scalar(
        sa.select(User).join(SignedInSession, SignedInSession.user_id == User.id)
        .where(User.id == uid, SignedInSession.token_hash == _digest(token), SignedInSession.ended_at.is_(None))
    )
    if user is None or user.session_version != version or not user.active:
        return None
    return user


def current_session_id() -> int | None:
    token = session.get(SESSION_ID)
    if not isinstance(token, str):
        return None
    return db.session.scalar(sa.select(SignedInSession.id).where(SignedInSession.token_hash == _digest(token)))


def end_session(action: str = "auth.logout") -> None:
    """Sign the current person out of this session for good (record ``action`` if someone was signed in)."""
    token = session.get(SESSION_ID)
    if isinstance(token, str):
        db.session.execute(sa.update(SignedInSession).where(
            SignedInSession.token_hash == _digest(token), SignedInSession.ended_at.is_(None)).values(ended_at=utcnow()))
    if current_user.is_authenticated:
        audit.record(db.session, action, actor=current_user._get_current_object(), ip=client_address())
    logout_user()
    _fresh_session()


def active_sessions(db_session: Session, user: User) -> list[SignedInSession]:
    oldest = utcnow() - dt.timedelta(hours=current_app.config["SESSION_MAX_HOURS"])
    return list(db_session.scalars(
        sa.select(SignedInSession).where(SignedInSession.user_id == user.id, SignedInSession.ended_at.is_(None),
                                         SignedInSession.created_at > oldest)
        .order_by(SignedInSession.created_at.desc())
    ))


def end_other_session(db_session: Session, user: User, session_id: int) -> bool:
    """End one of ``user``'s sessions (another device); False if there is no such open session."""
    result = db_session.execute(sa.update(SignedInSession).where(
        SignedInSession.id == session_id, SignedInSession.user_id == user.id,
        SignedInSession.ended_at.is_(None)).values(ended_at=utcnow()))
    return bool(result.rowcount)


def sign_out_everywhere(db_session: Session, user: User, *, keep_current: bool = False) -> None:
    """End every session of ``user`` on every device (``keep_current``: except this one)."""
    user.session_version += 1
    statement = sa.update(SignedInSession).where(SignedInSession.user_id == user.id,
                                                 SignedInSession.ended_at.is_(None))
    current = session.get(SESSION_ID)
    if keep_current and isinstance(current, str):
        statement = statement.where(SignedInSession.token_hash != _digest(current))
    db_session.execute(statement.values(ended_at=utcnow()))


def end_every_session(db_session: Session, user: User) -> None:
    """End every session of ``user`` at once, from a page or a command (an account deactivated, a role
    removed, a new invitation): the next request of each of its browsers is signed out."""
    user.session_version += 1
    db_session.execute(sa.update(SignedInSession).where(SignedInSession.user_id == user.id,
                                                        SignedInSession.ended_at.is_(None)).values(ended_at=utcnow()))


def purge_ended_sessions(db_session: Session, now: dt.datetime | None = None) -> int:
    """Remove the sessions that ended, or that are past their maximum lifetime, more than a day ago."""
    cutoff = (now or utcnow()) - dt.timedelta(hours=current_app.config["SESSION_MAX_HOURS"] + 24)
    result = db_session.execute(sa.delete(SignedInSession).where(
        sa.or_(SignedInSession.created_at < cutoff, SignedInSession.ended_at < cutoff)))
    return result.rowcount or 0


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
    end_session("auth.session_expired")
    if request.endpoint == "static":
        return None
    view = current_app.view_functions.get(request.endpoint or "")
    if request.method == "POST" and getattr(view, "keeps_unsent_text", False):
        return None  # the view keeps what the form carries, then sends to sign-in (the journal's editor)
    flash(_("Votre session a duré trop longtemps : elle est fermée. Connectez-vous à nouveau."), "info")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None))
