"""The learner's journal (logbook): entries, their tags, competences as evidence, and photos."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.db import Base, check_in, utcnow

if TYPE_CHECKING:
    from competences.models import Competence
    from portfolio.auth.models import User


class Visibility(enum.StrEnum):
    PRIVATE = "private"
    EPM = "epm"  # shared with my EPM
    CONSENTED = "consented"  # open to the organisations I gave consent to


class EntryStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


entry_competence = sa.Table(
    "entry_competence",
    Base.metadata,
    sa.Column("entry_id", sa.ForeignKey("journal_entry.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("competence_id", sa.ForeignKey("competence.id", ondelete="CASCADE"), primary_key=True),
)


class JournalEntry(Base):
    __tablename__ = "journal_entry"
    __table_args__ = (
        check_in("visibility", [v.value for v in Visibility], "visibility"),
        check_in("status", [s.value for s in EntryStatus], "status"),
        # The journal page lists an owner's entries newest first (keyset pagination on this index).
        sa.Index("ix_journal_entry_owner_date", "owner_id", "entry_date", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(sa.String(200))
    # Markdown as typed, and its sanitised HTML rendered once at write time.
    body_md: Mapped[str] = mapped_column(sa.Text, default="")
    body_html: Mapped[str] = mapped_column(sa.Text, default="")
    entry_date: Mapped[dt.date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(10), default=EntryStatus.DRAFT.value)
    visibility: Mapped[str] = mapped_column(sa.String(10), default=Visibility.PRIVATE.value)
    # Chosen by the owner to appear on their portfolio page (and its PDF).
    in_portfolio: Mapped[bool] = mapped_column(default=False)
    session_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("workshop_session.id", ondelete="SET NULL"), index=True
    )
    module_id: Mapped[int | None] = mapped_column(sa.ForeignKey("module.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    published_at: Mapped[dt.datetime | None]

    owner: Mapped[User] = relationship(lazy="raise")
    tags: Mapped[list[EntryTag]] = relationship(cascade="all, delete-orphan", order_by="EntryTag.tag", lazy="raise")
    competences: Mapped[list[Competence]] = relationship(secondary=entry_competence, lazy="raise")
    photos: Mapped[list[Photo]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="Photo.id", lazy="raise"
    )


class EntryTag(Base):
    __tablename__ = "entry_tag"

    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("journal_entry.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(sa.String(60), primary_key=True)


class Photo(Base):
    """A re-encoded photo (EXIF removed) and its thumbnail, kept in the photo storage, never in static/."""

    __tablename__ = "photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int | None] = mapped_column(sa.ForeignKey("journal_entry.id", ondelete="CASCADE"), index=True)
    storage_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    thumbnail_key: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(40))
    width: Mapped[int]
    height: Mapped[int]
    size_bytes: Mapped[int]
    alt_text: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    entry: Mapped[JournalEntry | None] = relationship(back_populates="photos", lazy="raise")
