"""``ticketnet backup FILE`` and ``ticketnet restore [--dry-run] FILE``."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from portfolio.backup import BackupError, create_backup, restore_backup
from portfolio.cli import fail


def _size(path: Path) -> str:
    return f"{path.stat().st_size / 1_000_000:.1f} Mo"


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors (for cron).")
@with_appcontext
def backup_command(file: Path, quiet: bool) -> None:
    """Write a consistent backup (database, uploaded files, manifest) to FILE, while the site serves."""
    started = time.monotonic()
    try:
        manifest = create_backup(current_app._get_current_object(), file)  # type: ignore[attr-defined]
    except BackupError as exc:
        fail(str(exc))
        return
    if not quiet:
        rows = sum(table["rows"] for table in manifest["tables"])
        uploads = manifest["uploads"]
        click.echo(f"Sauvegarde écrite : {file} ({_size(file)}, {time.monotonic() - started:.1f} s)")
        click.echo(f"Révision {manifest['schema_revision']} ; {rows} lignes dans {len(manifest['tables'])} tables ; "
                   f"{uploads['files']} fichiers ({uploads['bytes'] / 1_000_000:.1f} Mo)")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Read and check the whole file; change nothing.")
@with_appcontext
def restore_command(file: Path, dry_run: bool) -> None:
    """Restore FILE into an empty database and an empty upload folder, then upgrade to this version."""
    started = time.monotonic()
    try:
        report = restore_backup(current_app._get_current_object(), file, dry_run=dry_run)  # type: ignore[attr-defined]
    except BackupError as exc:
        fail(str(exc))
        return
    manifest = report.manifest
    click.echo(f"Sauvegarde du {manifest['created_at']} (Ticket Net {manifest['application_version']}, "
               f"révision {manifest['schema_revision']}, {manifest['database']['dialect']})")
    for name, rows in report.rows.items():
        click.echo(f"  {name:<24} {rows:>9} lignes")
    click.echo(f"  {'fichiers':<24} {report.files:>9}")
    if dry_run:
        click.echo("Sauvegarde complète et lisible ; rien n'a été modifié.")
    else:
        click.echo(f"Restauration terminée en {time.monotonic() - started:.1f} s ; base à la révision "
                   f"{report.revision}.")


commands = [backup_command, restore_command]
