"""``ticketnet export portfolio USERNAME -o FILE.zip``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from portfolio.extensions import db


@click.group("export")
def export_group() -> None:
    """Exports."""


@export_group.command("portfolio")
@click.argument("username")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=True,
              help="The ZIP file to write.")
@with_appcontext
def export_portfolio(username: str, output: Path) -> None:
    """Write everything about USERNAME (journal site, portfolio.json, leap2a.xml, photos) to a ZIP."""
    from portfolio.audit import services as audit
    from portfolio.auth.services import find_user
    from portfolio.cli import fail
    from portfolio.journal.storage import photo_storage
    from portfolio.privacy.export import build_archive

    user = find_user(db.session, username)
    if user is None:
        fail(f"compte inconnu : {username}")
        return
    with current_app.test_request_context():
        archive = build_archive(db.session, photo_storage(), user)
    output.write_bytes(archive.data)
    audit.record(db.session, "privacy.export", target_type="user", target_id=user.id, subject_user_id=user.id,
                 details={"via": "cli"})
    db.session.commit()
    click.echo(f"{output} : {len(archive.data)} octets")


commands = [export_group]
