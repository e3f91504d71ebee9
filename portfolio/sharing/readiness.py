"""The certification-readiness export of a training body: one record per candidate who sent a file to it.

Only the people who sent an evidence file to the organisation (waiting or decided; not withdrawn) are ever
exported, from the file they sent (its latest, if several) and the assessor's judgements recorded since:
identity, ticket reference, EPM, hours attended, per competence the latest animator level (date,
animator) and the assessor's level, per domain validated / required, ready or not, links to the evidence.

Formats: CSV (UTF-8 with BOM, ``;``: a French Excel opens it right), JSON (``docs/readiness.schema.json``)
and one PDF per candidate. The whole export costs a fixed number of queries, whatever the candidates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_request_context, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session, joinedload, lazyload

from competences import services as competences
from competences.models import Framework, Level, Voice
from portfolio.auth.models import User
from portfolio.csvfile import csv_bytes
from portfolio.orgs.models import Organisation
from portfolio.pdf import html_to_pdf, html_to_pdfs
from portfolio.sharing.models import Submission, SubmissionStatus
from portfolio.sharing.services import record_reads
from portfolio.timeutil import LOCAL_TZ, local_now

FORMAT = "ticketnet-readiness"
FORMAT_VERSION = 1
EXPORTED = (SubmissionStatus.SENT.value, SubmissionStatus.DECIDED.value)

# Link to a piece of evidence: (submission id, entry id) -> URL.
LinkMaker = Callable[[int, int], str]


@dataclass(frozen=True)
class Voiced:
    level: str
    at: str | None
    by: str | None


@dataclass(frozen=True)
class CompetenceLine:
    code: str
    title: str
    domain: str
    animator: Voiced | None
    assessor: Voiced | None

    @property
    def decisive(self) -> str | None:
        chosen = self.assessor or self.animator
        return chosen.level if chosen else None


@dataclass(frozen=True)
class DomainLine:
    code: str
    title: str
    validated: int
    required: int
    total: int

    @property
    def met(self) -> bool:
        return self.validated >= self.required

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "title": self.title, "validated": self.validated, "required": self.required,
                "total": self.total, "met": self.met}


@dataclass(frozen=True)
class Evidence:
    id: int
    title: str
    date: str | None
    url: str


@dataclass
class Candidate:
    submission: Submission
    first_name: str
    last_name: str
    ticket_reference: str | None
    epm: dict[str, str] | None
    hours: float
    sessions: int
    competences: list[CompetenceLine] = field(default_factory=list)
    domains: list[DomainLine] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return bool(self.domains) and all(d.met for d in self.domains)


def exported_submissions(session: Session, organisation_id: int) -> list[Submission]:
    """The latest file of each person who sent one to the organisation (waiting or decided), by name."""
    rows = session.scalars(
        sa.select(Submission).where(Submission.organisation_id == organisation_id, Submission.status.in_(EXPORTED))
        .options(joinedload(Submission.decided_by).lazyload(User.memberships), lazyload(Submission.owner))
        .order_by(Submission.owner_id, Submission.sent_at.desc(), Submission.id.desc()))
    latest: dict[int, Submission] = {}
    for submission in rows:
        latest.setdefault(submission.owner_id, submission)

    def by_name(submission: Submission) -> tuple[str, str, int]:
        first, last = submission_learner(submission)
        return last.casefold(), first.casefold(), submission.id

    return sorted(latest.values(), key=by_name)


def count_candidates(session: Session, organisation_id: int) -> int:
    return session.scalar(sa.select(sa.func.count(sa.distinct(Submission.owner_id))).where(
        Submission.organisation_id == organisation_id, Submission.status.in_(EXPORTED))) or 0


def submission_learner(submission: Submission) -> tuple[str, str]:
    person = submission.snapshot.get("learner") or {}
    return person.get("first_name", ""), person.get("last_name", "")


def _voiced(judgement: dict[str, Any] | None) -> Voiced | None:
    if not judgement:
        return None
    return Voiced(judgement["level"], judgement.get("at"), judgement.get("by"))


def candidates(session: Session, organisation_id: int, link: LinkMaker,
               submissions: list[Submission] | None = None) -> list[Candidate]:
    """The records of the export, from each candidate's file and the assessor's current judgements."""
    chosen = exported_submissions(session, organisation_id) if submissions is None else submissions
    owner_ids = [s.owner_id for s in chosen]
    assessed = competences.latest_assessments(session, owner_ids, voices=[Voice.ASSESSOR]) if owner_ids else {}
    frameworks: dict[int, Framework] = {}
    result = []
    for submission in chosen:
        snapshot = submission.snapshot
        first, last = submission_learner(submission)
        attendance = snapshot.get("attendance") or {}
        lines = []
        for item in snapshot.get("competences", []):
            live = assessed.get((submission.owner_id, item["id"], Voice.ASSESSOR.value))
            assessor = (Voiced(live.level, live.created_at.isoformat(),
                               live.assessor.display_name if live.assessor is not None else None)
                        if live is not None else _voiced(item.get("assessor")))
            lines.append(CompetenceLine(item["code"], item["title"], item["domain"], _voiced(item.get("animator")),
                                        assessor))
        framework_id = (snapshot.get("framework") or {}).get("id")
        domains = _domains(session, frameworks, framework_id, snapshot, lines)
        evidence = [Evidence(e["id"], e["title"], e.get("date"), link(submission.id, e["id"]))
                    for e in snapshot.get("evidence", [])]
        ticket = snapshot.get("ticket") or {}
        result.append(Candidate(submission, first, last, ticket.get("reference"), snapshot.get("epm"),
                                float(attendance.get("hours", 0)), int(attendance.get("sessions_present", 0)),
                                lines, domains, evidence))
    return result


def _domains(session: Session, frameworks: dict[int, Framework], framework_id: int | None,
             snapshot: dict[str, Any], lines: list[CompetenceLine]) -> list[DomainLine]:
    """Validated / required per domain, with the assessor's judgements since the file was sent."""
    if framework_id is not None and framework_id not in frameworks:
        exists = session.scalar(sa.select(sa.func.count(Framework.id)).where(Framework.id == framework_id))
        if exists:
            frameworks[framework_id] = competences.load_framework_tree(session, framework_id)
    framework = frameworks.get(framework_id) if framework_id is not None else None
    if framework is None:  # the framework is gone: what the file said when it was sent
        return [DomainLine(d["code"], d["title"], d["validated"], d["required"], d["total"])
                for d in snapshot.get("domains", [])]
    by_code = {line.code: line for line in lines}
    levels = {c.id: by_code[c.code].decisive for d in framework.domains for c in d.competences
              if c.code in by_code and by_code[c.code].decisive}
    readiness = competences.readiness(framework, levels)
    if readiness is None:
        return []
    return [DomainLine(d.domain.code, d.domain.title, len(d.validated), d.required, d.total)
            for d in readiness.domains]


