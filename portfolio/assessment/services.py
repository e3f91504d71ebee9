"""The animator's session grid (the per-session positioning sheet) and the pages around competences.

The rules on judgements themselves (history, current state, readiness, Pix) are in ``competences.services``;
this module arranges them for the workshop: rows are the learners marked present, columns the module's
suggested competences first, then any other asked for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, joinedload, lazyload

from competences import services as competences
from competences.models import Assessment, Capacity, Competence, Framework, FrameworkDomain, Level, Voice
from portfolio.auth.models import User
from portfolio.catalogue.models import Module
from portfolio.enrolment.models import Attendance, AttendanceStatus, Enrolment, WorkshopSession

Cell = tuple[int, int]  # (learner id, competence id)
LEVELS = frozenset(level.value for level in Level)


@dataclass
class GridRow:
    learner: User
    cells: dict[int, Assessment | None]  # competence id -> the animator's latest judgement

    def level(self, competence_id: int) -> str:
        assessment = self.cells.get(competence_id)
        return assessment.level if assessment is not None else ""


@dataclass
class Grid:
    workshop: WorkshopSession
    framework: Framework
    columns: list[Competence]
    suggested: set[int]
    rows: list[GridRow]
    expected: int  # learners booked whose attendance is not marked yet
    recorded_here: set[Cell] = field(default_factory=set)

    @property
    def column_ids(self) -> list[int]:
        return [c.id for c in self.columns]

    @property
    def extra_ids(self) -> list[int]:
        return [c.id for c in self.columns if c.id not in self.suggested]

    def addable(self) -> list[tuple[FrameworkDomain, list[Competence]]]:
        """The framework's competences that are not columns yet, by domain (for "add a competence")."""
        shown = set(self.column_ids)
        groups = [(d, [c for c in d.competences if c.id not in shown]) for d in self.framework.domains]
        return [(d, comps) for d, comps in groups if comps]


def load_workshop(session: Session, workshop_id: int) -> WorkshopSession | None:
    return session.scalar(
        sa.select(WorkshopSession)
        .where(WorkshopSession.id == workshop_id)
        .options(
            joinedload(WorkshopSession.epm),
            joinedload(WorkshopSession.module).selectinload(Module.suggested),
        )
    )


def _attendances(session: Session, workshop_id: int) -> list[tuple[str, User]]:
    return [
        (status, learner)
        for status, learner in session.execute(
            sa.select(Attendance.status, User)
            .join(Enrolment, Enrolment.id == Attendance.enrolment_id)
            .join(User, User.id == Enrolment.learner_id)
            .where(Attendance.session_id == workshop_id)
            .options(lazyload(User.memberships))
            .order_by(User.last_name, User.first_name, User.id)
        )
    ]


def present_learner_ids(session: Session, workshop_id: int) -> list[int]:
    return list(
        session.scalars(
            sa.select(Enrolment.learner_id)
            .join(Attendance, Attendance.enrolment_id == Enrolment.id)
            .where(
                Attendance.session_id == workshop_id,
                Attendance.status == AttendanceStatus.PRESENT.value,
                Enrolment.learner_id.is_not(None),
            )
        )
    )


def session_grid(
    session: Session, workshop: WorkshopSession, extra_ids: Collection[int] = (), everything: bool = False
) -> Grid | None:
    """The grid of one workshop, in a number of queries that does not grow with learners x competences.
    ``workshop`` comes from ``load_workshop``. ``None`` when no framework is loaded."""
    framework = competences.certification_framework(session)
    if framework is None:
        return None
    in_framework = {c.id: c for d in framework.domains for c in d.competences}
    suggested = [s.competence_id for s in workshop.module.suggested if s.competence_id in in_framework]
    attendances = _attendances(session, workshop.id)
    learners = [learner for status, learner in attendances if status == AttendanceStatus.PRESENT.value]
    expected = sum(1 for status, _ in attendances if status == AttendanceStatus.EXPECTED.value)
    learner_ids = [u.id for u in learners]
    recorded_ids = set(
        session.scalars(
            sa.select(Assessment.competence_id).distinct().where(
                Assessment.session_id == workshop.id, Assessment.voice == Voice.ANIMATOR.value
            )
        )
    )
    wanted = set(in_framework) if everything else (set(extra_ids) | recorded_ids) & set(in_framework)
    others = [c for d in framework.domains for c in d.competences if c.id in wanted and c.id not in suggested]
    columns = [in_framework[i] for i in suggested] + others
    latest = competences.latest_assessments(
        session, learner_ids, [c.id for c in columns], voices=(Voice.ANIMATOR,)
    )
    rows = [
        GridRow(learner, {c.id: latest.get((learner.id, c.id, Voice.ANIMATOR.value)) for c in columns})
        for learner in learners
    ]
    here = {(a.learner_id, a.competence_id) for a in latest.values() if a.session_id == workshop.id}
    return Grid(workshop, framework, columns, set(suggested), rows, expected, here)


