"""Assessments as history, the current state per voice, readiness for certification and the bridge to Pix.

- ``record_assessment`` is the one way to write a judgement: a new row, never an update (the model refuses
  updates). The current state of a voice is its latest row, by ``created_at`` then ``id``.
- ``latest_assessments`` gives that current state for many learners and competences in one query.
- ``readiness`` applies a framework's ``certification_rule`` (B2i Adultes: D1 3/4, D2 3/4, D3 2/3, D4 3/4,
  D5 2/3, every domain required) to the decisive level of each competence: the assessor's judgement where
  one exists, the animator's otherwise.
- ``learner_profile`` puts it together for one learner: three voices kept apart, readiness, progress since
  the positioning interview, and the indicative Pix bridge. Its number of queries does not depend on the data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context, has_request_context
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, joinedload, selectinload

from competences.loader import B2I_CODE, _newest_of, latest_framework_id
from competences.models import (
    Assessment,
    Competence,
    Framework,
    FrameworkDomain,
    FrameworkMapping,
    Level,
    MappingPair,
    PlainWords,
    Voice,
)
from portfolio.auth.models import User
from portfolio.db import utcnow
from portfolio.enrolment.models import (
    Attendance,
    AttendanceStatus,
    Enrolment,
    PositioningInterview,
    WorkshopSession,
)
from portfolio.journal.models import JournalEntry

# How far each level goes, to tell progress from a step back.
LEVEL_RANK: dict[str, int] = {Level.NOT_YET: 0, Level.IN_PROGRESS: 1, Level.ACQUIRED: 2}


class AssessmentError(ValueError):
    """A judgement that cannot be recorded; the message says why, in French."""


def _id(value: Any) -> int | None:
    """A model's id, or the id itself."""
    if value is None or isinstance(value, int):
        return value
    return int(value.id)


# --- Writing --------------------------------------------------------------------------------------


def record_assessment(
    session: Session,
    learner: User | int,
    competence: Competence | int,
    voice: Voice | str,
    level: Level | str,
    by: User | int | None,
    at_session: WorkshopSession | int | None = None,
    comment: str = "",
    evidence: Iterable[JournalEntry | int] = (),
    at: dt.datetime | None = None,
) -> Assessment:
    """Record one judgement (a new row; nothing is ever overwritten) and return it, flushed.

    ``learner``, ``competence``, ``by`` (who judges), ``at_session`` (the workshop, if any) and the
    ``evidence`` (the learner's own journal entries) may be given as models or ids. ``at`` defaults to now.
    """
    try:
        voice = Voice(voice)
    except ValueError:
        raise AssessmentError(_l("Cette voix n'existe pas : %(voice)s.", voice=str(voice))) from None
    try:
        level = Level(level)
    except ValueError:
        raise AssessmentError(_l("Ce niveau n'existe pas : %(level)s.", level=str(level))) from None
    learner_id, competence_id = _id(learner), _id(competence)
    if learner_id is None or competence_id is None:
        raise AssessmentError(_l("Il manque l'apprenant·e ou la compétence."))
    if at is not None and at.tzinfo is None:
        raise ValueError("record_assessment needs an aware datetime")
    entries: list[JournalEntry] = []
    evidence_ids = sorted({i for i in (_id(e) for e in evidence) if i is not None})
    if evidence_ids:
        entries = list(session.scalars(sa.select(JournalEntry).where(JournalEntry.id.in_(evidence_ids))))
        if len(entries) != len(evidence_ids) or any(e.owner_id != learner_id for e in entries):
            raise AssessmentError(_l("Une preuve doit être une entrée du journal de l'apprenant·e."))
    assessment = Assessment(
        learner_id=learner_id,
        competence_id=competence_id,
        voice=voice.value,
        level=level.value,
        assessor_id=_id(by),
        session_id=_id(at_session),
        comment=(comment or "").strip(),
        created_at=at or utcnow(),
    )
    assessment.evidence = entries
    session.add(assessment)
    session.flush()
    return assessment


# --- Reading the current state --------------------------------------------------------------------


StateKey = tuple[int, int, str]  # (learner id, competence id, voice)


