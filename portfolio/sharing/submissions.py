"""Evidence files (dossiers de preuves) sent for certification, and the assessor's decision.

- ``send`` freezes a snapshot of the learner's portfolio (competences with the three voices, the evidence
  entries she chose for this file, the attendance) into ``Submission.snapshot``: later edits do not change
  what was sent. The send page lists every text that may go, with its photos and its visibility
  (``evidence_choices``): a text open to consented organisations is ticked, a private or EPM-only one goes
  only if she ticks it, for this file.
- ``held_by`` says what each training body still holds of hers, and how to have it withdrawn.
- The learner may ``withdraw`` it until a decision is made.
- The assessors of the training body ``judge`` competences (the assessor's voice, through
  ``competences.services.record_assessment``) and ``decide`` (ready / to complete): the decision gets a
  public verification code, ``TN-XXXX-XXXX``, written with characters nobody confuses.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy.orm import Session, aliased, defer, joinedload, selectinload

from competences import services as competences
from competences.models import Assessment, Level, Voice, assessment_evidence
from portfolio.audit import services as audit
from portfolio.audit.models import AuditEvent
from portfolio.auth.models import User
from portfolio.enrolment.models import Attendance, AttendanceStatus, Enrolment, WorkshopSession
from portfolio.journal.models import EntryStatus, JournalEntry, Visibility, entry_competence
from portfolio.orgs.models import Organisation, OrgKind
from portfolio.sharing.models import Decision, Submission, SubmissionStatus
from portfolio.tickets.models import Ticket

SNAPSHOT_FORMAT = "ticketnet-evidence-file"
SNAPSHOT_VERSION = 2  # 2: each evidence entry carries its visibility and its photos
# No 0/O, 1/I/L, nor U (read as V): a code read aloud on the phone or copied from paper stays right.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_PATTERN = re.compile(rf"^TN-[{CODE_ALPHABET}]{{4}}-[{CODE_ALPHABET}]{{4}}$")

DECISION_LABELS = {
    Decision.READY.value: _l("Prêt·e pour la certification"),
    Decision.TO_COMPLETE.value: _l("Dossier à compléter"),
}
STATUS_LABELS = {
    SubmissionStatus.SENT.value: _l("Envoyé, en attente de décision"),
    SubmissionStatus.WITHDRAWN.value: _l("Retiré"),
    SubmissionStatus.DECIDED.value: _l("Décision prise"),
}


class SubmissionError(ValueError):
    """An action on an evidence file that is refused; the message says why, in French."""


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- Verification codes ---------------------------------------------------------------------------


def new_code() -> str:
    letters = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"TN-{letters[:4]}-{letters[4:]}"


def normalise_code(text: str) -> str | None:
    """``tn 7kq4 m2xp``, ``TN-7KQ4-M2XP`` or ``7KQ4M2XP`` -> ``TN-7KQ4-M2XP``; None if it cannot be a code."""
    letters = re.sub(r"[\s\-.]", "", (text or "").upper())
    if letters.startswith("TN"):
        letters = letters[2:]
    code = f"TN-{letters[:4]}-{letters[4:]}"
    return code if len(letters) == 8 and CODE_PATTERN.match(code) else None


def _unique_code(session: Session) -> str:
    for _attempt in range(10):
        code = new_code()
        if session.scalar(sa.select(sa.func.count(Submission.id)).where(Submission.verification_code == code)) == 0:
            return code
    raise RuntimeError("could not draw an unused verification code")  # 30^8 codes: never happens


# --- The snapshot ---------------------------------------------------------------------------------


def _judgement(assessment: Assessment | None) -> dict[str, Any] | None:
    if assessment is None:
        return None
    return {"level": assessment.level, "at": _iso(assessment.created_at),
            "by": assessment.assessor.display_name if assessment.assessor is not None else None,
            "comment": assessment.comment}


def _latest_ticket(session: Session, learner_id: int) -> tuple[Ticket | None, Enrolment | None]:
    row = session.execute(
        sa.select(Ticket, Enrolment).outerjoin(Enrolment, sa.and_(Enrolment.ticket_id == Ticket.id,
                                                                  Enrolment.learner_id == learner_id))
        .where(Ticket.beneficiary_id == learner_id)
        .order_by(Ticket.issued_on.desc(), Enrolment.registered_at.desc()).limit(1)).first()
    if row is None:
        enrolment = session.scalar(sa.select(Enrolment).where(Enrolment.learner_id == learner_id)
                                   .order_by(Enrolment.registered_at.desc()).limit(1))
        return None, enrolment
    return row[0], row[1]


def attendance_of(session: Session, learner_id: int) -> dict[str, Any]:
    rows = session.execute(
        sa.select(WorkshopSession, Attendance.status)
        .join(Attendance, Attendance.session_id == WorkshopSession.id)
        .join(Enrolment, Enrolment.id == Attendance.enrolment_id)
        .options(joinedload(WorkshopSession.module), joinedload(WorkshopSession.epm))
        .where(Enrolment.learner_id == learner_id,
               Attendance.status.in_([AttendanceStatus.PRESENT.value, AttendanceStatus.EXCUSED.value,
                                      AttendanceStatus.ABSENT.value]))
        .order_by(WorkshopSession.starts_at)).all()
    present = [w for w, status in rows if status == AttendanceStatus.PRESENT.value]
    minutes = sum(w.duration_minutes for w in present)
    return {
        "sessions_present": len(present), "minutes": minutes, "hours": round(minutes / 60, 2),
        "workshops": [{"starts_at": _iso(w.starts_at), "module": w.module.title, "epm": w.epm.name,
                       "minutes": w.duration_minutes, "status": status} for w, status in rows],
    }


def _evidence(session: Session, learner_id: int) -> list[JournalEntry]:
    """The learner's published entries that may stand as evidence: chosen for the portfolio, linked to a
    competence, or cited by a judgement (with their competences and photos: two more queries)."""
    cited = sa.select(assessment_evidence.c.entry_id).join(
        Assessment, Assessment.id == assessment_evidence.c.assessment_id).where(Assessment.learner_id == learner_id)
    linked = sa.select(entry_competence.c.entry_id)
    return list(session.scalars(
        sa.select(JournalEntry)
        .options(selectinload(JournalEntry.competences), selectinload(JournalEntry.photos))
        .where(JournalEntry.owner_id == learner_id, JournalEntry.status == EntryStatus.PUBLISHED.value,
               sa.or_(JournalEntry.in_portfolio.is_(True), JournalEntry.id.in_(linked), JournalEntry.id.in_(cited)))
        .order_by(JournalEntry.entry_date, JournalEntry.id)))


@dataclass(frozen=True)
class EvidenceChoice:
    """A text the learner may send as evidence, with its photos, and whether the send page ticks it for her."""

    entry: JournalEntry
    ticked: bool  # open to consented organisations; a private or EPM-only text goes only if she ticks it


def evidence_choices(session: Session, learner_id: int) -> list[EvidenceChoice]:
    """Every text (and its photos) that may go in a file, as the send page lists them."""
    return [EvidenceChoice(e, e.visibility == Visibility.CONSENTED.value) for e in _evidence(session, learner_id)]


def _chosen(entries: list[JournalEntry], chosen: Collection[int] | None) -> list[JournalEntry]:
    """The texts that go: those she ticked (``chosen``); without a choice, only those open to organisations."""
    if chosen is None:
        return [e for e in entries if e.visibility == Visibility.CONSENTED.value]
    wanted = set(chosen)
    return [e for e in entries if e.id in wanted]


def build_snapshot(session: Session, learner: User, now: dt.datetime,
                   chosen: Collection[int] | None = None) -> dict[str, Any]:
    """Everything the training body receives, as plain JSON (it never changes afterwards): the texts she
    chose (``chosen``: their ids; None: only those open to organisations) and nothing of the others, not
    even their number as cited evidence."""
    profile = competences.learner_profile(session, learner.id)
    if profile is None:
        raise SubmissionError(_("Les compétences ne sont pas encore disponibles."))
    ticket, enrolment = _latest_ticket(session, learner.id)
    epm = session.get(Organisation, enrolment.epm_id) if enrolment is not None else None
    entries = _chosen(_evidence(session, learner.id), chosen)
    sent = {e.id for e in entries}
    by_competence: dict[int, list[int]] = {}
    for entry in entries:
        for competence in entry.competences:
            by_competence.setdefault(competence.id, []).append(entry.id)
    cited = _cited_by(session, [a.id for s in profile.states.values() for a in (s.animator, s.assessor) if a])
    for state in profile.states.values():
        for judgement in (state.animator, state.assessor):
            if judgement is not None:
                by_competence.setdefault(state.competence.id, []).extend(
                    entry_id for entry_id in cited.get(judgement.id, []) if entry_id in sent)
    readiness = profile.readiness
    framework = profile.framework
    return {
        "format": SNAPSHOT_FORMAT,
        "version": SNAPSHOT_VERSION,
        "taken_at": _iso(now),
        "learner": {"id": learner.id, "username": learner.username, "first_name": learner.first_name,
                    "last_name": learner.last_name},
        "ticket": None if ticket is None else {
            "reference": ticket.reference, "issued_on": _iso(ticket.issued_on), "expires_on": _iso(ticket.expires_on),
            "hours": ticket.hours, "sessions": ticket.sessions},
        "epm": None if epm is None else {"code": epm.code, "name": epm.name},
        "attendance": attendance_of(session, learner.id),
        "framework": {"id": framework.id, "code": framework.code, "version": framework.version,
                      "title": framework.title},
        "competences": [
            {"id": s.competence.id, "code": s.competence.code, "title": s.competence.title, "domain": domain.code,
             "self": _judgement(s.declared), "animator": _judgement(s.animator), "assessor": _judgement(s.assessor),
             "evidence": sorted(set(by_competence.get(s.competence.id, [])))}
            for domain, states in profile.domain_states() for s in states
        ],
        "domains": [] if readiness is None else [
            {"code": d.domain.code, "title": d.domain.title, "required": d.required, "validated": len(d.validated),
             "total": d.total} for d in readiness.domains],
        "ready": bool(readiness and readiness.ready),
        "evidence": [
            {"id": e.id, "title": e.title, "date": _iso(e.entry_date), "html": e.body_html,
             "competences": [c.code for c in e.competences], "visibility": e.visibility,
             "photos": [{"id": p.id, "alt": p.alt_text, "width": p.width, "height": p.height} for p in e.photos]}
            for e in entries],
    }


def _cited_by(session: Session, assessment_ids: list[int]) -> dict[int, list[int]]:
    """The entries each judgement cites as evidence (one query)."""
    cited: dict[int, list[int]] = {}
    if assessment_ids:
        for assessment_id, entry_id in session.execute(sa.select(
                assessment_evidence.c.assessment_id, assessment_evidence.c.entry_id)
                .where(assessment_evidence.c.assessment_id.in_(assessment_ids))):
            cited.setdefault(assessment_id, []).append(entry_id)
    return cited


# --- The learner's side ---------------------------------------------------------------------------


def training_bodies(session: Session) -> list[Organisation]:
    return list(session.scalars(sa.select(Organisation).where(
        Organisation.kind == OrgKind.TRAINING_BODY.value, Organisation.active.is_(True)).order_by(Organisation.name)))


def submissions_of(session: Session, owner_id: int) -> list[Submission]:
    return list(session.scalars(
        sa.select(Submission).where(Submission.owner_id == owner_id)
        .options(joinedload(Submission.organisation), joinedload(Submission.decided_by).lazyload(User.memberships))
        .order_by(Submission.sent_at.desc(), Submission.id.desc())))


def send(session: Session, learner: User, organisation_id: int, now: dt.datetime, ip: str = "",
         entries: Collection[int] | None = None) -> Submission:
    """Send the learner's file to a training body: ``entries``, the texts she ticked on the send page (None:
    only the texts she opened to organisations)."""
    organisation = session.get(Organisation, organisation_id)
    if organisation is None or organisation.kind != OrgKind.TRAINING_BODY.value or not organisation.active:
        raise SubmissionError(_("Choisissez un organisme de formation de la liste."))
    waiting = session.scalar(sa.select(sa.func.count(Submission.id)).where(
        Submission.owner_id == learner.id, Submission.organisation_id == organisation.id,
        Submission.status == SubmissionStatus.SENT.value))
    if waiting:
        raise SubmissionError(_("Vous avez déjà envoyé un dossier à %(org)s. Attendez sa décision, ou retirez-le "
                                "avant d'en envoyer un nouveau.", org=organisation.name))
    submission = Submission(owner_id=learner.id, organisation_id=organisation.id, sent_at=now,
                            snapshot=build_snapshot(session, learner, now, entries),
                            status=SubmissionStatus.SENT.value)
    session.add(submission)
    session.flush()
    submission.organisation = organisation
    evidence = submission.snapshot["evidence"]
    audit.record(session, "submission.sent", actor=learner, organisation=organisation, target_type="submission",
                 target_id=submission.id, subject_user_id=learner.id, ip=ip,
                 details={"texts": len(evidence), "photos": sum(len(e["photos"]) for e in evidence)})
    return submission


def count_texts(count: int) -> str:
    """« aucun texte », « 1 texte », « 3 textes » (French: no plural for zero)."""
    return _("aucun texte") if count == 0 else ngettext("%(num)d texte", "%(num)d textes", count)


def count_photos(count: int) -> str:
    return _("aucune photo") if count == 0 else ngettext("%(num)d photo", "%(num)d photos", count)


@dataclass(frozen=True)
class HeldFile:
    """One of the learner's files as its training body holds it: what it holds, and since when a copy left
    Ticket Net (an export, the file's PDF, the body's own software reading it through the API)."""

    submission: Submission
    texts: int
    photos: int
    copies: list[dt.datetime]

    @property
    def readable(self) -> bool:
        """The body reads it in Ticket Net (waiting or decided); a withdrawn file only left copies behind."""
        return self.submission.status != SubmissionStatus.WITHDRAWN.value


def held_by(session: Session, owner_id: int) -> list[HeldFile]:
    """What the training bodies hold of the learner: every file not withdrawn (the sent texts and photos, read
    in Ticket Net whatever her consents say), and every file of which they took a copy. Two queries."""
    files = submissions_of(session, owner_id)
    copies: dict[int, list[dt.datetime]] = {}
    if files:
        exported = sa.or_(AuditEvent.action == "api.submission_read",
                          sa.and_(AuditEvent.action == "submission.read",
                                  AuditEvent.details["export"].as_string().is_not(None)))
        for target, at in session.execute(
                sa.select(AuditEvent.target_id, AuditEvent.created_at)
                .where(AuditEvent.subject_user_id == owner_id, AuditEvent.target_type == "submission", exported)
                .order_by(AuditEvent.created_at)):
            if target.isdigit():
                copies.setdefault(int(target), []).append(at)
    held = []
    for f in files:
        evidence = f.snapshot.get("evidence", [])
        taken = copies.get(f.id, [])
        if f.status != SubmissionStatus.WITHDRAWN.value or taken:
            held.append(HeldFile(f, len(evidence), sum(len(e.get("photos", [])) for e in evidence), taken))
    return held


def withdraw(session: Session, submission: Submission, by: User, now: dt.datetime, ip: str = "") -> None:
    if submission.status != SubmissionStatus.SENT.value:
        raise SubmissionError(_("Ce dossier ne peut plus être retiré : une décision a été prise, ou il est "
                                "déjà retiré."))
    submission.status = SubmissionStatus.WITHDRAWN.value
    submission.withdrawn_at = now
    session.flush()
    audit.record(session, "submission.withdrawn", actor=by, organisation=submission.organisation,
                 target_type="submission", target_id=submission.id, subject_user_id=submission.owner_id, ip=ip)


# --- The assessor's side --------------------------------------------------------------------------


def load(session: Session, submission_id: int) -> Submission | None:
    return session.scalar(
        sa.select(Submission).where(Submission.id == submission_id)
        .options(joinedload(Submission.owner).lazyload(User.memberships), joinedload(Submission.organisation),
                 joinedload(Submission.decided_by).lazyload(User.memberships)))


QUEUE_PAGE = 50


@dataclass(frozen=True)
class Waiting:
    """A file in the queue, without its snapshot (only the two facts the queue shows are read from it)."""

    submission: Submission
    epm_name: str | None
    ready: bool


@dataclass(frozen=True)
class Queue:
    waiting: list[Waiting]  # oldest first: the queue, one page of it
    waiting_count: int
    next_after: int | None  # the id to continue after, when more files wait
    decided: list[Submission]  # latest decisions first


def queue(session: Session, organisation_ids: list[int], decided_limit: int = 20, after: int | None = None,
          limit: int = QUEUE_PAGE) -> Queue:
    """The files waiting for a decision, oldest first, one page at a time (keyset: ``after`` a file's id), and
    the latest decisions. Four queries whatever the number of files; snapshots are not loaded."""
    if not organisation_ids:
        return Queue([], 0, None, [])
    people = (joinedload(Submission.owner).lazyload(User.memberships), joinedload(Submission.organisation),
              joinedload(Submission.decided_by).lazyload(User.memberships))
    mine = sa.and_(Submission.organisation_id.in_(organisation_ids),
                   Submission.status == SubmissionStatus.SENT.value)
    ids = sa.select(Submission.id).where(mine)
    if after is not None:  # the files after that one in the queue's order (sent_at, id)
        previous = aliased(Submission)
        sent_at = sa.select(previous.sent_at).where(previous.id == after).scalar_subquery()
        ids = ids.where(sa.tuple_(Submission.sent_at, Submission.id) > sa.tuple_(sent_at, after))
    # The page's ids first, then the two facts read from their snapshots: not from every waiting file's.
    page_ids = ids.order_by(Submission.sent_at, Submission.id).limit(limit + 1).subquery()
    rows = session.execute(
        sa.select(Submission, Submission.snapshot[("epm", "name")].as_string(),
                  Submission.snapshot["ready"].as_boolean())
        .join(page_ids, page_ids.c.id == Submission.id)
        .options(defer(Submission.snapshot, raiseload=True), *people)
        .order_by(Submission.sent_at, Submission.id)).all()
    waiting = [Waiting(submission, epm_name, bool(ready)) for submission, epm_name, ready in rows[:limit]]
    count = session.scalar(sa.select(sa.func.count()).select_from(Submission).where(mine)) or 0
    decided = session.scalars(
        sa.select(Submission).where(Submission.organisation_id.in_(organisation_ids),
                                    Submission.status == SubmissionStatus.DECIDED.value)
        .options(defer(Submission.snapshot, raiseload=True), *people)
        .order_by(Submission.decided_at.desc(), Submission.id.desc()).limit(decided_limit)).all()
    return Queue(waiting, count, waiting[-1].submission.id if len(rows) > limit else None, list(decided))


def current_assessor_judgements(session: Session, submission: Submission) -> dict[int, Assessment]:
    """The assessor's voice now, per competence of the file (it goes on after the file was sent)."""
    ids = [c["id"] for c in submission.snapshot.get("competences", [])]
    latest = competences.latest_assessments(session, [submission.owner_id], ids, voices=[Voice.ASSESSOR])
    return {competence_id: a for (_learner, competence_id, _voice), a in latest.items()}


def judge(session: Session, submission: Submission, assessor: User, judgements: Mapping[int, tuple[str, str]],
          now: dt.datetime) -> int:
    """Record the assessor's judgement (level, comment) on competences of the file; returns how many changed.
    A judgement equal to the assessor's current one is not written again."""
    if submission.status != SubmissionStatus.SENT.value:
        raise SubmissionError(_("Ce dossier n'attend plus de décision : il ne peut plus être évalué."))
    in_file = {c["id"] for c in submission.snapshot.get("competences", [])}
    current = current_assessor_judgements(session, submission)
    changed = 0
    for competence_id, (level, comment) in judgements.items():
        if competence_id not in in_file:
            raise SubmissionError(_("Cette compétence ne fait pas partie du dossier."))
        if level not in {lv.value for lv in Level}:
            raise SubmissionError(_("Choisissez un niveau de la liste."))
        before = current.get(competence_id)
        if before is not None and before.level == level and before.comment == comment.strip():
            continue
        competences.record_assessment(session, submission.owner_id, competence_id, Voice.ASSESSOR, level, assessor,
                                      comment=comment, at=now)
        changed += 1
    if changed:
        audit.record(session, "submission.judged", actor=assessor, organisation=submission.organisation,
                     target_type="submission", target_id=submission.id, subject_user_id=submission.owner_id,
                     details={"competences": changed})
    return changed


def decide(session: Session, submission: Submission, assessor: User, decision: str, comment: str,
           now: dt.datetime, ip: str = "") -> Submission:
    if submission.status != SubmissionStatus.SENT.value:
        raise SubmissionError(_("Ce dossier n'attend plus de décision."))
    if decision not in DECISION_LABELS:
        raise SubmissionError(_("Choisissez une décision."))
    submission.decision = decision
    submission.decision_comment = (comment or "").strip()
    submission.decided_at = now
    submission.decided_by_id = assessor.id
    submission.status = SubmissionStatus.DECIDED.value
    submission.verification_code = _unique_code(session)
    session.flush()
    audit.record(session, "submission.decided", actor=assessor, organisation=submission.organisation,
                 target_type="submission", target_id=submission.id, subject_user_id=submission.owner_id, ip=ip,
                 details={"decision": decision, "code": submission.verification_code})
    from portfolio.credentials import services as credentials  # a positive decision earns its credential

    credentials.certification_decided(session, submission, now)
    return submission


def by_code(session: Session, code: str) -> Submission | None:
    """The decided file that carries this verification code, if any."""
    normalised = normalise_code(code)
    if normalised is None:
        return None
    return session.scalar(
        sa.select(Submission).where(Submission.verification_code == normalised,
                                    Submission.status == SubmissionStatus.DECIDED.value)
        .options(joinedload(Submission.organisation)))
