"""Applying an imported journal (LEAP2A, WordPress, RSS/Atom) to a learner's journal.

The boundary with the journal feature is here, in one module: entries and their tags are created
directly with the journal's models (HTML through ``sanitise_html()``, the same sanitiser as typed
entries; ``body_md`` keeps that sanitised HTML, which Markdown passes through unchanged), and each
image goes through :func:`store_imported_image`, the one function to route through the journal's photo
storage once it exists. Posts already in the journal (same title, same day) are skipped, so importing
the same file twice adds nothing."""

from __future__ import annotations

import datetime as dt
import io
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.orm import Session

from importers.journal import ImportedEntry, JournalFile, Skipped, clean_tags
from portfolio.auth.models import User
from portfolio.db import utcnow
from portfolio.journal.models import EntryStatus, EntryTag, JournalEntry, Photo, Visibility
from portfolio.markdown import sanitise_html
from portfolio.timeutil import LOCAL_TZ

TITLE_LENGTH = 200
MAX_IMAGE_BYTES = 15 * 1024 * 1024
MAX_PIXELS = 50_000_000
MAX_SIDE = 1600
THUMBNAIL_SIDE = 480
ACCEPTED_IMAGES = {"JPEG", "PNG", "WEBP", "GIF", "MPO"}


class ImageRefused(Exception):
    """An imported image that cannot become a photo; ``message`` says why, in plain French."""

    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = message


StoreImage = Callable[[Session, User, JournalEntry, str, bytes], Photo]


def _encode(image: Image.Image, side: int) -> tuple[bytes, str, int, int]:
    copy = image.copy()
    copy.thumbnail((side, side))
    out = io.BytesIO()
    if copy.mode in ("RGBA", "LA") or (copy.mode == "P" and "transparency" in copy.info):
        copy.convert("RGBA").save(out, "PNG", optimize=True)
        kind = "image/png"
    else:
        copy.convert("RGB").save(out, "JPEG", quality=82, optimize=True)
        kind = "image/jpeg"
    return out.getvalue(), kind, copy.width, copy.height


def store_imported_image(session: Session, owner: User, entry: JournalEntry, name: str, data: bytes) -> Photo:
    """Keep an image of an imported post as a photo of ``entry``: judged by its content, re-encoded
    from its pixels (no EXIF, no GPS position survives), resized, with a thumbnail, written under
    ``UPLOAD_DIR/photos``. Raises :class:`ImageRefused` with the reason.

    MERGE POINT: the journal feature (issue 5) owns the photo storage; at merge this body becomes
    ``add_photo(session, storage, entry, process_photo(data, MAX_IMAGE_BYTES), alt_text=name)``."""
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageRefused(_l("image trop lourde (%(max)s Mo au plus).", max=MAX_IMAGE_BYTES // (1024 * 1024)))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in ACCEPTED_IMAGES:
                    raise ImageRefused(_l("ce n'est pas une photo (JPEG, PNG, WebP ou GIF)."))
                if image.width * image.height > MAX_PIXELS:
                    raise ImageRefused(_l("image trop grande."))
                upright = ImageOps.exif_transpose(image)
                full, content_type, width, height = _encode(upright, MAX_SIDE)
                thumbnail, _kind, _w, _h = _encode(upright, THUMBNAIL_SIDE)
    except ImageRefused:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning, OSError,
            ValueError, SyntaxError, EOFError) as exc:
        raise ImageRefused(_l("image abîmée ou d'un format inconnu.")) from exc
    extension = "png" if content_type == "image/png" else "jpg"
    key = f"imports/{uuid.uuid4().hex}.{extension}"
    thumbnail_key = key.replace(f".{extension}", f".thumb.{extension}")
    folder = Path(current_app.config["UPLOAD_DIR"]) / "photos"
    (folder / "imports").mkdir(parents=True, exist_ok=True)
    (folder / key).write_bytes(full)
    (folder / thumbnail_key).write_bytes(thumbnail)
    photo = Photo(owner_id=owner.id, entry_id=entry.id, storage_key=key, thumbnail_key=thumbnail_key,
                  content_type=content_type, width=width, height=height, size_bytes=len(full),
                  alt_text=name[:300])
    session.add(photo)
    return photo


@dataclass(frozen=True)
class ImportedSummary:
    title: str
    entry_date: dt.date
    tags: list[str]
    photos: int
    draft: bool


@dataclass
class JournalImport:
    """What an import did: the entries created, and what was left out and why."""

    kind: str
    imported: list[ImportedSummary] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


WHAT_POST = _l("Article")
WHAT_IMAGE = _l("Image")


def _title(entry: ImportedEntry, day: dt.date) -> str:
    title = entry.title.strip()[:TITLE_LENGTH]
    return title or str(_l("Article du %(date)s", date=day.strftime("%d/%m/%Y")))


def import_journal(
    session: Session,
    owner: User,
    parsed: JournalFile,
    today: dt.date,
    *,
    store_image: StoreImage = store_imported_image,
    progress: Callable[[int], None] | None = None,
) -> JournalImport:
    """Create the owner's journal entries from a parsed file: private, with their dates, tags and photos.
    Flushes only; the caller commits (or rolls back: then nothing of the import remains)."""
    result = JournalImport(parsed.kind, skipped=list(parsed.skipped))
    existing = set(session.execute(
        sa.select(JournalEntry.title, JournalEntry.entry_date).where(JournalEntry.owner_id == owner.id)).all())
    now = utcnow()
    for entry in parsed.entries:
        moment = entry.published or entry.updated
        day = moment.astimezone(LOCAL_TZ).date() if moment else today
        title = _title(entry, day)
        if (title, day) in existing:
            result.skipped.append(Skipped(str(WHAT_POST), title, str(_l("déjà dans votre journal (même titre, même "
                                                                         "jour) : non importé une deuxième fois."))))
            continue
        existing.add((title, day))
        body = sanitise_html(entry.html)
        tags = clean_tags(entry.tags)
        row = JournalEntry(
            owner_id=owner.id, title=title, body_md=body, body_html=body, entry_date=day,
            status=EntryStatus.DRAFT.value if entry.draft else EntryStatus.PUBLISHED.value,
            visibility=Visibility.PRIVATE.value, created_at=moment or now,
            updated_at=max(entry.updated or moment or now, moment or now),
            published_at=None if entry.draft else (moment or now),
            tags=[EntryTag(tag=tag) for tag in tags],
        )
        session.add(row)
        photos = 0
        if entry.images:
            session.flush()
            for image in entry.images:
                try:
                    store_image(session, owner, row, image.name, image.data)
                    photos += 1
                except ImageRefused as refused:
                    result.skipped.append(Skipped(str(WHAT_IMAGE), f"{image.name} ({title})"[:200],
                                                  str(refused.message)))
        result.imported.append(ImportedSummary(title, day, tags, photos, entry.draft))
        if progress is not None:
            progress(1)
    session.flush()
    return result
