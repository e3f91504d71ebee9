"""The home page of each role."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from portfolio import navigation
from portfolio.auth.models import Role
from portfolio.extensions import db
from portfolio.home import services
from portfolio.orgs.models import OrgKind
from portfolio.permissions import public, role_required, signed_in
from portfolio.sharing import submissions
from portfolio.timeutil import local_now, local_today

bp = Blueprint("home", __name__)

bp.record_once(
    lambda state: navigation.register(
        state.app,
        navigation.NavItem("home.beneficiary", _l("Mon espace"), frozenset({Role.BENEFICIARY}), order=10),
        navigation.NavItem("home.animator", _l("Mon EPM"), frozenset({Role.ANIMATOR}), order=10),
        navigation.NavItem("home.prescriber", _l("Mes tickets"), frozenset({Role.PRESCRIBER}), order=10),
        navigation.NavItem("home.assessor", _l("Dossiers reçus"), frozenset({Role.ASSESSOR}), order=10),
        navigation.NavItem("home.coordinator", _l("Coordination"), frozenset({Role.COORDINATOR}), order=10),
        navigation.NavItem("home.admin", _l("Administration"), frozenset({Role.ADMIN}), order=10),
    )
)


@bp.route("/")
@public
def index() -> Response | str:
    if current_user.is_authenticated:
        return redirect(url_for(services.home_endpoint(current_user)))
    return render_template("home/index.html")


@bp.route("/bienvenue")
@signed_in
def no_role() -> str:
    return render_template("home/no_role.html")


@bp.route("/moi")
@role_required(Role.BENEFICIARY)
def beneficiary() -> str:
    summary = services.learner_summary(db.session, current_user, local_now(), local_today())
    return render_template("home/beneficiary.html", summary=summary,
                           more=navigation.home_items_for(current_user, Role.BENEFICIARY))


@bp.route("/epm")
@role_required(Role.ANIMATOR)
def animator() -> str:
    epms = current_user.organisations_for(Role.ANIMATOR)
    expiring: dict[int, list[services.tickets.TicketRow]] = {}
    for epm in epms:
        expiring[epm.id] = services.tickets.expiring_soon(db.session, local_today(), epm_ids=[epm.id])
    return render_template("home/animator.html", summaries=services.epm_summaries(db.session, epms, local_now()),
                           expiring=expiring)


@bp.route("/prescripteur")
@role_required(Role.PRESCRIBER)
def prescriber() -> str:
    organisations = current_user.organisations_for(Role.PRESCRIBER)
    today = local_today()
    counts = [(org, services.tickets.status_counts(db.session, today, org.id)) for org in organisations]
    expiring = services.tickets.expiring_soon(db.session, today, prescriber_ids=[org.id for org in organisations])
    return render_template("home/prescriber.html", counts=counts, expiring=expiring)


@bp.route("/evaluation")
@role_required(Role.ASSESSOR)
def assessor() -> str:
    organisations = current_user.organisations_for(Role.ASSESSOR)
    after = request.args.get("apres", type=int)
    queue = submissions.queue(db.session, [org.id for org in organisations], after=after)
    return render_template("home/assessor.html", organisations=organisations, queue=queue, first_page=after is None)


@bp.route("/coordination")
@role_required(Role.COORDINATOR)
def coordinator() -> str:
    overview = services.scheme_overview(db.session, local_today())
    return render_template("home/coordinator.html", overview=overview, OrgKind=OrgKind)


@bp.route("/admin")
@role_required(Role.ADMIN)
def admin() -> str:
    return render_template("home/admin.html", organisations=services.members_by_organisation(db.session))
