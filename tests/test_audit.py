"""The audit log is append-only in the application, and ``ticketnet purge`` removes what is past
the retention period (12 months by default), and nothing else."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from portfolio.audit import services
from portfolio.audit.models import AuditEvent, AuditLogIsAppendOnly
from portfolio.db import utcnow


def _event(db_session: Session, days_ago: int, action: str = "test.event") -> AuditEvent:
    event = services.record(db_session, action)
    event.created_at = utcnow() - dt.timedelta(days=days_ago)
    db_session.flush()
    return event


def test_an_event_cannot_be_changed(db_session: Session) -> None:
    event = _event(db_session, 0)
    event.action = "rewritten"
    with pytest.raises(AuditLogIsAppendOnly):
        db_session.flush()


def test_an_event_cannot_be_deleted(db_session: Session) -> None:
    event = _event(db_session, 0)
    db_session.delete(event)
    with pytest.raises(AuditLogIsAppendOnly):
        db_session.flush()


@pytest.mark.parametrize("statement", [
    sa.update(AuditEvent).values(action="rewritten"),
    sa.delete(AuditEvent),
    sa.update(AuditEvent.__table__).values(ip="192.0.2.1"),
    sa.delete(AuditEvent.__table__).where(AuditEvent.__table__.c.id > 0),
], ids=["orm-update", "orm-delete", "core-update", "core-delete"])
def test_bulk_statements_are_refused(db_session: Session, statement: Any) -> None:
    _event(db_session, 0)
    with pytest.raises(AuditLogIsAppendOnly):
        db_session.execute(statement)


def test_purge_removes_only_what_is_past_retention(db_session: Session) -> None:
    old, recent = _event(db_session, 400), _event(db_session, 300)
    old_id, recent_id = old.id, recent.id
    assert services.purge_older_than(db_session, 365) >= 1
    remaining = set(db_session.scalars(sa.select(AuditEvent.id)))
    assert old_id not in remaining and recent_id in remaining


def test_ticketnet_purge_uses_the_configured_retention(app: Any, runner: Any, db_session: Session) -> None:
    old_id, recent_id = _event(db_session, 366).id, _event(db_session, 364).id
    db_session.commit()
    result = runner.invoke(args=["purge", "--dry-run"])
    assert result.exit_code == 0 and "seraient supprimés" in result.output
    assert db_session.get(AuditEvent, old_id) is not None

    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "supprimés (conservation : 365 jours)" in result.output
    db_session.expire_all()
    ids = set(db_session.scalars(sa.select(AuditEvent.id)))
    assert old_id not in ids and recent_id in ids
    purged = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "audit.purged")).one()
    assert purged.details["days"] == 365 and purged.details["deleted"] >= 1

    app.config["AUDIT_RETENTION_DAYS"] = 30
    result = runner.invoke(args=["purge"])
    db_session.expire_all()
    assert "conservation : 30 jours" in result.output and db_session.get(AuditEvent, recent_id) is None


def test_purge_refuses_a_nonsense_retention(runner: Any) -> None:
    assert runner.invoke(args=["purge", "--days", "0"]).exit_code == 2


def test_ticketnet_purge_removes_staged_spreadsheets_older_than_an_hour(app: Any, runner: Any, tmp_path: Any) -> None:
    """Spreadsheets of tickets waiting for "Émettre" hold names, birth dates and phones: the purge (run by a
    timer every few minutes) removes those older than an hour, even when nobody uploads again."""
    import os
    import time

    from importers.staging import staging_store

    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")  # this test's own folder
    store = staging_store(app.config["UPLOAD_DIR"])
    old, fresh = store.put(7, "vieux.csv", b"Lafon;Odile"), store.put(7, "recent.csv", b"Delmas;Jean")
    two_hours_ago = time.time() - 2 * 3600
    for path in store.folder.glob(f"{old}.*"):
        os.utime(path, (two_hours_ago, two_hours_ago))
    orphan = store.folder / ("x" * 32 + ".upload")  # its description never got written
    orphan.write_bytes(b"Martin;Paul")
    os.utime(orphan, (two_hours_ago, two_hours_ago))
    assert "2 seraient supprimés" in runner.invoke(args=["purge", "--dry-run"]).output
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0 and "plus d'une heure : 2 supprimés" in result.output
    assert sorted(p.name for p in store.folder.iterdir()) == [f"{fresh}.json", f"{fresh}.upload"]
    assert store.get(fresh, 7) is not None and store.get(old, 7) is None


def test_a_purge_that_removes_nothing_writes_no_event(app: Any, runner: Any, db_session: Session) -> None:
    def purged() -> int:
        db_session.expire_all()
        return db_session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "audit.purged"))

    runner.invoke(args=["purge"])
    before = purged()
    assert runner.invoke(args=["purge"]).exit_code == 0
    assert purged() == before