@dataclass(frozen=True)
class SavedCell:
    learner_id: int
    competence_id: int
    assessment: Assessment
    recorded: bool  # False when the level was already the current one (nothing new to record)


@dataclass(frozen=True)
class RefusedCell:
    learner_id: int
    competence_id: int
    message: str


def record_cells(
    session: Session, workshop: WorkshopSession, levels: Mapping[Cell, str], by: User
) -> tuple[list[SavedCell], list[RefusedCell]]:
    """Record the animator's levels for some cells of the grid, and say which cells were refused (a learner not
    marked present, an unknown competence or level). A level equal to the animator's current one records
    nothing, so that a repeated or retried save never writes the same judgement twice."""
    if not levels:
        return [], []
    present = set(present_learner_ids(session, workshop.id))
    known = set(session.scalars(sa.select(Competence.id).where(Competence.id.in_({c for _, c in levels}))))
    current = competences.latest_assessments(
        session, present & {learner for learner, _ in levels}, known, voices=(Voice.ANIMATOR,)
    )
    saved, refused = [], []
    for (learner_id, competence_id), level in levels.items():
        problem = (
            _l("Cette personne n'est pas notée présente à cet atelier.") if learner_id not in present
            else _l("Cette compétence n'existe pas.") if competence_id not in known
            else _l("Ce niveau n'existe pas : %(level)s.", level=level) if level not in LEVELS
            else None
        )
        if problem is not None:
            refused.append(RefusedCell(learner_id, competence_id, str(problem)))
            continue
        now = current.get((learner_id, competence_id, Voice.ANIMATOR.value))
        if now is not None and now.level == level:
            saved.append(SavedCell(learner_id, competence_id, now, recorded=False))
            continue
        assessment = competences.record_assessment(
            session, learner_id, competence_id, Voice.ANIMATOR, level, by, at_session=workshop
        )
        saved.append(SavedCell(learner_id, competence_id, assessment, recorded=True))
    return saved, refused


def all_present_acquired(
    session: Session, workshop: WorkshopSession, competence_id: int, by: User
) -> tuple[list[SavedCell], list[RefusedCell]]:
    """"Tous les présents : acquis" for one competence, in one action."""
    learners = present_learner_ids(session, workshop.id)
    return record_cells(session, workshop, dict.fromkeys(((lr, competence_id) for lr in learners),
                                                         Level.ACQUIRED.value), by)


# --- The animator's list of workshops to fill -----------------------------------------------------


@dataclass(frozen=True)
class WorkshopToFill:
    workshop: WorkshopSession
    present: int
    judgements: int  # animator judgements recorded at this workshop


def recent_workshops(session: Session, epm_ids: list[int], now: dt.datetime, days: int = 30) -> list[WorkshopToFill]:
    """The EPMs' workshops of the last ``days`` days and of today, newest first, with how far each sheet is filled."""
    if not epm_ids:
        return []
    present = (
        sa.select(sa.func.count(Attendance.id))
        .where(Attendance.session_id == WorkshopSession.id, Attendance.status == AttendanceStatus.PRESENT.value)
        .scalar_subquery()
    )
    judged = (
        sa.select(sa.func.count(Assessment.id))
        .where(Assessment.session_id == WorkshopSession.id, Assessment.voice == Voice.ANIMATOR.value)
        .scalar_subquery()
    )
    end_of_day = now.replace(hour=23, minute=59, second=59)
    rows = session.execute(
        sa.select(WorkshopSession, present, judged)
        .options(joinedload(WorkshopSession.module), joinedload(WorkshopSession.epm))
        .where(
            WorkshopSession.epm_id.in_(epm_ids),
            WorkshopSession.cancelled.is_(False),
            WorkshopSession.starts_at >= now - dt.timedelta(days=days),
            WorkshopSession.starts_at <= end_of_day,
        )
        .order_by(WorkshopSession.starts_at.desc())
    )
    return [WorkshopToFill(w, p, j) for w, p, j in rows]


