"""``ticketnet purge``: remove what the retention rules say must go: audit events past their retention,
and the records of signed-in sessions that ended."""

from __future__ import annotations

import datetime as dt

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

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
    """Delete the audit events older than the retention period (12 months by default)."""
    keep = days or current_app.config["AUDIT_RETENTION_DAYS"]
    now = utcnow()
    cutoff = now - dt.timedelta(days=keep)
    if dry_run:
        count = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.created_at < cutoff))
        click.echo(f"Journal d'audit : {count} événements antérieurs au {cutoff:%Y-%m-%d} seraient supprimés.")
        return
    deleted = services.purge_older_than(db.session, keep, now=now)
    sessions = purge_ended_sessions(db.session, now=now)
    services.record(db.session, "audit.purged", details={"days": keep, "before": cutoff.isoformat(),
                                                          "deleted": deleted, "sessions": sessions})
    db.session.commit()
    click.echo(f"Journal d'audit : {deleted} événements antérieurs au {cutoff:%Y-%m-%d} supprimés "
               f"(conservation : {keep} jours).")
    click.echo(f"Connexions terminées : {sessions} supprimées.")
