"""Health check and language choice."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from portfolio.extensions import db
from portfolio.permissions import public
from portfolio.urls import is_safe_next

bp = Blueprint("core", __name__)


@bp.route("/healthz")
@public
def healthz() -> tuple[dict[str, str], int]:
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        current_app.logger.warning("health check: database unreachable")
        return {"status": "error", "database": "down"}, 503
    return {"status": "ok", "database": "ok"}, 200


@bp.route("/langue", methods=["POST"])
@public
def set_language() -> Response:
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        if current_user.is_authenticated:
            current_user.locale = lang
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else url_for("home.index"))
