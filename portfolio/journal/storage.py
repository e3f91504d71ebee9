"""Photo storage: one small interface, so that a database or a shared store can replace the folder.

The default keeps files in a folder (``TICKETNET_UPLOAD_DIR``, ``instance/uploads`` by default), never
under ``static/``: photos are served only by a view that checks who is asking. Keys are made here
(random, two-level) and checked before they touch the file system. Several application servers share
photos by pointing ``TICKETNET_UPLOAD_DIR`` at a shared folder, or by plugging another ``PhotoStorage``
into ``app.extensions[EXTENSION_KEY]``.

Files are deleted only after the database transaction that forgot them has committed
(``delete_after_commit``), so that a rolled-back request never leaves a row without its file.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import Session

from portfolio.uploads import write_upload

EXTENSION_KEY = "ticketnet.photos"
_KEY = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{32}(-thumb)?\.(jpg|png)$")
_PENDING = "ticketnet.delete_after_commit"


class PhotoStorage(Protocol):
    def save(self, key: str, data: bytes) -> None:
        """Store ``data`` completely or not at all; raise ``portfolio.uploads.UploadWriteError`` if refused."""

    def read(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...


def new_key(extension: str, suffix: str = "") -> str:
    token = secrets.token_hex(16)
    return f"{token[:2]}/{token}{suffix}.{extension}"


def thumbnail_key(key: str) -> str:
    stem, extension = key.rsplit(".", 1)
    return f"{stem}-thumb.{extension}"


class FolderStorage:
    """Photos as files in a folder, written atomically by ``portfolio.uploads.write_upload``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ValueError(f"invalid photo key: {key!r}")
        return self.root / key

    def save(self, key: str, data: bytes) -> None:
        """Complete or absent, removed again if the request rolls back; ``UploadWriteError`` if refused."""
        self._path(key)  # checks the key
        write_upload(key, data, root=self.root)

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


def init_app(app: Flask) -> None:
    app.extensions.setdefault(EXTENSION_KEY, FolderStorage(app.config["UPLOAD_DIR"]))


def photo_storage() -> PhotoStorage:
    storage: PhotoStorage = current_app.extensions[EXTENSION_KEY]
    return storage


def delete_after_commit(session: Session, storage: PhotoStorage, keys: list[str]) -> None:
    """Delete these files once the session's transaction has committed (never if it rolls back)."""
    session.info.setdefault(_PENDING, []).extend((storage, key) for key in keys)


@sa.event.listens_for(Session, "after_commit")
def _delete_pending(session: Session) -> None:
    for storage, key in session.info.pop(_PENDING, []):
        storage.delete(key)


@sa.event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
