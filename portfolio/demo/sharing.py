"""Demo: consents (online and on paper), evidence files sent to the GRETA, and the assessor's decisions,
all through the sharing services, so that every page of issue 6 has something to show."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from competences.models import Competence, Level
from portfolio.auth.models import User
from portfolio.orgs.models import Organisation
from portfolio.sharing import services, submissions
from portfolio.sharing.models import ConsentMethod, Decision

GRETA, AFORMAC = "greta-quercy-rouergue", "aformac-midi-pyrenees"
# Enough competences per domain for the B2i rule (D1 3/4, D2 3/4, D3 2/3, D4 3/4, D5 2/3).
VERIFIED = ("D1.1", "D1.2", "D1.3", "D2.1", "D2.2", "D2.3", "D3.1", "D3.2", "D4.1", "D4.2", "D4.3", "D5.1", "D5.2")


def _person(session: Session, username: str) -> User | None:
    return session.scalar(sa.select(User).where(User.username == username))


def _ticked(session: Session, learner: User) -> list[int]:
    """What the demo's learners tick on the send page: every text that may go (their own choice, for the demo)."""
    return [choice.entry.id for choice in submissions.evidence_choices(session, learner.id)]


def create_sharing_stories(session: Session, orgs: dict[str, Organisation], users: dict[str, User],
                           now: dt.datetime) -> None:
    marie, animator, assessor = users["marie.dupont"], users["animateur.cahors"], users["evaluateur.greta"]
    paul, lucie = _person(session, "paul.fabre"), _person(session, "lucie.cayla")
    greta, aformac = orgs[GRETA], orgs[AFORMAC]

    # Marie lets the GRETA read her whole portfolio for 6 months, and sends it her evidence file.
    draft = services.draft_consent(session, marie, greta.id, "full", 6, now - dt.timedelta(days=3))
    services.grant_consent(session, draft, shown_hash=draft.hash, by=marie)
    submissions.send(session, marie, greta.id, now - dt.timedelta(days=2), entries=_ticked(session, marie))
    if paul is None or lucie is None:
        return
    # Paul signed a paper form at the EPM: the AFORMAC may read his competences for 3 months.
    draft = services.draft_consent(session, paul, aformac.id, "competences", 3, now - dt.timedelta(days=5))
    services.grant_consent(session, draft, shown_hash=draft.hash, by=animator, method=ConsentMethod.PAPER)
    # Lucie and Paul sent their files to the GRETA; the assessor checked Lucie's competences: ready.
    codes = {c.code: c.id for c in session.scalars(sa.select(Competence))}
    lucie_file = submissions.send(session, lucie, greta.id, now - dt.timedelta(days=9), entries=_ticked(session, lucie))
    judged_at = now - dt.timedelta(days=4)
    submissions.judge(session, lucie_file, assessor, {codes[c]: (Level.ACQUIRED.value, "Vérifié en entretien.")
                                                      for c in VERIFIED if c in codes}, judged_at)
    submissions.decide(session, lucie_file, assessor, Decision.READY.value, "Bravo, dossier complet.", judged_at)
    paul_file = submissions.send(session, paul, greta.id, now - dt.timedelta(days=8), entries=_ticked(session, paul))
    submissions.decide(session, paul_file, assessor, Decision.TO_COMPLETE.value,
                       "Encore quelques ateliers : le courrier électronique et les démarches en ligne.",
                       now - dt.timedelta(days=6))
