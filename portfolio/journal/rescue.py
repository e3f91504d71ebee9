"""Writing sent after the session ended, from a browser without JavaScript.

With JavaScript the editor keeps the text on the device and sends it again after sign-in
(``static/js/journal.js``). Without it, "Publier" posts the form to a session that has ended: the CSRF
check fails (the session cookie is gone) or no one is signed in any more. The text must not be lost.

The editor carries a *keeper*: the writer's id, the entry's and the signed-in session's (its server-side
record, ``SignedInSession``), signed with the secret key and dated. When the form arrives after the session
ended, the keeper says whose text it is; the text (and its photos) is saved at once as a draft in that
person's journal, and the browser is sent to sign in. If the same person signs in from this browser, the
draft is published as they asked; if someone else does, it stays a draft in its owner's journal, where they
will find it. A request without a valid keeper, naming a session that never existed for that person, or
coming from another site, is refused as before.

The keeper only ever writes a draft: a text sent for an entry already published (whoever sends it, the
owner's other tab or someone at the computer after she signed out) never changes that entry; it is kept as a
new draft beside it, for her to choose when she signs in.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from portfolio.account.models import SignedInSession
from portfolio.auth.models import Role, User
from portfolio.extensions import csrf, db
from portfolio.journal import services
from portfolio.journal.models import EntryStatus, JournalEntry

F = TypeVar("F", bound=Callable[..., Any])

SALT = "journal.keeper"
PENDING = "journal_pending"  # {"user": id, "entry": id}: publish this entry when its owner signs in here


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt=SALT)


def keeper_for(user_id: int, entry_id: int | None, session_id: int | None) -> str:
    """The editor's hidden keeper for this writer, entry (``None``: a new entry) and signed-in session (the id of
    its ``SignedInSession`` record; ``None`` outside a session: such a keeper rescues nothing)."""
    return _serializer().dumps([user_id, entry_id, session_id])


def read_keeper(token: str, max_age: int) -> tuple[int, int | None, int] | None:
    """(user id, entry id, session id) if ``token`` is a keeper signed here less than ``max_age`` seconds ago."""
    try:
        user_id, entry_id, session_id = _serializer().loads(token, max_age=max_age)
    except (BadSignature, TypeError, ValueError):
        return None
    if not isinstance(user_id, int) or not (entry_id is None or isinstance(entry_id, int)) \
            or not isinstance(session_id, int):
        return None
    return user_id, entry_id, session_id


def _from_this_site() -> bool:
    """The form was posted from one of our pages: the browser's Origin (or, failing it, Referer) names
    this host. A browser sends one of them with a form; a request with neither is not trusted here."""
    sent = request.headers.get("Origin") or request.headers.get("Referer")
    if not sent or sent == "null":
        return False
    return urlsplit(sent).netloc == request.host


def _owner_and_entry() -> tuple[User, JournalEntry | None] | None:
    max_age = current_app.config["SESSION_MAX_HOURS"] * 3600
    found = read_keeper(request.form.get("keeper", ""), max_age)
    if found is None or not _from_this_site():
        return None
    user_id, entry_id, session_id = found
    if (request.view_args or {}).get("entry_id") != entry_id:  # the keeper belongs to the form of this address
        return None
    owner = db.session.get(User, user_id)
    if owner is None or not owner.active or not owner.has_role(Role.BENEFICIARY):
        return None
    if not db.session.scalar(sa.select(sa.func.count(SignedInSession.id)).where(  # a session that existed
            SignedInSession.id == session_id, SignedInSession.user_id == owner.id)):
        return None
    entry = None
    if entry_id is not None:
        entry = services.load_entry(db.session, entry_id)
        if entry is None or entry.owner_id != owner.id:
            return None
    return owner, entry


def keeps_unsent_text(view: F) -> F:
    """For the editor's views, above their guard and with ``@csrf.exempt`` (the CSRF check is made here):
    a form posted after the session ended is kept (``rescue_unsent_entry``) instead of refused."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if request.method == "POST":
            try:
                csrf.protect()
            except CSRFError:
                rescued = None if current_user.is_authenticated else rescue_unsent_entry()
                if rescued is None:
                    raise
                return rescued
            if not current_user.is_authenticated and (rescued := rescue_unsent_entry()) is not None:
                return rescued
        return view(*args, **kwargs)

    wrapped.keeps_unsent_text = True  # type: ignore[attr-defined]  # read by enforce_session_lifetime
    return wrapped  # type: ignore[return-value]


def rescue_unsent_entry() -> Response | None:
    """Keep the text of an editor form that arrived after its session ended; ``None`` if this request is
    not one (the caller then answers as it would have)."""
    found = _owner_and_entry()
    if found is None:
        return None
    owner, entry = found
    from portfolio.journal.views import editor_form, save_from_form  # the editor's own reading and saving

    beside_published = entry is not None and entry.status == EntryStatus.PUBLISHED.value
    form = editor_form(None if beside_published else entry, owner, csrf=False)
    form.validate()  # a field in error is saved as it can be (a bad date keeps the entry's date)
    action = request.form.get("action", "draft")
    entry = save_from_form(form, None if beside_published else entry, "draft", owner)
    if form.photos.errors:
        flash(_("Une photo n'a pas pu être gardée. Ajoutez-la à nouveau après vous être connecté·e."), "error")
    if beside_published:  # never changes a published entry: a new draft, for its owner to choose
        flash(_("Votre session était fermée. Votre texte est gardé dans un nouveau brouillon ; le texte déjà "
                "publié n'a pas changé. Connectez-vous pour choisir lequel garder."), "info")
        after = url_for("journal.edit", entry_id=entry.id)
    elif action == "publish" and entry.title.strip():
        session[PENDING] = {"user": owner.id, "entry": entry.id}
        flash(_("Votre session était fermée. Votre texte est gardé. Connectez-vous : il sera publié."), "info")
        after = url_for("journal.show", entry_id=entry.id)
    else:
        flash(_("Votre session était fermée. Votre texte est gardé en brouillon. Connectez-vous pour le "
                "retrouver."), "info")
        after = url_for("journal.edit", entry_id=entry.id)
    return redirect(url_for("auth.login", next=after))


def publish_pending(_app: Any, user: User, **_extra: Any) -> None:
    """When someone signs in: publish the entry kept for them from this browser (``user_logged_in``).
    Kept for someone else, it stays a draft in its owner's journal."""
    pending = session.pop(PENDING, None)
    if not isinstance(pending, dict) or pending.get("user") != user.id:
        return
    entry = db.session.get(JournalEntry, pending.get("entry"))
    if entry is None or entry.owner_id != user.id or entry.status != EntryStatus.DRAFT.value:
        return
    services.publish_entry(entry)
    db.session.flush()
    flash(_("Votre texte est publié dans votre journal."), "success")
