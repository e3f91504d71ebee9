"""``ticketnet export payments --period YYYY-MM|YYYY-Qn --format csv|pdf -o PATH``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from portfolio.cli import fail
from portfolio.extensions import db


@click.group("export")
def export_group() -> None:
    """Export figures and documents."""


@export_group.command("payments")
@click.option("--period", required=True, help="A month (2026-03) or a quarter (2026-Q1).")
@click.option("--format", "fmt", type=click.Choice(["csv", "pdf"]), default="csv", show_default=True)
@click.option("--epm", "epm_code", help="Only this EPM (its code); default: every EPM.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@with_appcontext
def export_payments(period: str, fmt: str, epm_code: str | None, output: Path) -> None:
    """The EPM payment statement of a period: CSV (one line per EPM and ticket) or PDF (the summary, then each
    EPM's statement)."""
    # French messages and templates need a request (Babel chooses the language from it): the default one.
    with current_app.test_request_context():
        _export_payments(period, fmt, epm_code, output)


def _export_payments(period: str, fmt: str, epm_code: str | None, output: Path) -> None:
    import sqlalchemy as sa

    from portfolio.catalogue.scheme import current_scheme
    from portfolio.orgs.models import Organisation, OrgKind
    from portfolio.stats import payments
    from portfolio.stats.exports import statement_csv, statement_pdf
    from portfolio.stats.periods import BadPeriod, parse_period

    try:
        found = parse_period(period)
    except BadPeriod as exc:
        fail(str(exc))
        return
    epm_id = None
    if epm_code:
        epm_id = db.session.scalar(sa.select(Organisation.id).where(
            Organisation.code == epm_code, Organisation.kind == OrgKind.EPM.value))
        if epm_id is None:
            fail(f"EPM inconnu : {epm_code}")
            return
    statement = payments.statement(db.session, current_scheme(db.session),
                                   payments.rule_from_config(current_app.config), found, epm_id)
    content = statement_csv(statement) if fmt == "csv" else statement_pdf(statement)
    try:
        output.write_bytes(content)
    except OSError as exc:
        fail(f"impossible d'écrire {output} : {exc.strerror}")
        return
    click.echo(f"{output} : {len(statement.epms)} EPM, {statement.total_tickets} tickets, "
               f"{statement.total_sessions} séances, {statement.total_cents / 100:.2f} EUR ({found.code}, "
               f"règle {statement.rule.value})")


@click.group("stats")
def stats_group() -> None:
    """The coordinator's figures."""


@stats_group.command("refresh")
@with_appcontext
def stats_refresh() -> None:
    """Compute the dashboard's kept figures now (run it from a timer, so that no visit waits for them)."""
    import time

    from portfolio.stats import views

    if current_app.config["DASHBOARD_MAX_AGE_SECONDS"] <= 0:
        click.echo("TICKETNET_DASHBOARD_MAX_AGE_SECONDS vaut 0 : les chiffres sont calculés à chaque visite, "
                   "rien à garder.")
        return
    with current_app.test_request_context():
        started = time.perf_counter()
        views.refresh_kept_figures()
        db.session.commit()
    click.echo(f"Chiffres du tableau de bord recalculés en {time.perf_counter() - started:.1f} s.")


commands = [export_group, stats_group]