def latest_assessments(
    session: Session,
    learner_ids: Collection[int],
    competence_ids: Collection[int] | None = None,
    voices: Collection[Voice | str] | None = None,
    as_of: dt.datetime | None = None,
) -> dict[StateKey, Assessment]:
    """The latest judgement per (learner, competence, voice), in one query, with its author's name loaded.
    ``as_of`` gives the state at that moment (judgements recorded later are ignored)."""
    if not learner_ids or (competence_ids is not None and not competence_ids):
        return {}
    conditions = [Assessment.learner_id.in_(list(learner_ids))]
    if competence_ids is not None:
        conditions.append(Assessment.competence_id.in_(list(competence_ids)))
    if voices is not None:
        conditions.append(Assessment.voice.in_([str(v) for v in voices]))
    if as_of is not None:
        conditions.append(Assessment.created_at <= as_of)
    rank = (
        sa.func.row_number()
        .over(
            partition_by=(Assessment.learner_id, Assessment.competence_id, Assessment.voice),
            order_by=(Assessment.created_at.desc(), Assessment.id.desc()),
        )
        .label("rank")
    )
    ranked = sa.select(Assessment.id, rank).where(*conditions).subquery()
    rows = session.scalars(
        sa.select(Assessment)
        .join(ranked, ranked.c.id == Assessment.id)
        .where(ranked.c.rank == 1)
        .options(joinedload(Assessment.assessor).lazyload(User.memberships))
    )
    return {(a.learner_id, a.competence_id, a.voice): a for a in rows}


def history(session: Session, learner_id: int, competence_ids: Collection[int] | None = None) -> list[Assessment]:
    """Every judgement on a learner, oldest first, with competence, author, workshop and evidence loaded."""
    query = (
        sa.select(Assessment)
        .where(Assessment.learner_id == learner_id)
        .options(
            joinedload(Assessment.competence),
            joinedload(Assessment.assessor).lazyload(User.memberships),
            joinedload(Assessment.session).joinedload(WorkshopSession.module),
            selectinload(Assessment.evidence),
        )
        .order_by(Assessment.created_at, Assessment.id)
    )
    if competence_ids is not None:
        query = query.where(Assessment.competence_id.in_(list(competence_ids)))
    return list(session.scalars(query))


_TREES = "competences.framework_trees"


def _kept_trees() -> dict[Any, Any] | None:
    return current_app.extensions.setdefault(_TREES, {}) if has_app_context() else None


def load_framework_tree(session: Session, framework_id: int) -> Framework:
    """A framework with its domains and competences loaded.

    A framework never changes once loaded (new content is a new version, with a new id), so its tree is read
    once per process (one query), in a session of its own on the same connection, and kept detached with
    every attribute the pages read: the pages then read it without a query. Read it; never attach it to a
    session (assessments are written with ids)."""
    kept = _kept_trees()
    if kept is not None and framework_id in kept:
        return kept[framework_id]  # type: ignore[no-any-return]
    side = Session(bind=session.connection())
    try:
        framework = side.scalars(
            sa.select(Framework)
            .where(Framework.id == framework_id)
            .options(joinedload(Framework.domains).joinedload(FrameworkDomain.competences))
        ).unique().one_or_none()
    finally:
        side.close()
    if framework is None:
        raise LookupError(f"no framework {framework_id}")
    if kept is not None:
        kept[framework_id] = framework
    return framework


def certification_framework(session: Session) -> Framework | None:
    """The framework that learners are positioned and certified on: the latest B2i Adultes, with its domains and
    competences (one small query once the tree is kept)."""
    latest = latest_framework_id(session, B2I_CODE)
    return load_framework_tree(session, latest) if latest is not None else None


# --- Everyday words --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Words:
    """The everyday words of one framework (``competences.models.PlainWords``), read in the reader's language
    (French when a label has no English), with the official title where a code has none."""

    domains: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    competences: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def _entry(self, item: Competence | FrameworkDomain) -> Mapping[str, str]:
        table = self.domains if isinstance(item, FrameworkDomain) else self.competences
        return table.get(item.code, {})

    @staticmethod
    def _pick(entry: Mapping[str, str], key: str) -> str:
        english = has_request_context() and str(get_locale()) == "en"
        return (entry.get(f"{key}_en") if english else None) or entry.get(f"{key}_fr", "")

    def label(self, item: Competence | FrameworkDomain) -> str:
        """The short label in everyday words, or the official title."""
        return self._pick(self._entry(item), "label") or item.title

    def example(self, item: Competence) -> str:
        """One concrete example ("Je sais envoyer un courriel avec une photo."), or nothing."""
        return self._pick(self._entry(item), "example")

    def has_own(self, item: Competence | FrameworkDomain) -> bool:
        return bool(self._entry(item))


