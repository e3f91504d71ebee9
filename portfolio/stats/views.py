"""The coordinator's dashboard, payment statements and anomaly flags; the prescriber's outcome summary."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portfolio import navigation
from portfolio.auth.models import Role
from portfolio.catalogue.scheme import current_scheme
from portfolio.csvfile import csv_response
from portfolio.extensions import db
from portfolio.permissions import role_required
from portfolio.stats import anomalies, kept, payments, services, tables
from portfolio.stats.exports import csv_bytes, euros, statement_csv, statement_pdf, summary_csv
from portfolio.stats.periods import BadPeriod, Period, month_period, parse_period
from portfolio.timeutil import local_now, local_today

bp = Blueprint("stats", __name__)
T = TypeVar("T")

bp.record_once(lambda state: payments.rule_from_config(state.app.config))  # a wrong rule stops the start
bp.record_once(
    lambda state: navigation.register(
        state.app,
        navigation.NavItem("stats.dashboard", _l("Tableau de bord"), frozenset({Role.COORDINATOR}), order=20),
        navigation.NavItem("stats.payments", _l("Paiements des EPM"), frozenset({Role.COORDINATOR}), order=21),
        navigation.NavItem("stats.anomalies", _l("Anomalies"), frozenset({Role.COORDINATOR}), order=22),
        navigation.NavItem("stats.prescriber_outcomes", _l("Bilan"), frozenset({Role.PRESCRIBER}), order=20),
    )
)

DASHBOARD_DATASETS = ("etats", "parcours", "annees", "mois", "prescripteurs", "epm", "publics", "modules")


def _rule() -> payments.PaymentRule:
    return payments.rule_from_config(current_app.config)


def _kept(name: str, compute: Callable[[], T], dump: Callable[[T], dict[str, Any]],
          load: Callable[[dict[str, Any]], T], refresh: bool) -> kept.Kept[T]:
    return kept.figures(db.session, name, local_now(), current_app.config["DASHBOARD_MAX_AGE_SECONDS"], compute,
                        dump, load, refresh=refresh)


def _none_label() -> str:
    """The group of tickets never registered at an EPM, in the reader's language."""
    return _("Pas encore inscrit")


def _load_dashboard(data: dict[str, Any]) -> services.Dashboard:
    return kept.load_dashboard(data, _none_label())


def _dashboard(refresh: bool = False) -> kept.Kept[services.Dashboard]:
    """The whole dashboard (every EPM): for the CSV files."""
    return _kept("dashboard",
                 lambda: services.dashboard(db.session, local_today(), local_now(), current_scheme(db.session),
                                            _rule(), _none_label()),
                 kept.dump_dashboard, _load_dashboard, refresh)


def _dashboard_page(refresh: bool = False) -> kept.Kept[services.Dashboard]:
    """The dashboard cut down for its page (the largest groups): a few kilobytes to read, not one per EPM.
    Computing it computes and keeps the whole dashboard too."""
    return _kept("dashboard-page", lambda: services.for_page(_dashboard(refresh=True).value),
                 kept.dump_dashboard, _load_dashboard, refresh)


def _competences(refresh: bool = False) -> kept.Kept[list[services.CompetenceRow]]:
    return _kept("competences", lambda: services.competences_validated(db.session), kept.dump_competences,
                 kept.load_competences, refresh)


def _csv_response(table: tables.DataTable, name: str) -> Response:
    return csv_response(csv_bytes(table.header, table.export_rows), f"{name}.csv")  # type: ignore[no-any-return]


@bp.route("/coordination/tableau-de-bord")
@role_required(Role.COORDINATOR)
def dashboard() -> str:
    scheme = current_scheme(db.session)
    found = _dashboard_page()
    figures = found.value
    this_year = next((f for f in figures.by_year if f.key == str(local_today().year)), None)
    return render_template(
        "stats/dashboard.html", d=figures, tables=tables.dashboard_tables(figures, scheme.sessions),
        this_year=this_year, year=local_today().year, today=local_today(), euros=euros,
        computed_at=found.computed_at)


def refresh_kept_figures() -> None:
    """Compute the dashboard's and the competences' figures, and keep them (also ``ticketnet stats refresh``)."""
    _dashboard_page(refresh=True)
    _competences(refresh=True)


@bp.route("/coordination/tableau-de-bord/recalculer", methods=["POST"])
@role_required(Role.COORDINATOR)
def refresh() -> Response:
    """Compute the kept figures again now, instead of waiting for them to age."""
    refresh_kept_figures()
    flash(_("Les chiffres viennent d'être recalculés."), "success")
    back = "stats.competences" if request.form.get("page") == "competences" else "stats.dashboard"
    return redirect(url_for(back))


@bp.route("/coordination/tableau-de-bord/competences")
@role_required(Role.COORDINATOR)
def competences() -> str:
    found = _competences()
    return render_template("stats/competences.html", table=tables.competences_table(found.value),
                           computed_at=found.computed_at)


