"""The coordination keeps each EPM's offer among the catalogue's modules, and its workstations
(the largest group a workshop may take there); with the administrators, the everyday settings
(``/reglages``): the terms of the tickets issued from now on, the annual plan and budget, the module
catalogue (``portfolio/catalogue/settings.py``)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from portfolio import navigation
from portfolio.audit import services as audit
from portfolio.auth.models import Role
from portfolio.catalogue import settings
from portfolio.catalogue.forms import ModuleForm, PlanForm, TicketTermsForm
from portfolio.catalogue.models import Module, ModuleFamily
from portfolio.catalogue.scheme import current_scheme
from portfolio.extensions import db
from portfolio.orgs.models import Organisation, OrgKind
from portfolio.permissions import role_required

bp = Blueprint("catalogue", __name__)

bp.record_once(
    lambda state: navigation.register(
        state.app,
        navigation.NavItem("catalogue.offers", _l("Offre des EPM"), frozenset({Role.COORDINATOR}), order=20),
        navigation.NavItem("catalogue.settings_page", _l("Réglages"), frozenset({Role.ADMIN, Role.COORDINATOR}),
                           order=14),
    )
)
SETTERS = (Role.ADMIN, Role.COORDINATOR)


@bp.route("/coordination/offres")
@role_required(Role.COORDINATOR)
def offers() -> str:
    epms = list(db.session.scalars(
        sa.select(Organisation).options(selectinload(Organisation.modules))
        .where(Organisation.kind == OrgKind.EPM.value).order_by(Organisation.name)))
    families = list(db.session.scalars(
        sa.select(ModuleFamily).options(selectinload(ModuleFamily.modules)).order_by(ModuleFamily.position)))
    return render_template("catalogue/offers.html", epms=epms, families=families)


# --- Everyday settings --------------------------------------------------------------------------------


def _figures_page(ticket_form: FlaskForm | None = None, plan_form: FlaskForm | None = None, refusal: str = "",
                  status: int = 200) -> tuple[str, int]:
    scheme = current_scheme(db.session)
    seen = str(settings.last_change_id(db.session))
    forms = []
    for form_class, figures, given in ((TicketTermsForm, settings.TICKET_FIGURES, ticket_form),
                                       (PlanForm, settings.PLAN_FIGURES, plan_form)):
        if given is None:
            values = settings.current_values(scheme, figures)
            given = form_class(formdata=None, data={f.field: values[f.key] for f in figures})
        given.seen.data = seen
        forms.append(given)
    return render_template(
        "catalogue/settings.html", ticket_form=forms[0], plan_form=forms[1], ticket_figures=settings.TICKET_FIGURES,
        plan_figures=settings.PLAN_FIGURES, changes=settings.latest_changes(db.session), refusal=refusal,
        history=settings.history(db.session), total=format_decimal(scheme.data["annual_budget_eur"]["total"]),
        session_minutes=scheme.session_minutes), status


@bp.route("/reglages")
@role_required(*SETTERS)
def settings_page() -> tuple[str, int]:
    return _figures_page()


def _save_figures(form_class: type[FlaskForm], figures: tuple[settings.Figure, ...], which: str
                  ) -> Response | tuple[str, int]:
    form = form_class()
    pages = {"ticket_form" if which == "ticket" else "plan_form": form}
    if not form.validate_on_submit():
        return _figures_page(**pages, status=422)  # type: ignore[arg-type]
    values = {f.key: getattr(form, f.field).data for f in figures}
    try:
        seen = int(form.seen.data or 0)
    except ValueError:
        seen = -1
    try:
        changed = settings.change_figures(db.session, settings.scheme_code(), figures, values, current_user, seen,
                                          ip=request.remote_addr or "")
    except settings.SettingsRefused as refused:
        if refused.field == "seen":
            return _figures_page(refusal=str(refused), status=409)
        if refused.field in form:
            getattr(form, refused.field).errors = [str(refused)]
            return _figures_page(**pages, status=422)  # type: ignore[arg-type]
        return _figures_page(**pages, refusal=str(refused), status=422)  # type: ignore[arg-type]
    if not changed:
        flash(_("Rien n'a changé."), "info")
    elif which == "ticket":
        flash(_("Les nouvelles conditions valent pour les tickets émis à partir de maintenant ; les tickets déjà "
                "émis gardent les leurs."), "success")
    else:
        flash(_("Le plan annuel et le budget sont enregistrés."), "success")
    return redirect(url_for("catalogue.settings_page"))


@bp.route("/reglages/ticket", methods=["POST"])
@role_required(*SETTERS)
def save_ticket_terms() -> Response | tuple[str, int]:
    return _save_figures(TicketTermsForm, settings.TICKET_FIGURES, "ticket")


@bp.route("/reglages/plan", methods=["POST"])
@role_required(*SETTERS)
def save_plan() -> Response | tuple[str, int]:
    return _save_figures(PlanForm, settings.PLAN_FIGURES, "plan")


def _modules_page(form: ModuleForm | None = None, refusal: str = "", status: int = 200) -> tuple[str, int]:
    rows = settings.catalogue(db.session)
    form = form or ModuleForm(formdata=None)
    form.family.choices = [(family.id, family.title) for family, _rows in rows]
    return render_template("catalogue/modules.html", rows=rows, form=form, refusal=refusal), status


@bp.route("/reglages/modules", methods=["GET", "POST"])
@role_required(*SETTERS)
def modules() -> Response | tuple[str, int]:
    if request.method == "GET":
        return _modules_page()
    form = ModuleForm()
    form.family.choices = [(f.id, f.title) for f in db.session.scalars(sa.select(ModuleFamily))]
    if not form.validate_on_submit():
        return _modules_page(form, status=422)
    try:
        module = settings.add_module(db.session, form.family.data, form.title.data or "", current_user,
                                     ip=request.remote_addr or "")
    except settings.SettingsRefused as refused:
        form.title.errors = [str(refused)]
        return _modules_page(form, status=422)
    flash(_("Le module %(number)s « %(title)s » est ajouté au catalogue. Les EPM peuvent maintenant le proposer.",
            number=module.number, title=module.title), "success")
    return redirect(url_for("catalogue.modules") + f"#module-{module.id}")


def _retire(module_id: int, retired: bool) -> Response:
    module = db.session.get(Module, module_id)
    if module is None:
        abort(404)
    settings.set_retired(db.session, module, retired, current_user, ip=request.remote_addr or "")
    if retired:
        flash(_("Le module %(number)s est retiré : on ne peut plus le choisir ; les parcours et ateliers qui le "
                "comptent le gardent.", number=module.number), "success")
    else:
        flash(_("Le module %(number)s est de nouveau au catalogue.", number=module.number), "success")
    return redirect(url_for("catalogue.modules") + f"#module-{module.id}")


@bp.route("/reglages/modules/<int:module_id>/retirer", methods=["POST"])
@role_required(*SETTERS)
def retire_module(module_id: int) -> Response:
    return _retire(module_id, True)


@bp.route("/reglages/modules/<int:module_id>/remettre", methods=["POST"])
@role_required(*SETTERS)
def restore_module(module_id: int) -> Response:
    return _retire(module_id, False)


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
    epm.modules = list(db.session.scalars(sa.select(Module).where(
        Module.id.in_(wanted), Module.retired_at.is_(None)).order_by(Module.number)))
    epm.capacity = capacity
    audit.record(db.session, "epm.offer", actor=current_user, organisation=epm,
                 details={"modules": sorted(m.number for m in epm.modules), "capacity": capacity},
                 ip=request.remote_addr or "")
    flash(ngettext("L'offre de %(epm)s est enregistrée : %(num)d module.",
                   "L'offre de %(epm)s est enregistrée : %(num)d modules.", len(epm.modules), epm=epm.name), "success")
    return redirect(url_for("catalogue.offers") + f"#epm-{epm.id}")
