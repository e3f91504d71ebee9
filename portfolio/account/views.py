"""My account: how I sign in (password, identity providers), my recent sign-ins, signing out
everywhere; the confirmation asked before sensitive actions; keeping an idle session alive."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user
from werkzeug.wrappers import Response

from portfolio import navigation
from portfolio.account import services
from portfolio.account.forms import ChangePasswordForm, ConfirmForm
from portfolio.audit import services as audit
from portfolio.auth.limits import note_failed_attempt, signin_limits
from portfolio.auth.models import Role
from portfolio.auth.password_policy import PASSPHRASE_HINT
from portfolio.auth.passwords import verify_password
from portfolio.auth.sessions import (
    active_sessions,
    client_address,
    current_session_id,
    end_other_session,
    end_session,
    enforce_session_lifetime,
    mark_recent_auth,
    recent_auth_required,
    sign_out_everywhere,
)
from portfolio.extensions import db
from portfolio.permissions import signed_in
from portfolio.sso import services as sso
from portfolio.urls import is_safe_next

bp = Blueprint("account", __name__)

bp.record_once(lambda state: navigation.register(
    state.app, navigation.NavItem("account.index", _l("Mon compte"), frozenset(Role), order=95,
                                  on_home_for=frozenset({Role.BENEFICIARY}))))
bp.before_app_request(enforce_session_lifetime)


@bp.app_context_processor
def _session_timing() -> dict[str, Any]:
    return {"session_timing": {
        "idle": int(current_app.permanent_session_lifetime.total_seconds()),
        "warn": current_app.config["SESSION_WARNING_SECONDS"],
    }}


def _actor() -> Any:
    return current_user._get_current_object()


@bp.route("/compte")
@signed_in
def index() -> str:
    return render_template(
        "account/index.html",
        identities=sso.identities_of(db.session, current_user),
        sign_ins=services.recent_sign_ins(db.session, current_user),
        labels=services.ACCESS_LABELS, ways_in=services.WAYS_IN,
        sessions=active_sessions(db.session, current_user),
        this_session=current_session_id(),
    )


@bp.route("/compte/connexions")
@signed_in
def history() -> str:
    """Qui s'est connecté : the sign-ins of my account, the refused attempts and every new way into it."""
    page = services.access_history(db.session, current_user, before=request.args.get("avant", type=int))
    return render_template("account/history.html", page=page, labels=services.ACCESS_LABELS,
                           ways_in=services.WAYS_IN)


@bp.route("/compte/connexions/vu", methods=["POST"])
@signed_in
def seen_ways_in() -> Response:
    """The announcement of new ways into my account is read: it is no longer shown in this session."""
    session.pop(services.NEW_WAYS_IN, None)
    return redirect(url_for("account.history"))


@bp.route("/compte/sessions/<int:connection_id>/fermer", methods=["POST"])
@signed_in
@recent_auth_required
def end_other(connection_id: int) -> Response:
    if connection_id == current_session_id() or not end_other_session(db.session, current_user, connection_id):
        abort(404)
    audit.record(db.session, "auth.session_ended", actor=_actor(), target_type="signed_in_session",
                 target_id=connection_id, ip=client_address())
    flash(_("Cette connexion est fermée : l'appareil devra se connecter à nouveau."), "success")
    return redirect(url_for("account.index"))


@bp.route("/compte/mot-de-passe", methods=["GET", "POST"])
@signed_in
@recent_auth_required
def change_password() -> Response | str:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = _actor()
        services.change_password(db.session, user, form.new_password.data or "")
        login_user(user)  # this session carries the new session version; the others have ended
        audit.record(db.session, "account.password_changed", actor=user, subject_user_id=user.id,
                     ip=client_address())
        flash(_("Votre mot de passe est changé. Vos autres connexions (sur d'autres appareils) sont fermées."),
              "success")
        return redirect(url_for("account.index"))
    return render_template("account/password.html", form=form, hint=PASSPHRASE_HINT)


@bp.route("/compte/confirmer", methods=["GET", "POST"])
@signin_limits
@signed_in
def confirm() -> Response | str:
    next_url = request.args.get("next")
    back = next_url if is_safe_next(next_url) else url_for("account.index")
    form = ConfirmForm()
    if current_user.password_hash and form.validate_on_submit():
        if verify_password(current_user.password_hash, form.password.data or ""):
            mark_recent_auth()
            audit.record(db.session, "auth.reauthenticated", actor=_actor(), details={"method": "password"},
                         ip=client_address())
            return redirect(back)
        note_failed_attempt()
        audit.record(db.session, "auth.login_failed", details={"username": current_user.username,
                                                               "reauthentication": True}, ip=client_address())
        form.password.errors.append(_("Ce n'est pas le bon mot de passe. Réessayez."))
    identities = sso.identities_of(db.session, current_user)
    return render_template("account/confirm.html", form=form, next_url=back,
                           providers={i.provider for i in identities})


@bp.route("/compte/deconnecter-partout", methods=["POST"])
@signed_in
def sign_out_all() -> Response:
    sign_out_everywhere(db.session, _actor())
    end_session("auth.logout_everywhere")
    flash(_("Vous êtes déconnecté de tous vos appareils."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/session/prolonger", methods=["POST"])
@signed_in
def keep_alive() -> dict[str, Any]:
    """The "stay signed in" button of the idle-session warning: this request refreshes the session."""
    return {"status": "ok", "expires_in": int(current_app.permanent_session_lifetime.total_seconds())}
