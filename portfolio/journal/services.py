"""The journal's rules: writing, publishing and listing entries, and their photos.

Plain functions taking a SQLAlchemy session; they flush, never commit (one commit per request).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, selectinload

from competences.loader import B2I_CODE, latest_framework
from competences.models import Competence, FrameworkDomain
from portfolio.auth.models import User
from portfolio.catalogue.models import Module
from portfolio.db import utcnow
from portfolio.enrolment.models import Attendance, AttendanceStatus, Enrolment, WorkshopSession
from portfolio.journal.models import EntryStatus, EntryTag, JournalEntry, Photo, Visibility
from portfolio.journal.photos import ProcessedPhoto
from portfolio.journal.storage import PhotoStorage, delete_after_commit, new_key, thumbnail_key
from portfolio.markdown import render_markdown
from portfolio.uploads import UploadWriteError

PAGE_SIZE = 20
MAX_TAGS = 10
TAG_LENGTH = 60
TITLE_LENGTH = 200


@dataclass
class EntryInput:
    """What the learner typed in the editor."""

    title: str = ""
    body_md: str = ""
    entry_date: dt.date | None = None
    visibility: str = Visibility.PRIVATE.value
    session_id: int | None = None
    module_id: int | None = None
    competence_ids: list[int] = field(default_factory=list)
    tags: str | list[str] = ""


def normalise_tags(raw: str | Iterable[str]) -> list[str]:
    """Tags as typed, separated by commas: trimmed, without '#', without duplicates, at most ten."""
    parts = re.split(r"[,;\n]", raw) if isinstance(raw, str) else list(raw)
    tags: list[str] = []
    seen: set[str] = set()
    for part in parts:
        tag = re.sub(r"\s+", " ", part.strip().lstrip("#").strip())[:TAG_LENGTH]
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append(tag)
    return tags[:MAX_TAGS]


def save_entry(
    session: Session, owner: User, data: EntryInput, entry: JournalEntry | None = None, *,
    publish: bool = False, today: dt.date | None = None,
) -> JournalEntry:
    """Create or update an entry (a draft unless ``publish``); its HTML is rendered now, once.

    Links to a session, a module or competences the learner may not use are dropped silently: the
    editor only offers the allowed ones, so only a forged request sends others.
    """
    if entry is None:
        entry = JournalEntry(owner_id=owner.id, status=EntryStatus.DRAFT.value, tags=[], competences=[], photos=[])
        session.add(entry)
    elif entry.owner_id != owner.id:
        raise PermissionError("only the owner writes an entry")
    else:
        unloaded = sa.inspect(entry).unloaded & {"tags", "competences"}
        if unloaded:
            session.refresh(entry, sorted(unloaded))
    entry.title = data.title.strip()[:TITLE_LENGTH]
    entry.body_md = data.body_md.replace("\r\n", "\n")
    entry.body_html = render_markdown(entry.body_md)
    entry.entry_date = data.entry_date or entry.entry_date or today or dt.date.today()
    entry.visibility = Visibility(data.visibility).value
    allowed_sessions = {s.id for s in sessions_for(session, owner.id)}
    entry.session_id = data.session_id if data.session_id in allowed_sessions else None
    entry.module_id = data.module_id if data.module_id is not None and session.get(Module, data.module_id) else None
    entry.competences = list(session.scalars(
        sa.select(Competence).where(Competence.id.in_(data.competence_ids or [-1]))
    )) if data.competence_ids else []
    wanted = normalise_tags(data.tags)
    kept = {t.tag: t for t in entry.tags}
    entry.tags = [kept.get(tag) or EntryTag(tag=tag) for tag in wanted]
    if publish:
        publish_entry(entry)
    entry.updated_at = utcnow()
    session.flush()
    return entry


def publish_entry(entry: JournalEntry) -> None:
    """A draft becomes published (a published entry stays as it is)."""
    if entry.status != EntryStatus.PUBLISHED.value:
        entry.status = EntryStatus.PUBLISHED.value
        entry.published_at = utcnow()


def load_entry(session: Session, entry_id: int) -> JournalEntry | None:
    """An entry with everything its page shows (owner, tags, competences, photos, session, module)."""
    return session.scalar(
        sa.select(JournalEntry)
        .where(JournalEntry.id == entry_id)
        .options(
            joinedload(JournalEntry.owner),
            selectinload(JournalEntry.tags),
            selectinload(JournalEntry.competences),
            selectinload(JournalEntry.photos),
        )
    )


# --- Listing, newest first, with keyset pagination ------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """Where a page of the journal starts: after the entry of this date and id (newest first)."""

    entry_date: dt.date
    entry_id: int

    def encode(self) -> str:
        return f"{self.entry_date.isoformat()}_{self.entry_id}"

    @classmethod
    def decode(cls, raw: str | None) -> Cursor | None:
        match = re.fullmatch(r"(\d{4}-\d{2}-\d{2})_(\d{1,12})", raw or "")
        if not match:
            return None
        try:
            return cls(dt.date.fromisoformat(match.group(1)), int(match.group(2)))
        except ValueError:
            return None


@dataclass
class EntryPage:
    entries: list[JournalEntry]
    next_cursor: Cursor | None


def entries_page(
    session: Session, owner_id: int, *, after: Cursor | None = None, limit: int = PAGE_SIZE,
    visibilities: Sequence[str] | None = None,
) -> EntryPage:
    """One page of an owner's journal, newest first, in three queries whatever its length.

    ``visibilities`` None: everything, drafts included (the owner). Otherwise only published entries
    of these visibilities (another reader).
    """
    query = (
        sa.select(JournalEntry)
        .where(JournalEntry.owner_id == owner_id)
        .options(selectinload(JournalEntry.tags), selectinload(JournalEntry.photos))
        .order_by(JournalEntry.entry_date.desc(), JournalEntry.id.desc())
        .limit(limit + 1)
    )
    if visibilities is not None:
        query = query.where(JournalEntry.status == EntryStatus.PUBLISHED.value,
                            JournalEntry.visibility.in_(list(visibilities)))
    if after is not None:
        query = query.where(sa.or_(
            JournalEntry.entry_date < after.entry_date,
            sa.and_(JournalEntry.entry_date == after.entry_date, JournalEntry.id < after.entry_id),
        ))
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = Cursor(rows[-1].entry_date, rows[-1].id) if more and rows else None
    return EntryPage(rows, cursor)


def delete_entry(session: Session, storage: PhotoStorage, entry: JournalEntry) -> None:
    photos = list(session.scalars(sa.select(Photo).where(Photo.entry_id == entry.id)))
    delete_after_commit(session, storage, [k for p in photos for k in (p.storage_key, p.thumbnail_key)])
    session.delete(entry)
    session.flush()


# --- Photos --------------------------------------------------------------------------------------


def add_photo(
    session: Session, storage: PhotoStorage, entry: JournalEntry, processed: ProcessedPhoto, alt_text: str = "",
) -> Photo:
    """Store a processed photo (see ``photos.process_photo``) and attach it to the entry."""
    key = new_key(processed.extension)
    storage.save(key, processed.data)
    try:
        storage.save(thumbnail_key(key), processed.thumbnail)
    except UploadWriteError:
        storage.delete(key)  # never half a photo
        raise
    photo = Photo(
        owner_id=entry.owner_id, entry_id=entry.id, storage_key=key, thumbnail_key=thumbnail_key(key),
        content_type=processed.content_type, width=processed.width, height=processed.height,
        size_bytes=len(processed.data), alt_text=alt_text.strip()[:300],
    )
    session.add(photo)
    session.flush()
    return photo


def remove_photos(session: Session, storage: PhotoStorage, entry: JournalEntry, photo_ids: Iterable[int]) -> int:
    ids = [int(i) for i in photo_ids]
    if not ids:
        return 0
    photos = list(session.scalars(sa.select(Photo).where(Photo.entry_id == entry.id, Photo.id.in_(ids))))
    for photo in photos:
        delete_after_commit(session, storage, [photo.storage_key, photo.thumbnail_key])
        session.delete(photo)
    session.flush()
    return len(photos)


def load_photo(session: Session, photo_id: int) -> Photo | None:
    return session.scalar(sa.select(Photo).where(Photo.id == photo_id).options(joinedload(Photo.entry)))


# --- What the editor offers ----------------------------------------------------------------------


def sessions_for(session: Session, learner_id: int) -> list[WorkshopSession]:
    """The workshops the learner attended, newest first (an entry may tell about one of them)."""
    return list(session.scalars(
        sa.select(WorkshopSession)
        .join(Attendance, Attendance.session_id == WorkshopSession.id)
        .join(Enrolment, Enrolment.id == Attendance.enrolment_id)
        .where(Enrolment.learner_id == learner_id, Attendance.status == AttendanceStatus.PRESENT.value)
        .options(joinedload(WorkshopSession.module))
        .order_by(WorkshopSession.starts_at.desc())
    ).unique())


def modules(session: Session) -> list[Module]:
    return list(session.scalars(sa.select(Module).order_by(Module.number)))


def competence_domains(session: Session) -> list[FrameworkDomain]:
    """The domains and competences of the current B2i Adultes framework, for the evidence checkboxes."""
    framework = latest_framework(session, B2I_CODE)
    if framework is None:
        return []
    return list(session.scalars(
        sa.select(FrameworkDomain)
        .where(FrameworkDomain.framework_id == framework.id)
        .options(selectinload(FrameworkDomain.competences))
        .order_by(FrameworkDomain.position)
    ))