def audit_export(session: Session, records: list[Candidate], organisation: Organisation, actor: User | None,
                 fmt: str, via: str, ip: str = "") -> None:
    """One audit event per candidate exported: each is a read of someone's file."""
    record_reads(session, [r.submission.owner_id for r in records], "submission.read", actor=actor,
                 actor_name=actor.display_name if actor else "", organisation=organisation, target_type="submission",
                 target_ids=[r.submission.id for r in records], details={"export": fmt, "via": via}, ip=ip)


def evidence_link(submission_id: int, entry_id: int) -> str:
    """Where an assessor reads a piece of evidence: the file's page, at the entry."""
    base = request.url_root.rstrip("/") if has_request_context() else current_app.config["PUBLIC_URL"]
    return f"{base}{url_for('sharing.submission', submission_id=submission_id)}#preuve-{entry_id}"



# --- Formats --------------------------------------------------------------------------------------


def _local_date(value: str | dt.datetime | None) -> str:
    if value is None:
        return ""
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(LOCAL_TZ).strftime("%d/%m/%Y")


def _decimal(value: float) -> str:
    """12.5 -> "12,5": a French Excel reads it as a number."""
    return f"{value:g}".replace(".", ",")


def level_label(level: str | None) -> str:
    labels = {Level.ACQUIRED.value: _("acquis"), Level.IN_PROGRESS.value: _("en cours"),
              Level.NOT_YET.value: _("pas encore")}
    return labels.get(level or "", "")


