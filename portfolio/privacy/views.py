"""My data: download everything ("Tout télécharger"), and delete my account."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response

from portfolio import navigation
from portfolio.audit import services as audit
from portfolio.auth.models import Role
from portfolio.auth.passwords import verify_password
from portfolio.extensions import db
from portfolio.journal.storage import photo_storage
from portfolio.permissions import role_required
from portfolio.privacy import export, services
from portfolio.privacy.forms import DeleteAccountForm

bp = Blueprint("privacy", __name__, url_prefix="/mes-donnees")

bp.record_once(
    lambda state: navigation.register(
        state.app,
        navigation.NavItem("privacy.index", _l("Mes données"), frozenset({Role.BENEFICIARY}), order=90,
                           on_home_for=frozenset({Role.BENEFICIARY})),
    )
)


@bp.get("")
@role_required(Role.BENEFICIARY)
def index() -> str:
    return render_template("privacy/index.html")


@bp.get("/tout-telecharger.zip")
@role_required(Role.BENEFICIARY)
def download() -> Response:
    archive = export.build_archive(db.session, photo_storage(), current_user)
    audit.record(db.session, "privacy.export", actor=current_user, target_type="user", target_id=current_user.id,
                 subject_user_id=current_user.id, ip=request.remote_addr or "")
    response = Response(archive.data, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{archive.filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/supprimer-mon-compte", methods=["GET", "POST"])
@role_required(Role.BENEFICIARY)
def delete_account() -> Response | str:
    form = DeleteAccountForm()
    if form.validate_on_submit():
        if not verify_password(current_user.password_hash, form.password.data or ""):
            form.password.errors = [*form.password.errors, _("Ce n'est pas le bon mot de passe. Réessayez.")]
        else:
            user = current_user._get_current_object()
            services.delete_account(db.session, photo_storage(), user, current_app.config["SECRET_KEY"])
            logout_user()
            lang = session.get("lang")
            session.clear()
            if lang:
                session["lang"] = lang
            flash(_("Votre compte et vos données sont supprimés. Merci d'avoir utilisé Ticket Net."), "success")
            return redirect(url_for("home.index"))
    return render_template("privacy/delete.html", form=form)
