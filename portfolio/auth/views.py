"""Sign-in and sign-out."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from portfolio.audit import services as audit
from portfolio.auth import services
from portfolio.auth.forms import LoginForm
from portfolio.auth.limits import note_failed_attempt, signin_limits
from portfolio.auth.sessions import client_address, end_session, start_session
from portfolio.extensions import db
from portfolio.home.services import home_endpoint
from portfolio.permissions import public, signed_in
from portfolio.sso.views import provider_logout_redirect
from portfolio.urls import is_safe_next

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@signin_limits
@public
def login() -> Response | str:
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint(current_user)))
    form = LoginForm()
    next_url = request.args.get("next")
    if form.validate_on_submit():
        user = services.authenticate(db.session, form.username.data or "", form.password.data or "")
        if user is None:
            note_failed_attempt()
            audit.record(
                db.session, "auth.login_failed", details={"username": services.normalise_username(
                    form.username.data or "")[:80]}, ip=client_address()
            )
            flash(_("Identifiant ou mot de passe incorrect. Vérifiez-les et réessayez."), "error")
        else:
            start_session(user, method="password")
            return redirect(next_url if is_safe_next(next_url) else url_for(home_endpoint(user)))
    return render_template("auth/login.html", form=form, next_url=next_url if is_safe_next(next_url) else None)


@bp.route("/logout", methods=["POST"])
@signed_in
def logout() -> Response:
    # Signed in through an identity provider: end that session too, then come back to /login.
    provider_logout = provider_logout_redirect(url_for("auth.login", _external=True))
    end_session()
    flash(_("Vous êtes déconnecté. À bientôt !"), "success")
    return provider_logout or redirect(url_for("auth.login"))
