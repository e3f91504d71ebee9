"""``ticketnet backup FILE``: a consistent snapshot of the database and the uploaded files, taken while
the site serves.

- SQLite: the online backup API copies the database in one step into a temporary file (writers carry
  on), and the rows are read from that copy.
- PostgreSQL: every table is read in one ``REPEATABLE READ, READ ONLY`` transaction, the snapshot
  pg_dump uses; writers are never blocked.

The rows are written as JSON (``codec``), so that a backup restores into either database. The files of
the upload folder are added after the database snapshot (they are written once, never changed). The
archive is written under a temporary name and renamed when complete, so FILE is never half written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from flask import Flask
from sqlalchemy.pool import NullPool

from importers.staging import FOLDER as STAGING_FOLDER
from portfolio.backup import codec
from portfolio.backup.archive import FORMAT, FORMAT_VERSION, MANIFEST, UPLOADS_DIR, BackupError, table_member
from portfolio.extensions import db
from portfolio.uploads import is_partial

Progress = Callable[[str, int], None]
VERSION_TABLE = "alembic_version"


def application_version() -> str:
    try:
        return metadata.version("ticketnet")
    except metadata.PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
        return "unknown"


@dataclass
class Snapshot:
    connection: sa.Connection
    method: str


@contextmanager
def database_snapshot(engine: sa.Engine, workdir: Path) -> Iterator[Snapshot]:
    """A connection that sees one instant of the database for as long as it is open."""
    if engine.dialect.name == "sqlite":
        copy = workdir / "snapshot.sqlite3"
        raw = engine.raw_connection()
        try:
            target = sqlite3.connect(copy)
            try:
                raw.driver_connection.backup(target)  # type: ignore[union-attr]
            finally:
                target.close()
        finally:
            raw.close()
        snapshot_engine = sa.create_engine(f"sqlite:///{copy}", poolclass=NullPool, hide_parameters=True)
        try:
            with snapshot_engine.connect() as connection:
                yield Snapshot(connection, "SQLite online backup API")
        finally:
            snapshot_engine.dispose()
    elif engine.dialect.name == "postgresql":
        options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        with engine.connect().execution_options(**options) as connection, connection.begin():
            yield Snapshot(connection, "PostgreSQL REPEATABLE READ, READ ONLY transaction")
    else:
        raise BackupError(f"base de données non prise en charge : {engine.dialect.name}")


def reflect_tables(connection: sa.Connection) -> list[sa.Table]:
    """The database's own tables (as they are at its revision), parents before children."""
    reflected = sa.MetaData()
    reflected.reflect(bind=connection)
    return [table for table in reflected.sorted_tables if table.name != VERSION_TABLE]


def _write_table(connection: sa.Connection, table: sa.Table, member: IO[bytes]) -> tuple[int, str]:
    digest = hashlib.sha256()
    read = codec.row_reader(table)
    count = 0
    result = connection.execution_options(yield_per=1000).execute(codec.table_select(table))
    for row in result:
        line = (json.dumps(read(row), ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        digest.update(line)
        member.write(line)
        count += 1
    return count, digest.hexdigest()


def _upload_files(root: Path) -> Iterator[tuple[Path, str]]:
    """Every complete regular file under the upload folder (symbolic links are not followed), sorted; never
    the spreadsheets of tickets waiting for their confirmation (``importers.staging``: names, birth dates,
    phones, kept an hour at most)."""
    if not root.is_dir():
        return
    for folder, dirs, files in os.walk(root):
        if Path(folder) == root and STAGING_FOLDER in dirs:
            dirs.remove(STAGING_FOLDER)
        dirs.sort()
        for name in sorted(files):
            path = Path(folder, name)
            if path.is_file() and not path.is_symlink() and not is_partial(name):
                yield path, path.relative_to(root).as_posix()


def _add_uploads(archive: zipfile.ZipFile, root: Path) -> dict[str, int]:
    files = size = 0
    for path, key in _upload_files(root):
        try:
            archive.write(path, UPLOADS_DIR + key, compress_type=zipfile.ZIP_STORED)
        except FileNotFoundError:
            continue  # removed since it was listed
        files += 1
        size += archive.infolist()[-1].file_size
    return {"files": files, "bytes": size}


def create_backup(app: Flask, path: Path, progress: Progress | None = None) -> dict[str, Any]:
    """Write the backup to ``path`` (replaced when complete) and return its manifest."""
    path = Path(path)
    if not path.parent.is_dir():
        raise BackupError(f"{path} : le dossier {path.parent} n'existe pas")
    engine = db.state(app).engine
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    try:
        with tempfile.TemporaryDirectory(dir=path.parent, prefix=".ticketnet-backup-") as workdir, \
                zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            with database_snapshot(engine, Path(workdir)) as snapshot:
                revision = MigrationContext.configure(snapshot.connection).get_current_revision()
                if revision is None:
                    raise BackupError("la base n'est pas initialisée (aucune révision) : rien à sauvegarder")
                tables = []
                for table in reflect_tables(snapshot.connection):
                    with archive.open(table_member(table.name), "w", force_zip64=True) as member:
                        rows, sha256 = _write_table(snapshot.connection, table, member)
                    tables.append({"name": table.name, "rows": rows, "columns": [c.name for c in table.columns],
                                   "sha256": sha256})
                    if progress is not None:
                        progress(table.name, rows)
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "application_version": application_version(),
                "schema_revision": revision,
                "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "database": {"dialect": engine.dialect.name, "snapshot": snapshot.method},
                "tables": tables,
                "uploads": _add_uploads(archive, Path(app.config["UPLOAD_DIR"])),
            }
            archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return manifest