NO_WORDS = Words()


def _newest_words_id(code: Any) -> sa.ScalarSelect[Any]:
    """The id of the newest everyday words of the framework ``code`` (a value or a column), as a subquery."""
    return (sa.select(PlainWords.id).where(PlainWords.framework_code == code)
            .order_by(PlainWords.loaded_at.desc(), PlainWords.id.desc()).limit(1).scalar_subquery())


def words_of(session: Session, words_id: int | None) -> Words:
    """The everyday words of one row; kept like the trees (a row never changes: new words are a new row)."""
    if words_id is None:
        return NO_WORDS
    kept = _kept_trees()
    key = ("words", words_id)
    if kept is not None and key in kept:
        return kept[key]  # type: ignore[no-any-return]
    data = session.scalar(sa.select(PlainWords.words).where(PlainWords.id == words_id)) or {}
    words = Words(data.get("domains") or {}, data.get("competences") or {})
    if kept is not None:
        kept[key] = words
    return words


def plain_words(session: Session, framework_code: str) -> Words:
    """The newest everyday words of a framework (they apply to each of its versions)."""
    return words_of(session, session.scalar(sa.select(_newest_words_id(framework_code))))


def certification_reference(session: Session) -> tuple[Framework, Words] | None:
    """The certification framework and its everyday words, found by one small query once both are kept."""
    row = session.execute(_newest_of(sa.select(Framework.id, _newest_words_id(B2I_CODE)), B2I_CODE)).first()
    if row is None:
        return None
    return load_framework_tree(session, row[0]), words_of(session, row[1])


# --- Readiness ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DomainReadiness:
    domain: FrameworkDomain
    required: int
    validated: list[Competence]
    to_validate: list[Competence]  # the domain's competences not validated yet

    @property
    def total(self) -> int:
        return len(self.validated) + len(self.to_validate)

    @property
    def met(self) -> bool:
        return len(self.validated) >= self.required

    @property
    def missing(self) -> int:
        """How many more competences this domain needs."""
        return max(self.required - len(self.validated), 0)


@dataclass(frozen=True)
class Readiness:
    framework: Framework
    domains: list[DomainReadiness]

    @property
    def ready(self) -> bool:
        return all(d.met for d in self.domains)

    @property
    def domains_short(self) -> list[DomainReadiness]:
        return [d for d in self.domains if not d.met]

    @property
    def missing(self) -> int:
        return sum(d.missing for d in self.domains)

    def for_domain(self, domain: FrameworkDomain) -> DomainReadiness | None:
        return next((d for d in self.domains if d.domain.id == domain.id), None)


def readiness(framework: Framework, levels: Mapping[int, str]) -> Readiness | None:
    """Apply the framework's certification rule to ``levels`` (competence id -> decisive level).

    A domain named in ``min_validated_per_domain`` needs that many competences acquired; with
    ``all_domains_required`` (the B2i rule) a domain the rule does not name needs all of them.
    ``None`` for a framework without a certification rule (Pix). Needs the domains and competences loaded.
    """
    rule = framework.certification_rule
    if not rule:
        return None
    minimums = rule.get("min_validated_per_domain") or {}
    every_domain = bool(rule.get("all_domains_required", True))
    domains = []
    for domain in framework.domains:
        if domain.code in minimums:
            required = int(minimums[domain.code])
        elif every_domain:
            required = len(domain.competences)
        else:
            continue
        validated = [c for c in domain.competences if levels.get(c.id) == Level.ACQUIRED]
        to_validate = [c for c in domain.competences if levels.get(c.id) != Level.ACQUIRED]
        domains.append(DomainReadiness(domain, required, validated, to_validate))
    return Readiness(framework, domains)


# --- One learner's profile ------------------------------------------------------------------------


