"""Competence frameworks as data (framework -> domains -> competences -> capacities),
mappings between frameworks, and assessments kept as history."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.db import Base, check_in, utcnow

if TYPE_CHECKING:
    from portfolio.auth.models import User
    from portfolio.enrolment.models import WorkshopSession
    from portfolio.journal.models import JournalEntry


class Voice(enum.StrEnum):
    SELF = "self"
    ANIMATOR = "animator"
    ASSESSOR = "assessor"


class Level(enum.StrEnum):
    ACQUIRED = "acquired"
    IN_PROGRESS = "in_progress"
    NOT_YET = "not_yet"


class Framework(Base):
    """One version of a competence framework. A version in use is never changed in place."""

    __tablename__ = "framework"
    __table_args__ = (sa.UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(60), index=True)
    version: Mapped[str] = mapped_column(sa.String(200))
    title: Mapped[str] = mapped_column(sa.String(300))
    title_en: Mapped[str] = mapped_column(sa.String(300), default="")
    provenance: Mapped[str] = mapped_column(sa.Text, default="")
    # The certification rule ({"min_validated_per_domain": {...}, ...}) and the levels, as in the data file.
    certification_rule: Mapped[dict[str, Any] | None]
    levels: Mapped[dict[str, Any]]
    source_hash: Mapped[str] = mapped_column(sa.String(64))
    loaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    domains: Mapped[list[FrameworkDomain]] = relationship(
        back_populates="framework", order_by="FrameworkDomain.position", cascade="all, delete-orphan",
        lazy="raise",
    )

    def __repr__(self) -> str:
        return f"<Framework {self.code} {self.version}>"


class FrameworkDomain(Base):
    __tablename__ = "framework_domain"
    __table_args__ = (sa.UniqueConstraint("framework_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(sa.ForeignKey("framework.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(sa.String(20))
    title: Mapped[str] = mapped_column(sa.String(300))
    objective: Mapped[str] = mapped_column(sa.Text, default="")
    position: Mapped[int] = mapped_column(default=0)

    framework: Mapped[Framework] = relationship(back_populates="domains", lazy="raise")
    competences: Mapped[list[Competence]] = relationship(
        back_populates="domain", order_by="Competence.position", cascade="all, delete-orphan", lazy="raise"
    )


class Competence(Base):
    __tablename__ = "competence"
    __table_args__ = (sa.UniqueConstraint("framework_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(sa.ForeignKey("framework.id", ondelete="CASCADE"))
    domain_id: Mapped[int] = mapped_column(sa.ForeignKey("framework_domain.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(sa.String(20))
    title: Mapped[str] = mapped_column(sa.Text)
    position: Mapped[int] = mapped_column(default=0)

    framework: Mapped[Framework] = relationship(lazy="raise")
    domain: Mapped[FrameworkDomain] = relationship(back_populates="competences", lazy="raise")
    capacities: Mapped[list[Capacity]] = relationship(
        back_populates="competence", order_by="Capacity.position", cascade="all, delete-orphan", lazy="raise"
    )

    def __repr__(self) -> str:
        return f"<Competence {self.code}>"


class Capacity(Base):
    __tablename__ = "capacity"
    __table_args__ = (sa.UniqueConstraint("competence_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    competence_id: Mapped[int] = mapped_column(sa.ForeignKey("competence.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(sa.String(20))
    title: Mapped[str] = mapped_column(sa.Text)
    position: Mapped[int] = mapped_column(default=0)

    competence: Mapped[Competence] = relationship(back_populates="capacities", lazy="raise")


class PlainWords(Base):
    """Everyday words for the domains and competences of a framework: for each code, a short label and, for a
    competence, one concrete example ("Je sais envoyer un courriel avec une photo"), in French and English.

    They are keyed by the framework's code and the items' codes, not by a version: they apply to every version of
    the framework, so that loading them never creates a framework version and never touches an assessment. The
    official wording stays the framework's own. Like a framework, a row never changes: a new content is a new row,
    and the newest row of a framework code is the one shown (``competences.services.plain_words``)."""

    __tablename__ = "plain_words"

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_code: Mapped[str] = mapped_column(sa.String(60), index=True)
    # {"domains": {code: {"label_fr", "label_en"}}, "competences": {code: {"label_fr", "example_fr", ...}}}
    words: Mapped[dict[str, Any]]
    source_hash: Mapped[str] = mapped_column(sa.String(64))
    loaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<PlainWords {self.framework_code} {self.id}>"


class FrameworkMapping(Base):
    """An (indicative or official) correspondence from one framework version to another."""

    __tablename__ = "framework_mapping"
    __table_args__ = (sa.UniqueConstraint("from_framework_id", "to_framework_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    from_framework_id: Mapped[int] = mapped_column(sa.ForeignKey("framework.id", ondelete="CASCADE"))
    to_framework_id: Mapped[int] = mapped_column(sa.ForeignKey("framework.id", ondelete="CASCADE"))
    official: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    source_hash: Mapped[str] = mapped_column(sa.String(64))

    pairs: Mapped[list[MappingPair]] = relationship(cascade="all, delete-orphan", lazy="raise")


class MappingPair(Base):
    __tablename__ = "mapping_pair"

    mapping_id: Mapped[int] = mapped_column(
        sa.ForeignKey("framework_mapping.id", ondelete="CASCADE"), primary_key=True
    )
    from_competence_id: Mapped[int] = mapped_column(
        sa.ForeignKey("competence.id", ondelete="CASCADE"), primary_key=True
    )
    to_competence_id: Mapped[int] = mapped_column(
        sa.ForeignKey("competence.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(default=0)


assessment_evidence = sa.Table(
    "assessment_evidence",
    Base.metadata,
    sa.Column("assessment_id", sa.ForeignKey("assessment.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("entry_id", sa.ForeignKey("journal_entry.id", ondelete="CASCADE"), primary_key=True),
)


class Assessment(Base):
    """One judgement on one competence of one learner, in one voice. Never updated: the current
    state per voice is the latest row (by ``created_at`` then ``id``)."""

    __tablename__ = "assessment"
    __table_args__ = (
        check_in("voice", [v.value for v in Voice], "voice"),
        check_in("level", [lv.value for lv in Level], "level"),
        sa.Index("ix_assessment_learner_competence_voice", "learner_id", "competence_id", "voice", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    competence_id: Mapped[int] = mapped_column(sa.ForeignKey("competence.id"), index=True)
    voice: Mapped[str] = mapped_column(sa.String(10))
    level: Mapped[str] = mapped_column(sa.String(12))
    assessor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    session_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("workshop_session.id", ondelete="SET NULL"), index=True
    )
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    competence: Mapped[Competence] = relationship(lazy="raise")
    learner: Mapped[User] = relationship(foreign_keys=[learner_id], lazy="raise")
    assessor: Mapped[User | None] = relationship(foreign_keys=[assessor_id], lazy="raise")
    session: Mapped[WorkshopSession | None] = relationship(lazy="raise")
    evidence: Mapped[list[JournalEntry]] = relationship(secondary=assessment_evidence, order_by="JournalEntry.id",
                                                       lazy="raise")


class AssessmentHistoryError(RuntimeError):
    """An attempt to change a recorded judgement: a new judgement is a new row."""


@event.listens_for(Assessment, "before_update")
def _refuse_overwrite(_mapper: Any, _connection: Any, target: Assessment) -> None:
    raise AssessmentHistoryError(
        f"assessment {target.id} is history and is never changed: record a new judgement instead"
    )