# --- Whose competences may be read ------------------------------------------------------------------


def enrolling_epm_ids(session: Session, learner_id: int) -> list[int]:
    """The EPMs where the learner has (or had) an enrolment: their animators follow the learner."""
    return list(session.scalars(sa.select(Enrolment.epm_id).distinct().where(Enrolment.learner_id == learner_id)))



# --- The positioning sheet of one learner (PDF) ----------------------------------------------------


@dataclass(frozen=True)
class SheetSession:
    workshop: WorkshopSession
    levels: dict[int, Assessment]  # competence id -> the animator's last judgement at that workshop


@dataclass(frozen=True)
class PositioningSheet:
    learner: User
    enrolment: Enrolment | None
    interview_animator: User | None
    profile: competences.LearnerProfile
    sessions: list[SheetSession]
    capacities: dict[int, list[Capacity]]  # competence id -> its capacities (the items of the sheet)

    @property
    def animators(self) -> list[User]:
        """Everyone who held one of the learner's workshops or judged at one, in order of appearance."""
        people: dict[int, User] = {}
        if self.interview_animator is not None:
            people[self.interview_animator.id] = self.interview_animator
        for sheet_session in self.sessions:
            candidates = [sheet_session.workshop.animator, *(a.assessor for a in sheet_session.levels.values())]
            for person in candidates:
                if person is not None:
                    people.setdefault(person.id, person)
        return list(people.values())


def positioning_sheet(session: Session, learner: User) -> PositioningSheet | None:
    """Everything the paper positioning sheet holds: every item, the level at each workshop, dates, animators."""
    profile = competences.learner_profile(session, learner.id)
    if profile is None:
        return None
    enrolment = session.scalar(
        sa.select(Enrolment)
        .where(Enrolment.learner_id == learner.id)
        .options(joinedload(Enrolment.ticket), joinedload(Enrolment.epm), joinedload(Enrolment.interview))
        .order_by(Enrolment.active.desc(), Enrolment.registered_at.desc(), Enrolment.id.desc())
        .limit(1)
    )
    interview_animator = None
    if enrolment is not None and enrolment.interview is not None and enrolment.interview.animator_id is not None:
        interview_animator = session.get(User, enrolment.interview.animator_id)
    workshops = list(
        session.scalars(
            sa.select(WorkshopSession)
            .join(Attendance, Attendance.session_id == WorkshopSession.id)
            .join(Enrolment, Enrolment.id == Attendance.enrolment_id)
            .where(Enrolment.learner_id == learner.id, Attendance.status == AttendanceStatus.PRESENT.value)
            .options(joinedload(WorkshopSession.module), joinedload(WorkshopSession.animator))
            .order_by(WorkshopSession.starts_at)
        )
    )
    levels: dict[int, dict[int, Assessment]] = {w.id: {} for w in workshops}
    if workshops:
        for assessment in session.scalars(
            sa.select(Assessment)
            .where(
                Assessment.learner_id == learner.id,
                Assessment.voice == Voice.ANIMATOR.value,
                Assessment.session_id.in_(list(levels)),
            )
            .options(joinedload(Assessment.assessor))
            .order_by(Assessment.created_at, Assessment.id)
        ):
            levels[assessment.session_id][assessment.competence_id] = assessment  # the last one wins
    capacities: dict[int, list[Capacity]] = {}
    for capacity in session.scalars(
        sa.select(Capacity).where(Capacity.competence_id.in_(list(profile.states))).order_by(Capacity.position)
    ):
        capacities.setdefault(capacity.competence_id, []).append(capacity)
    return PositioningSheet(
        learner, enrolment, interview_animator, profile, [SheetSession(w, levels[w.id]) for w in workshops],
        capacities,
    )
