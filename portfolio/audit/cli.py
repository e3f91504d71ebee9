"""``ticketnet purge``: remove what the retention rules say must go: audit events past their retention,
the records of signed-in sessions that ended, and the spreadsheets of tickets kept between "check" and
"confirm" for longer than an hour (names, birth dates, phones). A timer runs it every few minutes
(``docs/deploy/ticketnet-purge.timer``)."""

from __future__ import annotations

import datetime as dt

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from importers.staging import staging_store
from portfolio.audit import services
from portfolio.audit.models import AuditEvent
from portfolio.auth.sessions import purge_ended_sessions
from portfolio.db import utcnow
from portfolio.extensions import db


@click.command("purge")
@click.option("--days", type=click.IntRange(min=1),
              help="Keep this many days of audit events (default: TICKETNET_AUDIT_RETENTION_DAYS, 365).")
@click.option("--dry-run", is_flag=True, help="Count what would be removed, remove nothing.")
@with_appcontext
def purge_command(days: int | None, dry_run: bool) -> None:
    """Delete the audit events older than the retention period (12 months by default), the records of ended
    sessions and the staged spreadsheets of tickets older than an hour."""
    keep = days or current_app.config["AUDIT_RETENTION_DAYS"]
    now = utcnow()
    cutoff = now - dt.timedelta(days=keep)
    staging = staging_store(current_app.config["UPLOAD_DIR"])
    if dry_run:
        count = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.created_at < cutoff))
        click.echo(f"Journal d'audit : {count} événements antérieurs au {cutoff:%Y-%m-%d} seraient supprimés.")
        click.echo(f"Fichiers de tickets en attente de plus d'une heure : {len(staging.expired())} seraient "
                   f"supprimés.")
        return
    staged = staging.purge()
    deleted = services.purge_older_than(db.session, keep, now=now)
    sessions = purge_ended_sessions(db.session, now=now)
    if deleted or sessions or staged:  # a timer runs it every few minutes: an event only when it removed something
        services.record(db.session, "audit.purged", details={"days": keep, "before": cutoff.isoformat(),
                                                              "deleted": deleted, "sessions": sessions,
                                                              "staged_files": staged})
    db.session.commit()
    click.echo(f"Journal d'audit : {deleted} événements antérieurs au {cutoff:%Y-%m-%d} supprimés "
               f"(conservation : {keep} jours).")
    click.echo(f"Connexions terminées : {sessions} supprimées.")
    click.echo(f"Fichiers de tickets en attente de plus d'une heure : {staged} supprimés.")
