"""Applying an imported journal (LEAP2A, WordPress, RSS/Atom) to a learner's journal.

The boundary with the journal feature is here, in one module: entries and their tags are created
directly with the journal's models (HTML through ``sanitise_html()``, the same sanitiser as typed
entries; ``body_md`` keeps that sanitised HTML, which Markdown passes through unchanged), and each
image goes through :func:`store_imported_image`, which uses the journal's own photo processing and
storage. Posts already in the journal (same title, same day) are skipped, so importing
the same file twice adds nothing."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from importers.errors import ImportRefused
from importers.journal import MAX_IMAGE_BYTES, ImportedEntry, JournalFile, Skipped, clean_tags
from portfolio.auth.models import User
from portfolio.db import utcnow
from portfolio.journal.models import EntryStatus, EntryTag, JournalEntry, Photo, Visibility
from portfolio.markdown import sanitise_html
from portfolio.timeutil import LOCAL_TZ

TITLE_LENGTH = 200
# The decoded pixels an import may cost, all its image files together (each decoded once): about 130 phone
# photos (3 megapixels each once reduced) or 25 large PNG (bench/import_bounds.py, docs/benchmarks.md).
MAX_IMPORT_DECODED_PIXELS = 400_000_000


class ImageRefused(Exception):
    """An imported image that cannot become a photo; ``message`` says why, in plain French."""

    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = message


StoreImage = Callable[[Session, User, JournalEntry, str, bytes], Photo]


def store_imported_image(session: Session, owner: User, entry: JournalEntry, name: str, data: bytes, *,
                         processed_files: dict[int, Any] | None = None) -> Photo:
    """Keep an image of an imported post as a photo of ``entry``, exactly as a photo sent from the editor:
    judged by its content, re-encoded (no EXIF, no GPS position survives), resized, with a thumbnail,
    through the journal's photo storage. Raises :class:`ImageRefused` with the reason.

    ``processed_files`` (one per import) keeps what each file became, so that a file attached to several posts
    is decoded once (the parser gives each reference the same bytes)."""
    from portfolio.journal import services as journal
    from portfolio.journal.photos import PhotoRejected, process_photo
    from portfolio.journal.storage import photo_storage

    known = processed_files.get(id(data)) if processed_files is not None else None
    if known is None:
        try:
            known = process_photo(data, MAX_IMAGE_BYTES)
        except PhotoRejected as refused:
            known = ImageRefused(refused.message)
        if processed_files is not None:
            processed_files[id(data)] = known
    if isinstance(known, ImageRefused):
        raise known
    return journal.add_photo(session, photo_storage(), entry, known, alt_text=name)


def decoded_pixels(parsed: JournalFile) -> int:
    """The pixels the import's image files will cost once decoded (each file once; a file that is not an
    image Pillow can open costs nothing: it will be refused)."""
    import io

    from PIL import Image

    from portfolio.journal.photos import OPENERS, decoded_size

    total = 0
    seen: set[int] = set()
    for entry in parsed.entries:
        for image in entry.images:
            if id(image.data) in seen:
                continue
            seen.add(id(image.data))
            try:
                with Image.open(io.BytesIO(image.data), formats=OPENERS) as opened:
                    width, height = decoded_size(opened)
            except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
                continue
            total += width * height
    return total


def check_image_budget(parsed: JournalFile) -> None:
    """Refuse, before anything is written, an import whose images would cost too much to decode."""
    pixels = decoded_pixels(parsed)
    if pixels > MAX_IMPORT_DECODED_PIXELS:
        raise ImportRefused(_l(
            "Les photos de ce fichier sont trop grandes pour être importées en une fois (%(num)s millions de "
            "points, %(max)s millions au plus). Importez votre journal en plusieurs fichiers, ou demandez de l'aide "
            "à votre EPM.", num=pixels // 1_000_000, max=MAX_IMPORT_DECODED_PIXELS // 1_000_000))


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
    Flushes only; the caller commits (or rolls back: then nothing of the import remains). Raises
    ``ImportRefused`` before writing anything when its images would cost too much to decode."""
    check_image_budget(parsed)
    if store_image is store_imported_image:
        store_image = functools.partial(store_imported_image, processed_files={})
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