VOICE_FIELD = {Voice.SELF: "declared", Voice.ANIMATOR: "animator", Voice.ASSESSOR: "assessor"}


@dataclass
class CompetenceState:
    """The three voices on one competence, kept apart, and the level at the positioning interview."""

    competence: Competence
    declared: Assessment | None = None  # the learner's own voice (self)
    animator: Assessment | None = None
    assessor: Assessment | None = None
    at_positioning: str | None = None

    @property
    def decisive(self) -> Assessment | None:
        """The judgement that counts for certification: the assessor's where one exists."""
        return self.assessor or self.animator

    @property
    def level(self) -> str | None:
        return self.decisive.level if self.decisive is not None else None

    @property
    def progressed(self) -> bool:
        """Moved up since the positioning interview (on the animator's or assessor's voice)."""
        if self.level is None:
            return False
        before = LEVEL_RANK.get(self.at_positioning, -1) if self.at_positioning else -1
        return LEVEL_RANK[self.level] > before and self.level != Level.NOT_YET


@dataclass(frozen=True)
class Positioning:
    """When the positioning interview was held, and the first workshop after it (the baseline)."""

    held_on: dt.date | None
    first_workshop_at: dt.datetime | None


@dataclass(frozen=True)
class PixLink:
    competence: Competence  # a Pix competence
    related: list[CompetenceState]  # the B2i competences that map to it

    @property
    def acquired(self) -> int:
        return sum(1 for s in self.related if s.level == Level.ACQUIRED)


@dataclass(frozen=True)
class Bridge:
    """An indicative (or official) correspondence from the learner's framework to another one."""

    mapping: FrameworkMapping
    target: Framework
    targets_of: dict[int, list[Competence]]  # source competence id -> target competences
    words: Words = NO_WORDS  # the target framework's everyday words

    @property
    def official(self) -> bool:
        return self.mapping.official

    def profile(self, states: Mapping[int, CompetenceState]) -> list[tuple[FrameworkDomain, list[PixLink]]]:
        """The learner's profile read on the target framework: per target competence, its B2i sources."""
        sources: dict[int, list[CompetenceState]] = {}
        for source_id, targets in self.targets_of.items():
            for target in targets:
                if source_id in states:
                    sources.setdefault(target.id, []).append(states[source_id])
        return [
            (domain, [PixLink(c, sources.get(c.id, [])) for c in domain.competences])
            for domain in self.target.domains
        ]


@dataclass
class LearnerProfile:
    learner_id: int
    framework: Framework
    states: dict[int, CompetenceState]
    readiness: Readiness | None
    positioning: Positioning | None
    bridge: Bridge | None
    assessor_involved: bool = False
    progress: list[CompetenceState] = field(default_factory=list)
    words: Words = NO_WORDS  # the framework's everyday words

    def domain_states(self) -> list[tuple[FrameworkDomain, list[CompetenceState]]]:
        return [(d, [self.states[c.id] for c in d.competences]) for d in self.framework.domains]

    def next_step(self, domain: FrameworkDomain) -> CompetenceState | None:
        """What comes next in a domain: the first competence started and not yet acquired, else the first one not
        acquired (by the decisive voice); ``None`` when all of them are acquired."""
        waiting = [self.states[c.id] for c in domain.competences if self.states[c.id].level != Level.ACQUIRED]
        started = [s for s in waiting if s.level == Level.IN_PROGRESS]
        return (started or waiting or [None])[0]

    def count(self, level: str) -> int:
        return sum(1 for s in self.states.values() if s.level == level)


def decisive_levels(states: Iterable[CompetenceState]) -> dict[int, str]:
    return {s.competence.id: s.level for s in states if s.level is not None}


def positioning_of(session: Session, learner_id: int) -> Positioning | None:
    """The learner's latest positioning interview and the first workshop they attended after it (one query)."""
    first = (
        sa.select(sa.func.min(WorkshopSession.starts_at))
        .join(Attendance, Attendance.session_id == WorkshopSession.id)
        .join(Enrolment, Enrolment.id == Attendance.enrolment_id)
        .where(Enrolment.learner_id == learner_id, Attendance.status == AttendanceStatus.PRESENT.value)
        .scalar_subquery()
    )
    row = session.execute(
        sa.select(PositioningInterview.held_on, first)
        .join(Enrolment, Enrolment.id == PositioningInterview.enrolment_id)
        .where(Enrolment.learner_id == learner_id)
        .order_by(PositioningInterview.held_on.desc())
        .limit(1)
    ).first()
    return None if row is None else Positioning(row[0], row[1])


