"""The learner's portfolio page: composed by them, printable, and as a PDF."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response

from portfolio import navigation
from portfolio.auth.models import Role
from portfolio.extensions import db
from portfolio.journal.storage import photo_storage
from portfolio.pdf import pdf_response
from portfolio.permissions import role_required
from portfolio.showcase import services
from portfolio.showcase.forms import ChooseEntriesForm
from portfolio.timeutil import local_today

bp = Blueprint("showcase", __name__, url_prefix="/portfolio")

bp.record_once(
    lambda state: navigation.register(
        state.app,
        navigation.NavItem("showcase.page", _l("Mon portfolio"), frozenset({Role.BENEFICIARY}), order=30),
    )
)


@bp.get("")
@role_required(Role.BENEFICIARY)
def page() -> str:
    portfolio = services.portfolio_of(db.session, current_user.id)
    return render_template("showcase/page.html", portfolio=portfolio, owner=current_user, today=local_today())


@bp.route("/choisir", methods=["GET", "POST"])
@role_required(Role.BENEFICIARY)
def choose() -> Response | str:
    entries = services.published_entries(db.session, current_user.id)
    form = ChooseEntriesForm()
    if form.validate_on_submit():
        count = services.choose_entries(db.session, current_user.id, form.entries.data or [])
        flash(ngettext("Votre portfolio montre maintenant %(num)d texte.",
                       "Votre portfolio montre maintenant %(num)d textes.", count), "success")
        return redirect(url_for("showcase.page"))
    return render_template("showcase/choose.html", form=form, entries=entries)


@bp.get("/portfolio.pdf")
@role_required(Role.BENEFICIARY)
def pdf() -> Response:
    from portfolio.showcase.pdf import render_pdf

    portfolio = services.portfolio_of(db.session, current_user.id)
    html = render_template("showcase/document.html", portfolio=portfolio, owner=current_user, today=local_today())
    photos = [p for e in portfolio.entries for p in e.photos]
    return pdf_response(render_pdf(html, photo_storage(), photos), "portfolio.pdf", attachment=True)
