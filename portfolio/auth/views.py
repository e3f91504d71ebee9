"""Sign-in and sign-out."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from portfolio.audit import services as audit
from portfolio.auth import services
from portfolio.auth.forms import LoginForm
from portfolio.extensions import db, limiter
from portfolio.home.services import home_endpoint
from portfolio.permissions import public, signed_in
from portfolio.urls import is_safe_next

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
@public
def login() -> Response | str:
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint(current_user)))
    form = LoginForm()
    next_url = request.args.get("next")
    if form.validate_on_submit():
        user = services.authenticate(db.session, form.username.data or "", form.password.data or "")
        if user is None:
            audit.record(
                db.session, "auth.login_failed", details={"username": services.normalise_username(
                    form.username.data or "")[:80]}, ip=request.remote_addr or ""
            )
            flash(_("Identifiant ou mot de passe incorrect. Vérifiez-les et réessayez."), "error")
        else:
            lang = session.get("lang")
            session.clear()  # a new session at sign-in
            if lang:
                session["lang"] = lang
            login_user(user)
            session.permanent = True
            audit.record(db.session, "auth.login", actor=user, ip=request.remote_addr or "")
            return redirect(next_url if is_safe_next(next_url) else url_for(home_endpoint(user)))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@signed_in
def logout() -> Response:
    audit.record(db.session, "auth.logout", actor=current_user._get_current_object(), ip=request.remote_addr or "")
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("Vous êtes déconnecté. À bientôt !"), "success")
    return redirect(url_for("auth.login"))