def to_csv(records: list[Candidate]) -> bytes:
    """UTF-8 with a BOM, ``;`` between columns, CRLF line ends: what a French Excel expects."""
    codes: list[tuple[str, str]] = []
    domains: list[str] = []
    for record in records:
        for line in record.competences:
            if (line.code, line.title) not in codes:
                codes.append((line.code, line.title))
        for domain in record.domains:
            if domain.code not in domains:
                domains.append(domain.code)
    header = [_("Nom"), _("Prénom"), _("Référence du ticket"), _("EPM"), _("Heures suivies"), _("Ateliers suivis"),
              _("Dossier envoyé le"), _("Prêt·e pour la certification"), _("Décision"), _("Décision le"),
              _("Code de vérification")]
    for code in domains:
        header += [_("%(domain)s validées", domain=code), _("%(domain)s requises", domain=code)]
    for code, _title in codes:
        header += [_("%(code)s animateur·trice : niveau", code=code), _("%(code)s animateur·trice : date", code=code),
                   _("%(code)s animateur·trice : nom", code=code), _("%(code)s évaluateur·trice : niveau", code=code)]
    header.append(_("Preuves"))
    rows: list[list[str]] = []
    decisions = {"ready": _("prêt·e"), "to_complete": _("à compléter")}
    for record in records:
        submission = record.submission
        row: list[str] = [
            record.last_name, record.first_name, record.ticket_reference or "",
            (record.epm or {}).get("name", ""), _decimal(record.hours), str(record.sessions),
            _local_date(submission.sent_at), _("oui") if record.ready else _("non"),
            decisions.get(submission.decision or "", ""), _local_date(submission.decided_at),
            submission.verification_code or "",
        ]
        by_domain = {d.code: d for d in record.domains}
        for code in domains:
            domain = by_domain.get(code)
            row += [str(domain.validated), str(domain.required)] if domain else ["", ""]
        by_code = {line.code: line for line in record.competences}
        for code, _title in codes:
            line = by_code.get(code)
            animator, assessor = (line.animator, line.assessor) if line else (None, None)
            row += [level_label(animator.level) if animator else "", _local_date(animator.at) if animator else "",
                    (animator.by or "") if animator else "", level_label(assessor.level) if assessor else ""]
        row.append(" ".join(e.url for e in record.evidence))
        rows.append(row)
    return csv_bytes(header, rows)


def to_json(records: list[Candidate], organisation: Organisation, generated_at: dt.datetime) -> dict[str, Any]:
    """The export as a document of ``docs/readiness.schema.json``."""

    def voiced(v: Voiced | None) -> dict[str, Any] | None:
        return None if v is None else {"level": v.level, "at": v.at, "by": v.by}

    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "generated_at": generated_at.isoformat(),
        "organisation": {"code": organisation.code, "name": organisation.name},
        "candidates": [
            {
                "submission_id": r.submission.id,
                "sent_at": r.submission.sent_at.isoformat(),
                "status": r.submission.status,
                "decision": r.submission.decision,
                "decided_at": r.submission.decided_at.isoformat() if r.submission.decided_at else None,
                "verification_code": r.submission.verification_code,
                "learner": {"first_name": r.first_name, "last_name": r.last_name},
                "ticket_reference": r.ticket_reference,
                "epm": r.epm,
                "hours_attended": r.hours,
                "sessions_attended": r.sessions,
                "competences": [{"code": c.code, "title": c.title, "domain": c.domain,
                                 "animator": voiced(c.animator), "assessor": voiced(c.assessor)}
                                for c in r.competences],
                "domains": [d.as_dict() for d in r.domains],
                "ready": r.ready,
                "evidence": [{"id": e.id, "title": e.title, "date": e.date, "url": e.url} for e in r.evidence],
            }
            for r in records
        ],
    }


def pdf_filename(record: Candidate) -> str:
    from werkzeug.utils import secure_filename

    name = secure_filename(f"{record.last_name}-{record.first_name}".lower()) or "candidat"
    return f"preparation-{name}-{record.submission.id}.pdf"


def candidate_pdf(record: Candidate) -> bytes:
    return html_to_pdf(render_template("sharing/readiness_pdf.html", records=[record], printed_at=local_now()))


def candidate_pdfs(records: list[Candidate], batch: int = 100) -> Iterator[bytes]:
    """One PDF per candidate, laid out ``batch`` candidates at a time (WeasyPrint's set-up paid once a batch)."""
    for start in range(0, len(records), batch):
        part = records[start:start + batch]
        html = render_template("sharing/readiness_pdf.html", records=part, printed_at=local_now())
        yield from html_to_pdfs(html, [f"candidate-{r.submission.id}" for r in part])
