"""The admin pages of organisations: the list, creating one of each kind, its page, editing and
deactivating it. Administrators handle every kind; coordinators EPMs, prescribers and training bodies."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from portfolio import navigation
from portfolio.auth.models import Role
from portfolio.auth.sessions import client_address
from portfolio.catalogue.models import ModuleFamily
from portfolio.extensions import db
from portfolio.orgs import services
from portfolio.orgs.forms import OrganisationForm
from portfolio.orgs.models import Organisation, OrgKind
from portfolio.permissions import can_edit_organisation, role_required
from portfolio.staff.services import ROLE_LABELS

bp = Blueprint("orgs", __name__, url_prefix="/admin/organismes")

bp.record_once(lambda state: navigation.register(
    state.app, navigation.NavItem("orgs.index", _l("Organismes"), frozenset({Role.ADMIN, Role.COORDINATOR}), order=12)))

MANAGERS = (Role.ADMIN, Role.COORDINATOR)
NEW_LABELS = {
    OrgKind.EPM.value: _l("Nouvel EPM"),
    OrgKind.PRESCRIBER.value: _l("Nouveau prescripteur"),
    OrgKind.TRAINING_BODY.value: _l("Nouvel organisme de formation"),
    OrgKind.COORDINATION.value: _l("Nouvelle coordination"),
}


def _organisation_or_404(org_id: int) -> Organisation:
    org = services.load(db.session, org_id)
    if org is None or not can_edit_organisation(current_user, org.kind):
        abort(404)
    return org


def _families() -> list[ModuleFamily]:
    """The catalogue's families with their modules (two queries); the page offers those not retired."""
    return list(db.session.scalars(sa.select(ModuleFamily).options(selectinload(ModuleFamily.modules))
                                   .order_by(ModuleFamily.position)))


def _data_from(form: OrganisationForm, kind: str) -> services.OrganisationData:
    from portfolio.catalogue.models import Module

    numbers = []
    if form.modules.data:
        numbers = list(db.session.scalars(sa.select(Module.number).where(Module.id.in_(form.modules.data))))
    return services.OrganisationData(
        kind=kind, code=form.code.data or "", name=form.name.data or "", address=form.address.data or "",
        postcode=form.postcode.data or "", city=form.city.data or "", insee_code=form.insee_code.data or "",
        siret=form.siret.data or "", phone=form.phone.data or "", email=form.email.data or "",
        opening_slots=form.opening_slots.data or "", lieu_id=form.lieu_id.data or "",
        capacity=form.capacity.data if kind == OrgKind.EPM.value else None, modules=numbers,
        certifications=list(form.certifications.data or []) if kind == OrgKind.TRAINING_BODY.value else [])


def _refused(form: OrganisationForm, refused: services.OrganisationRefused) -> str:
    """Put the refusal on its field when the form has it; otherwise it is the page's message."""
    if refused.field in form and refused.field != "version":
        form[refused.field].errors = [str(refused)]
        return ""
    return str(refused)


def _form_page(form: OrganisationForm, kind: str, org: Organisation | None, refusal: str = "",
               status: int = 200) -> tuple[str, int]:
    form.certifications.choices = services.certification_choices(db.session)
    return render_template("orgs/form.html", form=form, kind=kind, org=org, refusal=refusal,
                           families=_families(), kind_label=services.KIND_LABELS[kind],
                           title=NEW_LABELS[kind] if org is None else _("Modifier %(name)s", name=org.name),
                           OrgKind=OrgKind), status


@bp.route("/")
@role_required(*MANAGERS)
def index() -> str:
    kind = request.args.get("type", "")
    kind = kind if kind in services.KIND_LABELS else ""
    return render_template("orgs/index.html", rows=services.listing(db.session, kind or None), kind=kind,
                           kinds=services.KIND_LABELS, new_labels=NEW_LABELS)


@bp.route("/nouveau/<kind>", methods=["GET", "POST"])
@role_required(*MANAGERS)
def create(kind: str) -> Response | tuple[str, int]:
    if kind not in services.KIND_LABELS or not can_edit_organisation(current_user, kind):
        abort(404)
    form = OrganisationForm()
    if not form.validate_on_submit():
        return _form_page(form, kind, None, status=422 if request.method == "POST" else 200)
    try:
        org = services.create(db.session, _data_from(form, kind), current_user, ip=client_address())
    except services.OrganisationRefused as refused:
        return _form_page(form, kind, None, _refused(form, refused), 422)
    flash(_("%(name)s est créé. Ajoutez-y maintenant son personnel.", name=org.name), "success")
    return redirect(url_for("orgs.show", org_id=org.id))


@bp.route("/<int:org_id>")
@role_required(*MANAGERS)
def show(org_id: int) -> str:
    org = _organisation_or_404(org_id)
    learners = db.session.scalar(sa.select(sa.func.count(sa.distinct(services.Membership.user_id))).where(
        services.Membership.organisation_id == org.id, services.Membership.role == Role.BENEFICIARY.value)) or 0
    titles = dict(services.certification_choices(db.session)) if org.certification_rows else {}
    return render_template("orgs/show.html", org=org, staff=services.staff_of(db.session, org.id), learners=learners,
                           kind_label=services.KIND_LABELS[org.kind], role_labels=ROLE_LABELS, titles=titles)


@bp.route("/<int:org_id>/modifier", methods=["GET", "POST"])
@role_required(*MANAGERS)
def edit(org_id: int) -> Response | tuple[str, int]:
    org = _organisation_or_404(org_id)
    form = OrganisationForm()
    if request.method == "GET":
        form.process(obj=org)
        form.modules.data = [m.id for m in org.modules if m.retired_at is None]
        form.certifications.data = org.certifications
        form.version.data = str(org.version)
        return _form_page(form, org.kind, org)
    if not form.validate_on_submit():
        return _form_page(form, org.kind, org, status=422)
    try:
        seen = int(form.version.data or 0)
    except ValueError:
        seen = 0
    try:
        services.update(db.session, org, _data_from(form, org.kind), current_user, seen, ip=client_address())
    except services.OrganisationRefused as refused:
        if refused.field == "version":
            db.session.rollback()
            fresh = _organisation_or_404(org_id)
            stale = OrganisationForm(formdata=None, obj=fresh)
            stale.modules.data = [m.id for m in fresh.modules if m.retired_at is None]
            stale.certifications.data = fresh.certifications
            stale.version.data = str(fresh.version)
            return _form_page(stale, fresh.kind, fresh, str(refused), 409)
        return _form_page(form, org.kind, org, _refused(form, refused), 422)
    flash(_("Les changements de %(name)s sont enregistrés.", name=org.name), "success")
    return redirect(url_for("orgs.show", org_id=org.id))


def _set_active(org_id: int, active: bool) -> Response:
    org = _organisation_or_404(org_id)
    services.set_active(db.session, org, active, current_user, ip=client_address())
    if active:
        flash(_("%(name)s est de nouveau actif.", name=org.name), "success")
    else:
        flash(_("%(name)s est désactivé : il n'est plus proposé pour de nouveaux tickets, comptes ou dossiers. "
                "Tout ce qui le nomme est gardé.", name=org.name), "success")
    return redirect(url_for("orgs.show", org_id=org.id))


@bp.route("/<int:org_id>/desactiver", methods=["POST"])
@role_required(*MANAGERS)
def deactivate(org_id: int) -> Response:
    return _set_active(org_id, False)


@bp.route("/<int:org_id>/reactiver", methods=["POST"])
@role_required(*MANAGERS)
def reactivate(org_id: int) -> Response:
    return _set_active(org_id, True)
