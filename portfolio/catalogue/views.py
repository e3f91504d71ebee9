"""The coordination keeps each EPM's offer among the catalogue's modules, and its workstations
(the largest group a workshop may take there)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from portfolio import navigation
from portfolio.audit import services as audit
from portfolio.auth.models import Role
from portfolio.catalogue.models import Module, ModuleFamily
from portfolio.extensions import db
from portfolio.orgs.models import Organisation, OrgKind
from portfolio.permissions import role_required

bp = Blueprint("catalogue", __name__)

bp.record_once(
    lambda state: navigation.register(
        state.app,
        navigation.NavItem("catalogue.offers", _l("Offre des EPM"), frozenset({Role.COORDINATOR}), order=20),
    )
)


@bp.route("/coordination/offres")
@role_required(Role.COORDINATOR)
def offers() -> str:
    epms = list(db.session.scalars(
        sa.select(Organisation).options(selectinload(Organisation.modules))
        .where(Organisation.kind == OrgKind.EPM.value).order_by(Organisation.name)))
    families = list(db.session.scalars(
        sa.select(ModuleFamily).options(selectinload(ModuleFamily.modules)).order_by(ModuleFamily.position)))
    return render_template("catalogue/offers.html", epms=epms, families=families)


@bp.route("/coordination/offres/<int:epm_id>", methods=["POST"])
@role_required(Role.COORDINATOR)
def update_offer(epm_id: int) -> Response:
    epm = db.session.scalar(sa.select(Organisation).options(selectinload(Organisation.modules)).where(
        Organisation.id == epm_id, Organisation.kind == OrgKind.EPM.value))
    if epm is None:
        abort(404)
    wanted = set(request.form.getlist("module", type=int))
    capacity = request.form.get("capacity", type=int)
    if capacity is None or not 1 <= capacity <= 99:
        flash(_("Le nombre de postes de %(epm)s doit être un nombre de 1 à 99.", epm=epm.name), "error")
        return redirect(url_for("catalogue.offers"))
    epm.modules = list(db.session.scalars(sa.select(Module).where(Module.id.in_(wanted)).order_by(Module.number)))
    epm.capacity = capacity
    audit.record(db.session, "epm.offer", actor=current_user, organisation=epm,
                 details={"modules": sorted(m.number for m in epm.modules), "capacity": capacity},
                 ip=request.remote_addr or "")
    flash(ngettext("L'offre de %(epm)s est enregistrée : %(num)d module.",
                   "L'offre de %(epm)s est enregistrée : %(num)d modules.", len(epm.modules), epm=epm.name), "success")
    return redirect(url_for("catalogue.offers") + f"#epm-{epm.id}")