@bp.route("/coordination/tableau-de-bord/<any(" + ", ".join((*DASHBOARD_DATASETS, "competences")) + "):dataset>.csv")
@role_required(Role.COORDINATOR)
def dataset_csv(dataset: str) -> Response:
    if dataset == "competences":
        table = tables.competences_table(_competences().value)
    else:
        table = tables.dashboard_tables(_dashboard().value, current_scheme(db.session).sessions)[dataset]
    return _csv_response(table, f"ticketnet-{dataset}-{local_today().isoformat()}")


# --- Payments ------------------------------------------------------------------------------------


def _period_or_404(code: str) -> Period:
    try:
        return parse_period(code)
    except BadPeriod:
        abort(404)


@bp.route("/coordination/paiements", endpoint="payments")
@role_required(Role.COORDINATOR)
def payments_page() -> str:
    asked = request.args.get("periode", "").strip()
    error = None
    try:
        period = parse_period(asked) if asked else month_period(local_today())
    except BadPeriod as exc:
        error, period = str(exc), month_period(local_today())
    scheme = current_scheme(db.session)
    statement = payments.statement(db.session, scheme, _rule(), period, with_lines=False)
    budget = payments.budget(db.session, scheme, _rule(), period.year)
    # A period that cannot be read is explained above the form, which keeps what was typed; the current
    # month is shown meanwhile.
    return render_template("stats/payments.html", statement=statement, budget=budget, asked=asked or period.code,
                           error=error, euros=euros)


@bp.route("/coordination/paiements/<period>/epm/<int:epm_id>")
@role_required(Role.COORDINATOR)
def payments_epm(period: str, epm_id: int) -> str:
    statement = payments.statement(db.session, current_scheme(db.session), _rule(), _period_or_404(period), epm_id)
    if not statement.epms:
        abort(404)
    return render_template("stats/payments_epm.html", statement=statement, epm=statement.epms[0], euros=euros)


def _file(content: bytes, fmt: str, name: str) -> Response:
    if fmt == "csv":
        return csv_response(content, f"{name}.csv")  # type: ignore[no-any-return]
    return Response(content, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


@bp.route("/coordination/paiements/<period>.<any(csv, pdf):fmt>")
@role_required(Role.COORDINATOR)
def payments_export(period: str, fmt: str) -> Response:
    found = _period_or_404(period)
    statement = payments.statement(db.session, current_scheme(db.session), _rule(), found)
    content = summary_csv(statement) if fmt == "csv" else statement_pdf(statement)
    return _file(content, fmt, f"ticketnet-paiements-{found.code}")


@bp.route("/coordination/paiements/<period>/epm/<int:epm_id>.<any(csv, pdf):fmt>")
@role_required(Role.COORDINATOR)
def payments_epm_export(period: str, epm_id: int, fmt: str) -> Response:
    found = _period_or_404(period)
    statement = payments.statement(db.session, current_scheme(db.session), _rule(), found, epm_id)
    if not statement.epms:
        abort(404)
    content = statement_csv(statement) if fmt == "csv" else statement_pdf(statement)
    return _file(content, fmt, f"ticketnet-paiements-{found.code}-{statement.epms[0].code}")


# --- Anomalies -----------------------------------------------------------------------------------


@bp.route("/coordination/anomalies", endpoint="anomalies")
@role_required(Role.COORDINATOR)
def anomalies_page() -> str:
    return render_template("stats/anomalies.html", found=anomalies.find_all(db.session), rules=anomalies)


@bp.route("/coordination/anomalies/tickets/<int:ticket_id>")
@role_required(Role.COORDINATOR)
def anomaly_ticket(ticket_id: int) -> str:
    found = anomalies.ticket_record(db.session, ticket_id)
    if found is None:
        abort(404)
    ticket, rows = found
    return render_template("stats/anomaly_ticket.html", ticket=ticket, rows=rows,
                           status=ticket.effective_status(local_today()))


@bp.route("/coordination/anomalies/seances/<int:session_id>")
@role_required(Role.COORDINATOR)
def anomaly_session(session_id: int) -> str:
    found = anomalies.session_sheet(db.session, session_id)
    if found is None:
        abort(404)
    head, rows = found
    return render_template("stats/anomaly_session.html", head=head, rows=rows)


# --- The prescriber's outcome summary ------------------------------------------------------------


@bp.route("/prescripteur/bilan")
@role_required(Role.PRESCRIBER)
def prescriber_outcomes() -> str:
    organisations = current_user.organisations_for(Role.PRESCRIBER)
    today = local_today()
    outcomes = services.prescriber_outcomes(db.session, today, current_scheme(db.session), _rule(), organisations)
    return render_template("stats/prescriber.html", outcomes=outcomes, labels=tables.STATUS_LABELS, euros=euros)