def _mapping_pairs(session: Session, mapping_id: int) -> list[tuple[int, int]]:
    """A mapping's (source, target) competence ids; kept like the trees: a mapping never changes either."""
    kept = _kept_trees()
    pairs = kept.get(("pairs", mapping_id)) if kept is not None else None
    if pairs is None:
        pairs = [(a, b) for a, b in session.execute(
            sa.select(MappingPair.from_competence_id, MappingPair.to_competence_id)
            .where(MappingPair.mapping_id == mapping_id)
            .order_by(MappingPair.from_competence_id, MappingPair.position))]
        if kept is not None:
            kept[("pairs", mapping_id)] = pairs
    return pairs  # type: ignore[no-any-return]


def keep_reference_data(session: Session) -> None:
    """Read every framework tree and mapping into the process's kept ones now, rather than at the first page
    that needs them (the tests start their applications this way, so that query counts are the steady ones)."""
    for framework_id in session.scalars(sa.select(Framework.id)):
        load_framework_tree(session, framework_id)
    for mapping_id in session.scalars(sa.select(FrameworkMapping.id)):
        _mapping_pairs(session, mapping_id)
    for words_id in session.scalars(sa.select(PlainWords.id)):
        words_of(session, words_id)


def bridge_from(session: Session, framework: Framework) -> Bridge | None:
    """The mapping from ``framework`` to the latest version of another framework (Pix), if any."""
    target_code = sa.select(Framework.code).where(Framework.id == FrameworkMapping.to_framework_id).scalar_subquery()
    row = session.execute(
        sa.select(FrameworkMapping, _newest_words_id(target_code))
        .where(FrameworkMapping.from_framework_id == framework.id)
        .order_by(FrameworkMapping.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    mapping, words_id = row
    target = load_framework_tree(session, mapping.to_framework_id)
    by_id = {c.id: c for d in target.domains for c in d.competences}
    targets_of: dict[int, list[Competence]] = {}
    for from_id, to_id in _mapping_pairs(session, mapping.id):
        targets_of.setdefault(from_id, []).append(by_id[to_id])
    return Bridge(mapping, target, targets_of, words_of(session, words_id))


def learner_profile(session: Session, learner_id: int, framework: Framework | None = None) -> LearnerProfile | None:
    """Everything the learner's, the animator's and the assessor's pages show about a learner's competences."""
    if framework is None:
        reference = certification_reference(session)
        if reference is None:
            return None
        framework, words = reference
    else:
        words = plain_words(session, framework.code)
    competences = [c for d in framework.domains for c in d.competences]
    ids = [c.id for c in competences]
    states = {c.id: CompetenceState(c) for c in competences}
    for (_learner, competence_id, voice), assessment in latest_assessments(session, [learner_id], ids).items():
        setattr(states[competence_id], VOICE_FIELD[voice], assessment)

    positioning = positioning_of(session, learner_id)
    if positioning is not None and positioning.first_workshop_at is not None:
        before = latest_assessments(
            session, [learner_id], ids, voices=(Voice.SELF, Voice.ANIMATOR),
            as_of=positioning.first_workshop_at - dt.timedelta(microseconds=1),
        )
        for competence_id, state in states.items():
            earlier = before.get((learner_id, competence_id, Voice.ANIMATOR.value)) or before.get(
                (learner_id, competence_id, Voice.SELF.value))
            state.at_positioning = earlier.level if earlier is not None else None
    progress = (
        [s for s in states.values() if s.progressed]
        if positioning is not None and positioning.first_workshop_at is not None
        else []
    )
    return LearnerProfile(
        learner_id=learner_id,
        framework=framework,
        states=states,
        readiness=readiness(framework, decisive_levels(states.values())),
        positioning=positioning,
        bridge=bridge_from(session, framework),
        assessor_involved=any(s.assessor is not None for s in states.values()),
        progress=progress,
        words=words,
    )
