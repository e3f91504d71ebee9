"""The backup file: a ZIP archive holding a manifest, the rows of every table and the uploaded files.

::

    manifest.json              format, application version, schema revision, date, tables in insert
                               order with their columns, row counts and SHA-256, number of files
    database/<table>.jsonl     the table's rows, one JSON array per line (see ``codec``)
    uploads/<key>              the files of TICKETNET_UPLOAD_DIR, byte for byte

A ZIP file checks each member with its CRC, can be listed with ``unzip -l`` and read with
``unzip -p FILE manifest.json``; its manifest is read first without reading the rest.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

FORMAT = "ticketnet-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE_DIR = "database/"
UPLOADS_DIR = "uploads/"


class BackupError(Exception):
    """Refused input: the message names the file and says why (the CLI exits with status 1)."""


def table_member(table: str) -> str:
    return f"{DATABASE_DIR}{table}.jsonl"


def open_archive(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError as exc:
        raise BackupError(f"{path} : fichier introuvable") from exc
    except (zipfile.BadZipFile, OSError) as exc:
        raise BackupError(f"{path} : ce n'est pas une sauvegarde Ticket Net (archive ZIP illisible : {exc})") from exc


def read_manifest(archive: zipfile.ZipFile, path: Path) -> dict[str, Any]:
    """The manifest, checked for what restoring needs; BackupError otherwise."""
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except KeyError as exc:
        raise BackupError(f"{path} : ce n'est pas une sauvegarde Ticket Net ({MANIFEST} manque)") from exc
    except (ValueError, zipfile.BadZipFile) as exc:
        raise BackupError(f"{path} : {MANIFEST} est illisible ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} : ce n'est pas une sauvegarde Ticket Net (format inconnu)")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BackupError(
            f"{path} : sauvegarde au format {version}, faite par Ticket Net {manifest.get('application_version')} ; "
            f"cette version ne lit que le format {FORMAT_VERSION} : installez une version plus récente")
    tables = manifest.get("tables")
    if not manifest.get("schema_revision") or not isinstance(tables, list) or not all(
            isinstance(t, dict) and {"name", "rows", "columns", "sha256"} <= set(t) for t in tables):
        raise BackupError(f"{path} : {MANIFEST} est incomplet (révision ou tables manquantes)")
    return manifest
