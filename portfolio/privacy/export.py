""""Tout télécharger": everything the platform holds about a person, in a ZIP that leaves with them.

- ``portfolio.json``: every record about the person (schema: ``docs/portfolio.schema.json``);
- ``leap2a.xml``: a LEAP2A feed that Mahara imports (the journal as a ``leap2:selection`` of type
  Blog holding ``leap2:entry`` items, photos as ``leap2:resource``, competences as ``leap2:ability``);
- ``index.html``, ``entries/*.html``, ``photos/*``, ``style.css``: a small site that opens offline.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import render_template
from lxml import etree
from sqlalchemy.orm import Session, joinedload, selectinload

from competences.models import Assessment, Competence, assessment_evidence
from portfolio import asset_dir
from portfolio.account.models import SignedInSession
from portfolio.audit.models import AuditEvent
from portfolio.auth.models import LoginCard, Membership, User
from portfolio.credentials import services as credentials
from portfolio.db import Base, utcnow
from portfolio.enrolment.models import Attendance, Enrolment, WorkshopSession
from portfolio.journal.models import EntryStatus, JournalEntry, Photo
from portfolio.journal.storage import PhotoStorage
from portfolio.privacy.registry import MENTIONS, REFERENCES, mention_key
from portfolio.sharing.models import Consent, Submission
from portfolio.sso.models import ExternalIdentity, SignInInvitation
from portfolio.staff.models import StaffInvitation
from portfolio.tickets.models import Ticket

FORMAT = "ticketnet-portfolio"
FORMAT_VERSION = 1


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _competence(c: Competence) -> dict[str, Any]:
    return {"id": c.id, "framework": c.framework.code, "code": c.code, "title": c.title}


def photo_files(photo: Photo) -> tuple[str, str]:
    extension = photo.storage_key.rsplit(".", 1)[-1]
    return f"photos/{photo.id}.{extension}", f"photos/{photo.id}-miniature.{extension}"


def collect(session: Session, user: User, now: dt.datetime | None = None) -> dict[str, Any]:
    """The content of ``portfolio.json`` for this person."""
    uid = user.id
    entries = list(session.scalars(
        sa.select(JournalEntry).where(JournalEntry.owner_id == uid)
        .options(selectinload(JournalEntry.tags), selectinload(JournalEntry.photos),
                 selectinload(JournalEntry.competences).joinedload(Competence.framework))
        .order_by(JournalEntry.entry_date, JournalEntry.id)
    ))
    photos = list(session.scalars(sa.select(Photo).where(Photo.owner_id == uid).order_by(Photo.id)))
    assessments = list(session.scalars(
        sa.select(Assessment).where(Assessment.learner_id == uid)
        .options(joinedload(Assessment.competence).joinedload(Competence.framework),
                 joinedload(Assessment.assessor))
        .order_by(Assessment.created_at, Assessment.id)
    ))
    evidence: dict[int, list[int]] = {}
    if assessments:
        for assessment_id, entry_id in session.execute(
            sa.select(assessment_evidence.c.assessment_id, assessment_evidence.c.entry_id)
            .where(assessment_evidence.c.assessment_id.in_([a.id for a in assessments]))
        ):
            evidence.setdefault(assessment_id, []).append(entry_id)
    tickets = list(session.scalars(
        sa.select(Ticket).where(Ticket.beneficiary_id == uid).options(joinedload(Ticket.prescriber)).order_by(Ticket.id)
    ))
    enrolments = list(session.scalars(
        sa.select(Enrolment).where(Enrolment.learner_id == uid)
        .options(joinedload(Enrolment.epm), selectinload(Enrolment.interview), selectinload(Enrolment.path))
        .order_by(Enrolment.id)
    ))
    attendance = list(session.scalars(
        sa.select(Attendance).where(Attendance.enrolment_id.in_([e.id for e in enrolments] or [-1]))
        .options(joinedload(Attendance.session).joinedload(WorkshopSession.module),
                 joinedload(Attendance.session).joinedload(WorkshopSession.epm))
        .order_by(Attendance.id)
    ))
    consents = list(session.scalars(
        sa.select(Consent).where(Consent.owner_id == uid).options(joinedload(Consent.organisation)).order_by(Consent.id)
    ))
    submissions = list(session.scalars(
        sa.select(Submission).where(Submission.owner_id == uid).options(joinedload(Submission.organisation))
        .order_by(Submission.id)
    ))
    events = list(session.scalars(
        sa.select(AuditEvent).where(sa.or_(AuditEvent.actor_id == uid, AuditEvent.subject_user_id == uid))
        .order_by(AuditEvent.created_at, AuditEvent.id)
    ))
    memberships = list(session.scalars(sa.select(Membership).where(Membership.user_id == uid).order_by(Membership.id)))
    cards = list(session.scalars(sa.select(LoginCard).where(LoginCard.user_id == uid).order_by(LoginCard.id)))
    sessions = list(session.scalars(
        sa.select(SignedInSession).where(SignedInSession.user_id == uid).order_by(SignedInSession.id)))
    identities = list(session.scalars(
        sa.select(ExternalIdentity).where(ExternalIdentity.user_id == uid).order_by(ExternalIdentity.id)))
    invitations = list(session.scalars(
        sa.select(SignInInvitation).where(SignInInvitation.user_id == uid).order_by(SignInInvitation.id)))
    staff_invitations = list(session.scalars(
        sa.select(StaffInvitation).where(StaffInvitation.user_id == uid).order_by(StaffInvitation.id)))
    badges = credentials.credentials_of(session, uid)
    identity = credentials.holder_row(session, uid)

    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "exported_at": _iso(now or utcnow()),
        "account": {
            "id": user.id, "username": user.username, "first_name": user.first_name, "last_name": user.last_name,
            "email": user.email, "locale": user.locale, "created_at": _iso(user.created_at),
            "last_login_at": _iso(user.last_login_at),
        },
        "memberships": [
            {"id": m.id, "role": m.role, "organisation": {"code": m.organisation.code, "name": m.organisation.name},
             "created_at": _iso(m.created_at)} for m in memberships
        ],
        "entries": [
            {
                "id": e.id, "title": e.title, "date": _iso(e.entry_date), "status": e.status,
                "visibility": e.visibility, "in_portfolio": e.in_portfolio, "body_markdown": e.body_md,
                "body_html": e.body_html, "tags": [t.tag for t in e.tags],
                "competences": [_competence(c) for c in e.competences], "session_id": e.session_id,
                "module_id": e.module_id, "photos": [p.id for p in e.photos], "page": f"entries/{e.id}.html",
                "created_at": _iso(e.created_at), "updated_at": _iso(e.updated_at),
                "published_at": _iso(e.published_at),
            } for e in entries
        ],
        "photos": [
            {"id": p.id, "entry_id": p.entry_id, "file": photo_files(p)[0], "thumbnail": photo_files(p)[1],
             "content_type": p.content_type, "width": p.width, "height": p.height, "size_bytes": p.size_bytes,
             "alt_text": p.alt_text, "created_at": _iso(p.created_at)} for p in photos
        ],
        "assessments": [
            {"id": a.id, "competence": _competence(a.competence), "voice": a.voice, "level": a.level,
             "assessor": a.assessor.display_name if a.assessor is not None else None,
             "session_id": a.session_id, "comment": a.comment, "evidence": sorted(evidence.get(a.id, [])),
             "created_at": _iso(a.created_at)} for a in assessments
        ],
        "tickets": [
            {"id": t.id, "reference": t.reference, "prescriber": t.prescriber.name, "first_name": t.first_name,
             "last_name": t.last_name, "birth_date": _iso(t.birth_date), "commune": t.commune, "phone": t.phone,
             "email": t.email, "public_category": t.public_category, "issued_on": _iso(t.issued_on),
             "expires_on": _iso(t.expires_on), "value_cents": t.value_cents, "hours": t.hours,
             "sessions": t.sessions, "status": t.status} for t in tickets
        ],
        "enrolments": [
            {"id": e.id, "ticket_id": e.ticket_id, "epm": {"code": e.epm.code, "name": e.epm.name},
             "registered_at": _iso(e.registered_at), "active": e.active, "ended_at": _iso(e.ended_at),
             "interview": None if e.interview is None else {
                 "held_on": _iso(e.interview.held_on), "duration_minutes": e.interview.duration_minutes,
                 "projects": e.interview.projects, "notes": e.interview.notes},
             "path": [pm.module.number for pm in e.path]} for e in enrolments
        ],
        "attendance": [
            {"id": a.id, "enrolment_id": a.enrolment_id, "status": a.status, "session": {
                "id": a.session.id, "starts_at": _iso(a.session.starts_at),
                "duration_minutes": a.session.duration_minutes, "module": a.session.module.title,
                "epm": a.session.epm.name}} for a in attendance
        ],
        "consents": [
            {"id": c.id, "organisation": c.organisation.name, "scope": c.scope, "method": c.method,
             "starts_at": _iso(c.starts_at), "ends_at": _iso(c.ends_at), "revoked_at": _iso(c.revoked_at),
             "revoked_method": c.revoked_method, "text_hash": c.text_hash, "text_version": c.text_version,
             "text_language": c.text_language, "created_at": _iso(c.created_at)} for c in consents
        ],
        "submissions": [
            {"id": s.id, "organisation": s.organisation.name, "status": s.status, "sent_at": _iso(s.sent_at),
             "withdrawn_at": _iso(s.withdrawn_at), "decision": s.decision, "decision_comment": s.decision_comment,
             "decided_at": _iso(s.decided_at), "verification_code": s.verification_code, "snapshot": s.snapshot}
            for s in submissions
        ],
        "login_cards": [
            {"id": c.id, "created_at": _iso(c.created_at), "expires_at": _iso(c.expires_at),
             "used_at": _iso(c.used_at), "revoked_at": _iso(c.revoked_at)} for c in cards
        ],
        "signed_in_sessions": [
            {"id": s.id, "method": s.method, "created_at": _iso(s.created_at), "ended_at": _iso(s.ended_at),
             "ip": s.ip, "user_agent": s.user_agent} for s in sessions
        ],
        "external_identities": [
            {"id": i.id, "provider": i.provider, "issuer": i.issuer, "subject": i.subject,
             "created_at": _iso(i.created_at), "last_used_at": _iso(i.last_used_at)} for i in identities
        ],
        "sign_in_invitations": [
            {"id": i.id, "created_at": _iso(i.created_at), "expires_at": _iso(i.expires_at),
             "used_at": _iso(i.used_at), "revoked_at": _iso(i.revoked_at)} for i in invitations
        ],
        "staff_invitations": [
            {"id": i.id, "delivery": i.delivery, "sent_to": i.sent_to, "created_at": _iso(i.created_at),
             "expires_at": _iso(i.expires_at), "used_at": _iso(i.used_at), "revoked_at": _iso(i.revoked_at)}
            for i in staff_invitations
        ],
        "audit_events": [
            {"id": e.id, "created_at": _iso(e.created_at), "action": e.action, "by_me": e.actor_id == uid,
             "about_me": e.subject_user_id == uid, "actor": e.actor_name, "organisation": e.organisation_name,
             "target_type": e.target_type, "target_id": e.target_id,
             "ip": e.ip if e.actor_id == uid else None} for e in events
        ],
        "credentials": [
            {"id": c.id, "public_id": c.public_id, "kind": c.kind, "title": c.title, "issuer": c.organisation.name,
             "status": c.status, "awarded_at": _iso(c.awarded_at), "issued_at": _iso(c.issued_at),
             "revoked_at": _iso(c.revoked_at), "revocation_reason": c.revocation_reason,
             "files": [f"badges/{credentials.file_name(c, fmt)}" for fmt in ("json", "png", "svg")]
             if c.document is not None else []} for c in badges
        ],
        "credential_identity": [] if identity is None else [
            {"id": identity.id, "subject_id": identity.subject_id, "include_email": identity.include_email,
             "created_at": _iso(identity.created_at)}],
        MENTIONS: _mentions(session, uid),
    }


def _mentions(session: Session, uid: int) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for reference in REFERENCES:
        if reference.section != MENTIONS:
            continue
        table = Base.metadata.tables[reference.table]
        ids = list(session.scalars(sa.select(table.c.id).where(table.c[reference.column] == uid).order_by(table.c.id)))
        found[mention_key(reference)] = ids
    return found


# --- LEAP2A --------------------------------------------------------------------------------------

ATOM = "http://www.w3.org/2005/Atom"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
LEAP2 = "http://terms.leapspecs.org/"
CATEGORIES = "http://wiki.leapspecs.org/2A/categories/"
NSMAP = {None: ATOM, "rdf": RDF, "leap2": LEAP2, "categories": CATEGORIES}


def _el(parent: etree._Element, tag: str, text: str | None = None, ns: str = ATOM, **attrs: str) -> etree._Element:
    """A child element; an attribute named ``leap2__x`` is ``leap2:x``."""
    names = {k: f"{{{LEAP2}}}{k[7:]}" if k.startswith("leap2__") else k for k in attrs}
    element = etree.SubElement(parent, f"{{{ns}}}{tag}", {names[k]: v for k, v in attrs.items()})
    if text is not None:
        element.text = text
    return element


def _leap_entry(feed: etree._Element, entry_id: str, title: str, leap_type: str, updated: str) -> etree._Element:
    entry = _el(feed, "entry")
    _el(entry, "id", entry_id)
    _el(entry, "title", title)
    _el(entry, "updated", updated)
    etree.SubElement(entry, f"{{{RDF}}}type", {f"{{{RDF}}}resource": f"leap2:{leap_type}"})
    return entry


def leap2a(doc: dict[str, Any], journal_title: str) -> bytes:
    """The LEAP2A feed of an exported portfolio (``collect``'s output), as UTF-8 XML."""
    account = doc["account"]
    exported = doc["exported_at"]
    name = f"{account['first_name']} {account['last_name']}".strip() or account["username"]
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap=NSMAP)  # type: ignore[arg-type]
    _el(feed, "version", "http://www.leapspecs.org/2010-07/2A/", ns=LEAP2)
    _el(feed, "id", f"urn:ticketnet:portfolio:{account['username']}:{exported}")
    _el(feed, "title", journal_title)
    _el(feed, "updated", exported)
    _el(feed, "generator", "Ticket Net")
    author = _el(feed, "author")
    _el(author, "name", name)

    person = _leap_entry(feed, "portfolio:person", name, "person", exported)
    _el(person, "content", "", type="text")
    for field, value in (("legal_given_name", account["first_name"]), ("legal_family_name", account["last_name"])):
        if value:
            _el(person, "persondata", value, ns=LEAP2, **{"leap2__field": field})

    journal = _leap_entry(feed, "portfolio:journal", journal_title, "selection", exported)
    _el(journal, "content", "", type="text")
    _el(journal, "category", term="Blog", scheme="categories:selection_type#")
    for order, item in enumerate(doc["entries"], start=1):
        _el(journal, "link", rel="leap2:has_part", href=f"portfolio:entry{item['id']}",
            **{"leap2__display_order": str(order)})

    abilities: dict[int, dict[str, Any]] = {}
    for assessment in doc["assessments"]:
        abilities.setdefault(assessment["competence"]["id"], {"competence": assessment["competence"], "levels": {}})
        abilities[assessment["competence"]["id"]]["levels"][assessment["voice"]] = assessment
    for item in doc["entries"]:
        for competence in item["competences"]:
            abilities.setdefault(competence["id"], {"competence": competence, "levels": {}})

    photos = {p["id"]: p for p in doc["photos"]}
    for item in doc["entries"]:
        entry = _leap_entry(feed, f"portfolio:entry{item['id']}", item["title"] or "—", "entry",
                            item["updated_at"])
        if item["published_at"]:
            _el(entry, "published", item["published_at"])
        _el(entry, "content", item["body_html"], type="html")
        _el(entry, "link", rel="leap2:is_part_of", href="portfolio:journal")
        for photo_id in item["photos"]:
            _el(entry, "link", rel="leap2:has_attachment", href=f"portfolio:photo{photo_id}")
        for competence in item["competences"]:
            _el(entry, "link", rel="leap2:is_evidence_of", href=f"portfolio:ability{competence['id']}")
        for tag in item["tags"]:
            _el(entry, "category", term=tag)
        if item["status"] != EntryStatus.PUBLISHED.value:
            _el(entry, "category", term="Unready", scheme="categories:readiness#")
        _el(entry, "date", item["date"], ns=LEAP2, **{"leap2__point": "start"})

    for photo in photos.values():
        resource = _leap_entry(feed, f"portfolio:photo{photo['id']}", photo["alt_text"] or f"Photo {photo['id']}",
                               "resource", photo["created_at"])
        _el(resource, "content", type=photo["content_type"], src=photo["file"])
        _el(resource, "category", term="Offline", scheme="categories:resource_type#")
        if photo["entry_id"]:
            _el(resource, "link", rel="leap2:is_attachment_of", href=f"portfolio:entry{photo['entry_id']}")

    for competence_id, ability in abilities.items():
        competence = ability["competence"]
        levels = ability["levels"]
        summary = "; ".join(f"{voice}: {a['level']} ({a['created_at'][:10]})" for voice, a in sorted(levels.items()))
        element = _leap_entry(feed, f"portfolio:ability{competence_id}",
                              f"{competence['code']} {competence['title']}", "ability", exported)
        _el(element, "content", f"{competence['framework']} {competence['code']}. {summary}".strip(), type="text")
        for item in doc["entries"]:
            if any(c["id"] == competence_id for c in item["competences"]):
                _el(element, "link", rel="leap2:has_evidence", href=f"portfolio:entry{item['id']}")
    return etree.tostring(feed, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# --- The archive ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Archive:
    data: bytes
    filename: str


def build_archive(session: Session, storage: PhotoStorage, user: User, now: dt.datetime | None = None) -> Archive:
    """The ZIP of everything (needs an application context for the templates and the translations)."""
    from flask_babel import gettext as _

    now = now or utcnow()
    doc = collect(session, user, now)
    entries = list(session.scalars(
        sa.select(JournalEntry).where(JournalEntry.owner_id == user.id)
        .options(selectinload(JournalEntry.tags), selectinload(JournalEntry.photos),
                 selectinload(JournalEntry.competences))
        .order_by(JournalEntry.entry_date.desc(), JournalEntry.id.desc())
    ))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        missing = []
        for entry in entries:
            for photo in entry.photos:
                full, thumb = photo_files(photo)
                try:
                    archive.writestr(full, storage.read(photo.storage_key), compress_type=zipfile.ZIP_STORED)
                    archive.writestr(thumb, storage.read(photo.thumbnail_key), compress_type=zipfile.ZIP_STORED)
                except FileNotFoundError:
                    missing.append(photo.id)
        doc["missing_photos"] = missing
        for badge in credentials.credentials_of(session, user.id):  # each signed badge, as JSON and baked images
            if badge.document is not None:
                for fmt in ("json", "png", "svg"):
                    body, _mimetype = credentials.baked(badge, fmt)
                    archive.writestr(f"badges/{credentials.file_name(badge, fmt)}", body)
        archive.writestr("portfolio.json", json.dumps(doc, ensure_ascii=False, indent=2))
        archive.writestr("leap2a.xml", leap2a(doc, _("Journal de %(name)s", name=user.display_name)))
        context = {"doc": doc, "user": user, "entries": entries, "exported": now, "photo_files": photo_files}
        archive.writestr("index.html", render_template("privacy/site/index.html", **context))
        for entry in entries:
            archive.writestr(f"entries/{entry.id}.html",
                             render_template("privacy/site/entry.html", entry=entry, **context))
        archive.writestr("style.css", (Path(asset_dir("static")) / "css" / "export-site.css").read_text())
    return Archive(buffer.getvalue(), f"ticketnet-{user.username}-{now.date().isoformat()}.zip")
