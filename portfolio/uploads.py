"""Files under ``TICKETNET_UPLOAD_DIR``, written together with the request's transaction.

``write_upload(key, data)`` writes a file atomically (temporary name, fsync, rename), so that a file is
either complete or absent; when the disk or the folder refuses it raises ``UploadWriteError``. The files
a request wrote are kept when the request commits and removed when it rolls back (``portfolio/web.py``
calls ``keep_written`` / ``discard_written``), so a failed upload never leaves half an entry: no row
without its file, no file without its row.

The pattern for a view that saves text and files together::

    try:
        entry = services.save_entry(db.session, ...)        # flushes the rows
        write_upload(key, photo_bytes)                        # may raise UploadWriteError
    except UploadWriteError:
        db.session.rollback()                                 # no half entry (written files go too)
        flash(upload_failed_message(), "error")
        return render_template(..., form=form), 503           # the form, with what the learner typed

Uncaught, the error becomes a French 503 page saying that nothing was recorded.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from flask import current_app, g, has_request_context
from flask_babel import lazy_gettext as _l

UPLOAD_FAILED = _l("Votre photo n'a pas pu être enregistrée. Votre texte est gardé : vous pouvez "
                   "l'enregistrer sans la photo, ou réessayer plus tard.")
NOTHING_RECORDED = _l("Le fichier n'a pas pu être enregistré, alors rien n'a été enregistré. Revenez à la "
                      "page précédente : ce que vous avez écrit y est encore. Réessayez plus tard.")


PARTIAL_SUFFIX = ".part"  # a file being written: ".<name>.<random>.part", renamed when complete


def is_partial(name: str) -> bool:
    return name.startswith(".") and name.endswith(PARTIAL_SUFFIX)


class UploadWriteError(Exception):
    """A file could not be written (disk full, permissions, storage unreachable)."""


def upload_failed_message() -> str:
    """What the learner reads when their photo could not be saved but their text was kept."""
    return str(UPLOAD_FAILED)


def upload_path(root: Path, key: str) -> Path:
    """The file of ``key`` under ``root``: a relative POSIX path without ``..``, never outside the folder."""
    parts = key.split("/")
    if any(part in ("", ".", "..") for part in parts) or "\\" in key or "\0" in key:
        raise ValueError(f"invalid upload key: {key!r}")
    return root.joinpath(*parts)


def write_upload(key: str, data: bytes, root: Path | None = None) -> Path:
    """Write ``data`` under ``key`` in the upload folder (or ``root``), completely or not at all."""
    target = upload_path(root or Path(current_app.config["UPLOAD_DIR"]), key)
    if target.exists():
        raise ValueError(f"upload key already used: {key!r}")
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}{PARTIAL_SUFFIX}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(partial, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)
    except OSError as exc:
        _remove(partial)
        raise UploadWriteError(f"cannot write upload {key!r}: {exc.strerror or exc}") from exc
    if has_request_context():
        g.setdefault("_written_uploads", []).append(target)
    return target


def keep_written() -> None:
    """The request committed: its files stay."""
    g.pop("_written_uploads", None)


def discard_written() -> None:
    """The request rolled back: remove the files it wrote."""
    for path in g.pop("_written_uploads", []):
        _remove(path)


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):  # the folder itself is gone or unreachable: nothing is left to remove
        path.unlink(missing_ok=True)
