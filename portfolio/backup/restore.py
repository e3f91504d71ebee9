"""``ticketnet restore FILE``: a backup into an empty database and an empty upload folder.

Refused, with nothing changed: a file that is not a complete Ticket Net backup, a backup from a newer
schema than this version knows, a database that holds rows or another schema, an upload folder that
is not empty. Otherwise: the schema is migrated to the backup's revision, the rows are inserted in one
transaction (parents first; PostgreSQL's id sequences moved past them), the files are put in place,
and the schema is upgraded to this version's head (data migrations included).

``--dry-run`` reads and checks the whole file (manifest, every row, every file) and touches nothing.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import os
import secrets
import shutil
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import Flask

from portfolio import migrate
from portfolio.backup import codec
from portfolio.backup.archive import UPLOADS_DIR, BackupError, open_archive, read_manifest, table_member
from portfolio.backup.snapshot import VERSION_TABLE, reflect_tables
from portfolio.db import ensure_sqlite_folder
from portfolio.extensions import db
from portfolio.uploads import upload_path

BATCH = 1000
Progress = Callable[[str, int], None]


@dataclass
class RestoreReport:
    manifest: dict[str, Any]
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    revision: str | None = None  # the database's revision afterwards (None for a dry run)
    dry_run: bool = False


def restore_backup(app: Flask, path: Path, dry_run: bool = False, progress: Progress | None = None) -> RestoreReport:
    path = Path(path)
    ensure_sqlite_folder(app.config["DATABASE_URL"])
    with open_archive(path) as archive:
        manifest = read_manifest(archive, path)
        revision = manifest["schema_revision"]
        _check_revision_is_known(app, path, manifest)
        report = RestoreReport(manifest, dry_run=dry_run)
        if dry_run:
            for entry in manifest["tables"]:
                report.rows[entry["name"]] = sum(1 for _ in _rows(archive, path, entry))
            report.files = _copy_uploads(archive, path, manifest, into=None)
            return report
        upload_root = Path(app.config["UPLOAD_DIR"])
        _check_empty_target(db.state(app).engine, upload_root, path, revision)
        staging = upload_root.with_name(f".{upload_root.name}.restoring-{secrets.token_hex(4)}")
        try:
            staging.mkdir(parents=True)
            report.files = _copy_uploads(archive, path, manifest, into=staging)
            migrate.upgrade(app, revision)
            report.rows = _load_tables(db.state(app).engine, archive, path, manifest, progress)
            if upload_root.exists():
                upload_root.rmdir()  # checked empty above
            os.replace(staging, upload_root)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    if revision != migrate.head_revision(app):
        migrate.upgrade(app, "head")
    report.revision = migrate.current_revision(app)
    return report


def _check_revision_is_known(app: Flask, path: Path, manifest: dict[str, Any]) -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config(app))
    try:
        known = script.get_revision(manifest["schema_revision"]) is not None
    except CommandError:
        known = False
    if not known:
        raise BackupError(
            f"{path} : sauvegarde faite par Ticket Net {manifest.get('application_version')}, avec un schéma "
            f"(révision {manifest['schema_revision']}) plus récent que celui de cette version "
            f"(révision {script.get_current_head()}) : installez Ticket Net "
            f"{manifest.get('application_version')} ou plus récent pour la restaurer ; rien n'a été modifié")


def _check_empty_target(engine: sa.Engine, upload_root: Path, path: Path, revision: str) -> None:
    with engine.connect() as connection:
        names = [name for name in sa.inspect(connection).get_table_names() if name != VERSION_TABLE]
        current = MigrationContext.configure(connection).get_current_revision()
        filled = [name for name in names
                  if connection.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar()]
    refused = f"restauration de {path} refusée"
    if filled:
        raise BackupError(
            f"{refused} : la base de destination n'est pas vide ({len(filled)} tables ont des lignes, dont "
            f"{', '.join(filled[:3])}) ; restaurez dans une base vide, créée pour l'occasion ; rien n'a été modifié")
    if (current is None and names) or current not in (None, revision):
        raise BackupError(
            f"{refused} : la base de destination a déjà un schéma (révision {current or 'inconnue'}) et la "
            f"sauvegarde est à la révision {revision} ; restaurez dans une base vide, créée pour l'occasion")
    if upload_root.is_dir() and any(upload_root.iterdir()):
        raise BackupError(
            f"{refused} : le dossier des fichiers {upload_root} (TICKETNET_UPLOAD_DIR) n'est pas vide ; "
            "videz-le ou choisissez-en un autre")


def _rows(archive: zipfile.ZipFile, path: Path, entry: dict[str, Any]) -> Iterator[tuple[int, list[Any]]]:
    """The rows of one table member as (line number, cells), checked against the manifest at the end."""
    name = table_member(entry["name"])
    try:
        member = archive.open(name)
    except KeyError as exc:
        raise BackupError(f"{path} : {name} manque ; la sauvegarde est incomplète") from exc
    digest = hashlib.sha256()
    count = 0
    with member:
        try:
            for number, line in enumerate(member, 1):
                digest.update(line)
                try:
                    cells = json.loads(line)
                except ValueError as exc:
                    raise BackupError(f"{path} : {name}, ligne {number} : JSON illisible ({exc})") from exc
                if not isinstance(cells, list):
                    raise BackupError(f"{path} : {name}, ligne {number} : une ligne doit être une liste de valeurs")
                count += 1
                yield number, cells
        except zipfile.BadZipFile as exc:
            raise BackupError(f"{path} : {name} est abîmé ({exc})") from exc
    if count != entry["rows"] or digest.hexdigest() != entry["sha256"]:
        raise BackupError(f"{path} : {name} ne correspond pas au manifeste ({count} lignes pour {entry['rows']} "
                          "annoncées, ou empreinte SHA-256 différente) ; la sauvegarde est abîmée")


def _load_tables(engine: sa.Engine, archive: zipfile.ZipFile, path: Path, manifest: dict[str, Any],
                 progress: Progress | None) -> dict[str, int]:
    entries = {entry["name"]: entry for entry in manifest["tables"]}
    counts: dict[str, int] = {}
    with engine.begin() as connection:
        tables = reflect_tables(connection)
        names = {table.name for table in tables}
        if names != set(entries):
            raise BackupError(
                f"{path} : les tables de la sauvegarde ne sont pas celles du schéma {manifest['schema_revision']} "
                f"(en trop : {sorted(set(entries) - names) or 'aucune'} ; manquantes : "
                f"{sorted(names - set(entries)) or 'aucune'})")
        for table in tables:  # parents before children
            entry = entries[table.name]
            if set(entry["columns"]) != set(table.columns.keys()):
                raise BackupError(f"{path} : les colonnes de {table.name} ne sont pas celles du schéma "
                                  f"{manifest['schema_revision']}")
            codec.json_columns_keep_sql_null(table)
            counts[table.name] = _load_table(connection, table, archive, path, entry)
            if progress is not None:
                progress(table.name, counts[table.name])
        _reset_sequences(connection, tables)
    return counts


def _load_table(connection: sa.Connection, table: sa.Table, archive: zipfile.ZipFile, path: Path,
                entry: dict[str, Any]) -> int:
    write = codec.row_writer(table, entry["columns"])
    batch: list[dict[str, Any]] = []
    count = 0

    def flush() -> None:
        try:
            connection.execute(table.insert(), batch)
        except (sa.exc.IntegrityError, sa.exc.DataError) as exc:
            raise BackupError(f"{path} : {table_member(table.name)} : la base refuse ces lignes ({exc.orig})") from exc
        batch.clear()

    for number, cells in _rows(archive, path, entry):
        try:
            batch.append(write(cells))
        except (ValueError, TypeError, binascii.Error) as exc:
            raise BackupError(f"{path} : {table_member(table.name)}, ligne {number} : {exc}") from exc
        count += 1
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    return count


def _reset_sequences(connection: sa.Connection, tables: list[sa.Table]) -> None:
    """PostgreSQL: move each id sequence past the restored ids, so that new rows get new ids."""
    if connection.dialect.name != "postgresql":
        return
    quote = connection.dialect.identifier_preparer.quote
    for table in tables:
        for column in table.primary_key.columns:
            if not isinstance(column.type, sa.Integer):
                continue
            sequence = connection.execute(sa.text("SELECT pg_get_serial_sequence(:table, :column)"),
                                          {"table": quote(table.name), "column": column.name}).scalar()
            if sequence:  # identifiers come from the reflected schema, quoted by the dialect
                name, key = quote(table.name), quote(column.name)
                connection.execute(sa.text(
                    f"SELECT setval(:sequence, COALESCE(MAX({key}), 1), MAX({key}) IS NOT NULL) FROM {name}"),  # noqa: S608
                    {"sequence": sequence})


def _upload_members(archive: zipfile.ZipFile, path: Path) -> Iterator[tuple[zipfile.ZipInfo, str]]:
    for info in archive.infolist():
        if info.filename.startswith(UPLOADS_DIR) and not info.is_dir():
            key = info.filename[len(UPLOADS_DIR):]
            try:
                upload_path(Path("."), key)
            except ValueError as exc:
                raise BackupError(f"{path} : nom de fichier refusé dans la sauvegarde : {info.filename!r}") from exc
            yield info, key


def _copy_uploads(archive: zipfile.ZipFile, path: Path, manifest: dict[str, Any], into: Path | None) -> int:
    """Read every file of the backup (its CRC checked), writing it under ``into`` unless None."""
    count = 0
    for info, key in _upload_members(archive, path):
        try:
            with archive.open(info) as source:
                if into is None:
                    while source.read(1 << 20):
                        pass
                else:
                    target = upload_path(into, key)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with open(target, "xb") as out:
                        shutil.copyfileobj(source, out)
        except zipfile.BadZipFile as exc:
            raise BackupError(f"{path} : le fichier {info.filename} est abîmé ({exc})") from exc
        count += 1
    expected = (manifest.get("uploads") or {}).get("files", 0)
    if count != expected:
        raise BackupError(
            f"{path} : {count} fichiers dans la sauvegarde pour {expected} annoncés ; elle est incomplète")
    return count
