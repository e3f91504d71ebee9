"""Sign-in and sign-out."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from portfolio.audit import services as audit
from portfolio.auth import cards, services
from portfolio.auth.forms import ChoosePasswordForm, FirstSignInForm, LoginForm
from portfolio.auth.limits import note_failed_attempt, signin_limits
from portfolio.auth.models import LoginCard, User
from portfolio.auth.password_policy import PASSPHRASE_HINT
from portfolio.auth.sessions import client_address, end_session, start_session
from portfolio.db import utcnow
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
        if user is None and (by_card := _card_instead_of_password(form.username.data, form.password.data)):
            return by_card
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


# --- First sign-in with the one-time code of a login card ----------------------------------------------

PENDING_CARD = "first_sign_in_card"


def _card_instead_of_password(username: str | None, password: str | None) -> Response | None:
    """A learner who typed their card's code as a password goes on to choose their password."""
    card = cards.check_code(db.session, username or "", password or "")
    if card is None:
        return None
    session[PENDING_CARD] = card.id
    return redirect(url_for("auth.choose_password"))


@bp.route("/premiere-connexion", methods=["GET", "POST"])
@signin_limits
@public
def first_sign_in() -> Response | str:
    form = FirstSignInForm()
    if form.validate_on_submit():
        card = cards.check_code(db.session, form.username.data or "", form.code.data or "")
        if card is not None:
            session[PENDING_CARD] = card.id
            return redirect(url_for("auth.choose_password"))
        note_failed_attempt()
        audit.record(db.session, "auth.card_failed", details={"username": services.normalise_username(
            form.username.data or "")[:80]}, ip=client_address())
        flash(_("Identifiant ou code incorrect, ou carte trop ancienne. Vérifiez-les, ou demandez une nouvelle "
                "carte à votre EPM."), "error")
    return render_template("auth/first_sign_in.html", form=form)


@bp.route("/premiere-connexion/mot-de-passe", methods=["GET", "POST"])
@public
def choose_password() -> Response | str:
    card = db.session.get(LoginCard, session.get(PENDING_CARD, 0))
    if card is None or not card.is_usable(utcnow()):
        session.pop(PENDING_CARD, None)
        flash(_("Écrivez d'abord votre identifiant et le code de votre carte."), "info")
        return redirect(url_for("auth.first_sign_in"))
    form = ChoosePasswordForm()
    form.policy_username = db.session.get(User, card.user_id).username  # type: ignore[union-attr]
    if form.validate_on_submit():
        user = cards.redeem(db.session, card, form.password.data or "")
        start_session(user, method="card")
        audit.record(db.session, "auth.first_sign_in", actor=user, subject_user_id=user.id, ip=client_address())
        flash(_("C'est fait ! Votre mot de passe est enregistré. Retenez-le bien."), "success")
        return redirect(url_for(home_endpoint(user)))
    return render_template("auth/choose_password.html", form=form, hint=PASSPHRASE_HINT)
