"""The web layer shared by every page: one commit per request, request ids, security headers,
French error pages, the signed-in user and what templates may use."""

from __future__ import annotations

import re
import secrets
from types import SimpleNamespace
from typing import Any

from flask import Flask, current_app, g, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Response

from portfolio import navigation, requestlog, unstorable, uploads
from portfolio.auth.models import User
from portfolio.extensions import login_manager
from portfolio.permissions import TEMPLATE_PREDICATES

_REQUEST_ID = re.compile(r"^[A-Za-z0-9-]{6,64}$")

ERROR_TITLES = {
    400: _l("La demande n'a pas pu être comprise"),
    404: _l("Page introuvable"),
    405: _l("Cette action n'est pas possible ici"),
    413: _l("Le fichier est trop lourd"),
    429: _l("Trop d'essais"),
    500: _l("Une erreur est survenue"),
    503: _l("Le service est momentanément indisponible"),
}


def content_security_policy(form_action: list[str] | tuple[str, ...] = ()) -> str:
    """No inline script or style, nothing framed; forms post to this site, or to the identity
    providers a form may lead to (a sign-in or sign-out answered by a redirect to the provider)."""
    targets = " ".join(("'self'", *form_action))
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        f"form-action {targets}; frame-ancestors 'none'"
    )


def init_app(app: Flask) -> None:
    from portfolio.sso.oidc import form_action_sources

    app.config["CONTENT_SECURITY_POLICY"] = content_security_policy(form_action_sources(app))
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Connectez-vous pour voir cette page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)

    # First of all before_request functions (CSRF's included), so that every response has its id; then a
    # request carrying a character the database cannot store is refused, whatever the view.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.before_request_funcs[None].insert(1, unstorable.refuse_unstorable)
    app.after_request(_commit_and_secure)
    app.context_processor(_template_context)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(OperationalError, _database_error)
    app.register_error_handler(uploads.UploadWriteError, _upload_error)
    app.register_error_handler(Exception, _unexpected_error)


def load_user(user_id: str) -> User | None:
    """Flask-Login: the cookie holds ``id:session_version`` and the session's identifier; an older
    version, or a session that was signed out, is refused (``portfolio.auth.sessions``)."""
    from portfolio.auth.sessions import load_session_user

    return load_session_user(user_id)


def request_id() -> str:
    return g.get("request_id", "")


def _start_request() -> None:
    requestlog.start_timer()
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(6)


def _commit_and_secure(response: Response) -> Response:
    # One commit per request: views and services only flush. A failed commit becomes a 500 (a 503 when
    # the database is unreachable), and the files the request wrote are removed with its rows.
    session = g.get("_db_session")
    if response.status_code < 400:
        if session is not None:
            session.commit()
        uploads.keep_written()
    else:
        uploads.discard_written()
    response.headers["X-Request-ID"] = request_id()
    _security_headers(response)
    requestlog.log_request(response, request_id())
    return response


def _security_headers(response: Response) -> None:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", current_app.config["CONTENT_SECURITY_POLICY"])
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", "geolocation=(), microphone=(), camera=(), payment=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.endpoint != "static":
        # Pages carry personal data and a CSRF token: never stored by a browser or a proxy cache.
        headers.setdefault("Cache-Control", "no-store")
    if current_app.config["ENV"] == "production":
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def _template_context() -> dict[str, Any]:
    return {
        "permissions": SimpleNamespace(**TEMPLATE_PREDICATES),
        "nav_items": navigation.items_for(current_user),
        "current_locale": str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"]),
        "request_id": request_id(),
    }


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return request.path.startswith("/api/") or (
        best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def error_response(status: int, message: str | None = None) -> tuple[Any, int]:
    title = ERROR_TITLES.get(status, ERROR_TITLES[500] if status >= 500 else ERROR_TITLES[400])
    if _wants_json():
        return {"error": str(title), "message": message or str(title), "request_id": request_id()}, status
    return render_template("errors/error.html", status=status, title=title, message=message), status


def _rollback() -> None:
    session = g.get("_db_session")
    if session is not None:
        session.rollback()
    uploads.discard_written()


def _http_error(exc: HTTPException) -> Any:
    if exc.code is None or exc.code < 400:
        return exc
    if isinstance(exc, InternalServerError) and isinstance(exc.original_exception, OperationalError):
        return _database_error(exc.original_exception)  # e.g. the final commit lost the database
    _rollback()
    return error_response(exc.code, _http_message(exc))


def _http_message(exc: HTTPException) -> str | None:
    # Our own aborts carry a French description; Werkzeug's default English ones are not shown.
    default = type(exc).description
    return None if exc.description == default else exc.description


def _csrf_error(exc: CSRFError) -> Any:
    _rollback()
    return error_response(
        400,
        str(_l("Le formulaire a expiré ou n'est pas valide. Revenez en arrière, rechargez la page et réessayez.")),
    )


def _database_error(exc: OperationalError) -> Any:
    """The database is unreachable: answer a French 503 page that needs no database at all
    (no signed-in user, no context processors)."""
    _rollback()
    current_app.logger.error("database unavailable (request %s): %s", request_id(), exc.orig)
    title = str(ERROR_TITLES[503])
    if _wants_json():
        return {"error": title, "request_id": request_id()}, 503, {"Retry-After": "30"}
    page = current_app.jinja_env.get_template("errors/unavailable.html").render(
        lang=current_app.config["BABEL_DEFAULT_LOCALE"],
        title=title,
        message=_l("Nous ne pouvons pas afficher cette page pour le moment."),
        retry=_l("Réessayez dans quelques minutes."),
        code_label=_l("Si vous appelez l'assistance, donnez ce code d'erreur : %(code)s", code=request_id()),
        request_id=request_id(),
        static_url=url_for("static", filename="css/site.css"),
    )
    return page, 503, {"Retry-After": "30"}


def _upload_error(exc: uploads.UploadWriteError) -> Any:
    """A file could not be written and the view did not handle it: nothing is recorded (rows and files
    roll back together) and the page says so."""
    _rollback()
    current_app.logger.error("upload not written (request %s): %s", request_id(), exc)
    return error_response(503, str(uploads.NOTHING_RECORDED))


def _unexpected_error(exc: Exception) -> Any:
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    _rollback()
    current_app.logger.exception("unexpected error (request %s)", request_id())
    if current_app.config.get("TESTING") and current_app.config.get("PROPAGATE_EXCEPTIONS", True):
        raise exc
    return error_response(500)
