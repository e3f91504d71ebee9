"""The portfolio page: the entries the learner chose, and the competences their animators validated."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, selectinload

from competences.models import Assessment, Competence, Level, Voice
from competences.services import latest_assessments
from portfolio.journal.models import EntryStatus, JournalEntry


@dataclass(frozen=True)
class ValidatedCompetence:
    competence: Competence
    assessment: Assessment


def validated_competences(session: Session, learner_id: int) -> list[ValidatedCompetence]:
    """The competences whose latest animator-voice judgement is "acquired", in framework order."""
    latest = latest_assessments(session, [learner_id], voices=[Voice.ANIMATOR])
    acquired = {a.competence_id: a for a in latest.values() if a.level == Level.ACQUIRED.value}
    if not acquired:
        return []
    competences = session.scalars(
        sa.select(Competence)
        .where(Competence.id.in_(list(acquired)))
        .options(joinedload(Competence.domain))
        .order_by(Competence.framework_id, Competence.domain_id, Competence.position)
    )
    return [ValidatedCompetence(c, acquired[c.id]) for c in competences]


def published_entries(session: Session, owner_id: int, *, chosen_only: bool = False) -> list[JournalEntry]:
    query = (
        sa.select(JournalEntry)
        .where(JournalEntry.owner_id == owner_id, JournalEntry.status == EntryStatus.PUBLISHED.value)
        .options(selectinload(JournalEntry.photos), selectinload(JournalEntry.competences),
                 selectinload(JournalEntry.tags))
        .order_by(JournalEntry.entry_date, JournalEntry.id)
    )
    if chosen_only:
        query = query.where(JournalEntry.in_portfolio.is_(True))
    return list(session.scalars(query))


def choose_entries(session: Session, owner_id: int, entry_ids: Iterable[int]) -> int:
    """Put exactly these published entries of the owner on the portfolio; returns how many."""
    chosen = {int(i) for i in entry_ids}
    count = 0
    for entry in session.scalars(sa.select(JournalEntry).where(
            JournalEntry.owner_id == owner_id, JournalEntry.status == EntryStatus.PUBLISHED.value)):
        entry.in_portfolio = entry.id in chosen
        count += entry.in_portfolio
    session.flush()
    return count


@dataclass
class Portfolio:
    entries: list[JournalEntry]
    competences: list[ValidatedCompetence]


def portfolio_of(session: Session, owner_id: int) -> Portfolio:
    return Portfolio(published_entries(session, owner_id, chosen_only=True), validated_competences(session, owner_id))
