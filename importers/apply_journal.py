"""Applying an imported journal (LEAP2A, WordPress, RSS/Atom) to a learner's journal.

The boundary with the journal feature is here, in one module: entries and their tags are created
directly with the journal's models (HTML through ``sanitise_html()``, the same sanitiser as typed
entries; ``body_md`` keeps that sanitised HTML, which Markdown passes through unchanged), and each
image goes through :func:`store_imported_image`, which uses the journal's own photo processing and
storage. Posts already in the journal (same title, same day) are skipped, so importing
the same file twice adds nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from importers.journal import ImportedEntry, JournalFile, Skipped, clean_tags
from portfolio.auth.models import User
from portfolio.db import utcnow
from portfolio.journal.models import EntryStatus, EntryTag, JournalEntry, Photo, Visibility
from portfolio.markdown import sanitise_html
from portfolio.timeutil import LOCAL_TZ

TITLE_LENGTH = 200
MAX_IMAGE_BYTES = 15 * 1024 * 1024


class ImageRefused(Exception):
    """An imported image that cannot become a photo; ``message`` says why, in plain French."""

    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = message


StoreImage = Callable[[Session, User, JournalEntry, str, bytes], Photo]


def store_imported_image(session: Session, owner: User, entry: JournalEntry, name: str, data: bytes) -> Photo:
    """Keep an image of an imported post as a photo of ``entry``, exactly as a photo sent from the editor:
    judged by its content, re-encoded (no EXIF, no GPS position survives), resized, with a thumbnail,
    through the journal's photo storage. Raises :class:`ImageRefused` with the reason."""
    from portfolio.journal import services as journal
    from portfolio.journal.photos import PhotoRejected, process_photo
    from portfolio.journal.storage import photo_storage

    try:
        processed = process_photo(data, MAX_IMAGE_BYTES)
    except PhotoRejected as refused:
        raise ImageRefused(refused.message) from refused
    return journal.add_photo(session, photo_storage(), entry, processed, alt_text=name)


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
