"""Backups: ``ticketnet backup FILE`` and ``ticketnet restore FILE`` (see docs/deploy.md).

One ZIP file holds a consistent snapshot of the database taken while the site serves, the uploaded
files and a manifest (``archive``). The rows are stored as JSON (``codec``), so that a backup taken on
SQLite restores into PostgreSQL and the other way round.
"""

from portfolio.backup.archive import BackupError
from portfolio.backup.restore import RestoreReport, restore_backup
from portfolio.backup.snapshot import create_backup

__all__ = ["BackupError", "RestoreReport", "create_backup", "restore_backup"]
