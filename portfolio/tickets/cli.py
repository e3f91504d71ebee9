"""``ticketnet tickets check REFERENCE`` and ``ticketnet tickets export [--prescriber CODE] -o FILE.csv``."""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from portfolio.cli import fail
from portfolio.extensions import db


@click.group("tickets")
def tickets_group() -> None:
    """Tickets: check a reference, export the tickets."""


@tickets_group.command("check")
@click.argument("reference")
@with_appcontext
def check_command(reference: str) -> None:
    """Exit 0 and print the status when REFERENCE is a valid ticket; exit 1 and the reason otherwise."""
    from portfolio.tickets import services
    from portfolio.timeutil import local_today

    try:
        ticket = services.find_by_reference(db.session, reference)
    except services.TicketRefused as refused:
        fail(str(refused))
        return
    today = local_today()
    status = ticket.effective_status(today)
    used = services.ledger(db.session, [ticket.id])[ticket.id]
    click.echo(f"{ticket.reference}\t{status.value}\t{services.STATUS_LABELS[status]}\t"
               f"{used.hours:g} h / {ticket.hours} h\tvalable jusqu'au {ticket.expires_on.isoformat()}")


@tickets_group.command("export")
@click.option("--prescriber", "prescriber_code", help="Only the tickets of this prescriber (its code).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=True,
              help="The CSV file to write.")
@with_appcontext
def export_command(prescriber_code: str | None, output: Path) -> None:
    """Write the tickets (identity, dates, status, hours used, EPM) as CSV."""
    from portfolio.orgs.models import Organisation, OrgKind
    from portfolio.tickets import services
    from portfolio.timeutil import local_today

    prescriber = None
    if prescriber_code:
        prescriber = db.session.scalar(sa.select(Organisation).where(
            Organisation.code == prescriber_code, Organisation.kind == OrgKind.PRESCRIBER.value))
        if prescriber is None:
            fail(f"prescripteur inconnu : {prescriber_code}")
            return
    content = services.export_csv(db.session, local_today(), prescriber)
    output.write_bytes(content)
    lines = content.count(b"\r\n") - 1
    click.echo(f"{lines} tickets écrits dans {output}")


commands = [tickets_group]
