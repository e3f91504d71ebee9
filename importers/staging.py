"""Uploaded files kept between "check" and "confirm", so that nobody uploads the same file twice.

A file lives in ``UPLOAD_DIR/imports/<token>.upload`` beside a small JSON of who sent it and when,
for one hour; only its sender may read it back. The folder is the one the photos use, shared by every
application server. The token is random (never a name from the upload) and checked before use.

These files hold people's names, birth dates and phone numbers: they are removed once used, at each upload
(those older than an hour), and by ``ticketnet purge`` (run every few minutes by a timer,
``docs/deploy/ticketnet-purge.timer``); backups never carry them (``portfolio.backup``)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portfolio.db import utcnow

MAX_AGE = dt.timedelta(hours=1)
FOLDER = "imports"  # under UPLOAD_DIR; never backed up
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


@dataclass(frozen=True)
class Staged:
    token: str
    filename: str
    data: bytes
    meta: dict[str, Any]


def staging_store(upload_dir: Path | str) -> StagingStore:
    """The staging folder of a site whose uploads live in ``upload_dir``."""
    return StagingStore(Path(upload_dir) / FOLDER)


class StagingStore:
    def __init__(self, folder: Path | str, max_age: dt.timedelta = MAX_AGE) -> None:
        self.folder = Path(folder)
        self.max_age = max_age

    def _paths(self, token: str) -> tuple[Path, Path]:
        return self.folder / f"{token}.upload", self.folder / f"{token}.json"

    def put(self, owner_id: int, filename: str, data: bytes, **meta: Any) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.purge()
        token = secrets.token_urlsafe(24)
        data_path, meta_path = self._paths(token)
        for path, content in ((data_path, data), (meta_path, json.dumps({
                "owner_id": owner_id, "filename": filename[:200], "created": utcnow().isoformat(), "meta": meta,
        }).encode())):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
        return token

    def get(self, token: str, owner_id: int) -> Staged | None:
        """The staged file, if the token is well-formed, its sender is ``owner_id`` and it is recent."""
        if not _TOKEN.match(token or ""):
            return None
        data_path, meta_path = self._paths(token)
        try:
            info = json.loads(meta_path.read_text())
            if info["owner_id"] != owner_id or self._expired(info["created"]):
                return None
            return Staged(token, info["filename"], data_path.read_bytes(), info.get("meta") or {})
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def discard(self, token: str) -> None:
        if _TOKEN.match(token or ""):
            for path in self._paths(token):
                path.unlink(missing_ok=True)

    def _expired(self, created: str) -> bool:
        return utcnow() - dt.datetime.fromisoformat(created) > self.max_age

    def expired(self) -> list[str]:
        """The tokens of the files older than ``max_age`` (by the time their description was written)."""
        if not self.folder.is_dir():
            return []
        limit = (utcnow() - self.max_age).timestamp()
        tokens = []
        for path in self.folder.glob("*.json"):
            try:
                if path.stat().st_mtime < limit:
                    tokens.append(path.stem)
            except OSError:
                continue
        # A file whose description is missing (a server stopped between the two writes) goes too.
        described = {path.stem for path in self.folder.glob("*.json")}
        tokens += [path.stem for path in self.folder.glob("*.upload") if path.stem not in described
                   and self._older_than(path, limit)]
        return tokens

    @staticmethod
    def _older_than(path: Path, limit: float) -> bool:
        try:
            return path.stat().st_mtime < limit
        except OSError:
            return False

    def purge(self) -> int:
        """Remove the files older than ``max_age``; returns how many uploads were removed."""
        tokens = self.expired()
        for token in tokens:
            self.discard(token)
        return len(tokens)
