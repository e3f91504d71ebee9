"""``ticketnet export readiness --org CODE --format csv|json|pdf -o PATH``."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from portfolio.extensions import db


@click.group("export")
def export_group() -> None:
    """Exports."""


@export_group.command("readiness")
@click.option("--org", "code", required=True, help="The training body's code (e.g. greta-quercy-rouergue).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "pdf"]), default="csv", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="The file to write (csv, json), or the folder that receives one PDF per candidate (pdf).")
@with_appcontext
def export_readiness(code: str, fmt: str, output: Path) -> None:
    """The certification-readiness file of a training body: one record per candidate who sent it a file."""
    import sqlalchemy as sa

    from portfolio.cli import fail
    from portfolio.db import utcnow
    from portfolio.orgs.models import Organisation, OrgKind
    from portfolio.sharing import readiness
    
    organisation = db.session.scalar(sa.select(Organisation).where(Organisation.code == code))
    if organisation is None or organisation.kind != OrgKind.TRAINING_BODY.value:
        fail(f"organisme de formation inconnu : {code}")
        return
    if fmt == "pdf" and output.exists() and not output.is_dir():
        fail(f"{output} : pour le format pdf, donnez un dossier (un fichier PDF par candidat·e)")
        return
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        records = readiness.candidates(db.session, organisation.id, readiness.evidence_link)
        if fmt == "csv":
            output.write_bytes(readiness.to_csv(records))
        elif fmt == "json":
            document = readiness.to_json(records, organisation, utcnow())
            output.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
        else:
            output.mkdir(parents=True, exist_ok=True)
            for record, data in zip(records, readiness.candidate_pdfs(records), strict=True):
                (output / readiness.pdf_filename(record)).write_bytes(data)
    readiness.audit_export(db.session, records, organisation, None, fmt, "cli")
    db.session.commit()
    click.echo(f"{output} : {len(records)} candidat·e(s) ({fmt})")


commands = [export_group]
