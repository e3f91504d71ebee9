"""Issuing, revoking and serving Open Badges 3.0 credentials (see docs/credentials.md).

- Issuers: each organisation that issues has an Ed25519 key (``IssuerKey``; the private half in the key folder
  or the environment) and a ``did:web`` identifier served by the site: ``did:web:<host>:emetteurs:<code>``
  (``/emetteurs/<code>/did.json``); the coordination's is the site's own, ``did:web:<host>``
  (``/.well-known/did.json``). Rotating a key keeps the old one listed, so old credentials stay valid.
- Three kinds: ``path_completed`` (the EPM, when a ticket's path is complete), ``issue_domain`` (a B2i Adultes
  domain validated, by the organisation whose voice validated it, at the learner's request with the evidence she
  chose), ``certification_decided`` (the training body, on a positive decision, with its verification code).
- The learner is named by a stable ``urn:uuid`` (``CredentialHolder``) and her name; her e-mail only as a salted
  hash, only if she has one and agreed.
- Revocation: one Bitstring Status List per issuer, served signed at ``/emetteurs/<code>/statut.json``; a
  decision withdrawn, a ticket cancelled for fraud, an account deleted, a path corrected flip the bit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from competences import services as competences
from competences.models import Competence, Framework, FrameworkDomain, Voice
from portfolio.audit import services as audit
from portfolio.auth.models import User
from portfolio.catalogue.models import Module
from portfolio.credentials import baking, images, proofs, verify
from portfolio.credentials import keys as keystore
from portfolio.credentials.models import (
    STATUS_LIST_SIZE,
    Credential,
    CredentialHolder,
    CredentialKind,
    CredentialStatus,
    IssuerKey,
    RevocationReason,
)
from portfolio.enrolment.models import Attendance, AttendanceStatus, Enrolment, WorkshopSession
from portfolio.journal.models import EntryStatus, JournalEntry
from portfolio.orgs.models import Organisation, OrgKind
from portfolio.sharing.models import Decision, Submission
from portfolio.tickets.models import Ticket, TicketStatus

DID_CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
CONTEXTS = [verify.VC2_CONTEXT, verify.OB_CONTEXT]

KIND_LABELS = {
    CredentialKind.PATH.value: _l("Parcours Ticket Net terminé"),
    CredentialKind.DOMAIN.value: _l("Domaine du B2i Adultes validé"),
    CredentialKind.CERTIFICATION.value: _l("Décision de certification"),
}
STATUS_LABELS = {
    CredentialStatus.PENDING.value: _l("En préparation"),
    CredentialStatus.ACTIVE.value: _l("Valable"),
    CredentialStatus.REVOKED.value: _l("Révoqué"),
}
REASON_LABELS = {
    RevocationReason.DECISION_WITHDRAWN.value: _l("la décision a été retirée par l'organisme de formation"),
    RevocationReason.TICKET_FRAUD.value: _l("le ticket a été annulé pour fraude"),
    RevocationReason.ACCOUNT_DELETED.value: _l("le compte a été supprimé"),
    RevocationReason.PATH_CORRECTED.value: _l("les présences ont été corrigées : le parcours n'est plus complet"),
    RevocationReason.REPLACED.value: _l("remplacé par un nouveau badge"),
    RevocationReason.ISSUER: _l("révoqué par l'émetteur"),
}


class CredentialError(ValueError):
    """A request about a credential that is refused; the message says why, in French."""


# --- The site and its identifiers -----------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    public_url: str
    config: Mapping[str, Any]

    @classmethod
    def current(cls) -> Site:
        """The application's site; outside an application (a bare service call), one that holds no key: what
        is awarded there waits, pending, for ``ticketnet credentials sign-pending``."""
        if has_app_context():
            return cls(str(current_app.config["PUBLIC_URL"]).rstrip("/"), current_app.config)
        import os

        return cls(os.environ.get("TICKETNET_PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/"),
                   {"CREDENTIAL_KEY_DIR": "", "CREDENTIAL_KEYS_GENERATE": False})

    @property
    def did(self) -> str:
        """``did:web:`` of the site: the host (``:`` of a port written ``%3A``), then the path, if any."""
        parts = urlsplit(self.public_url)
        host = quote(parts.netloc, safe="")
        path = [p for p in parts.path.split("/") if p]
        return ":".join(["did:web", host, *path])

    def url(self, path: str) -> str:
        return self.public_url + path


def site_organisation(session: Session) -> Organisation | None:
    """The organisation that runs the scheme (the first coordination): its DID is the site's own."""
    return session.scalar(sa.select(Organisation).where(Organisation.kind == OrgKind.COORDINATION.value)
                          .order_by(Organisation.id).limit(1))


def issuer_did(site: Site, organisation: Organisation, site_org_id: int | None) -> str:
    if organisation.id == site_org_id:
        return site.did
    return f"{site.did}:emetteurs:{organisation.code}"


def did_document_path(organisation: Organisation, site_org_id: int | None) -> str:
    return "/.well-known/did.json" if organisation.id == site_org_id else f"/emetteurs/{organisation.code}/did.json"


def status_list_url(site: Site, organisation: Organisation) -> str:
    return site.url(f"/emetteurs/{organisation.code}/statut.json")


def achievement_url(site: Site, slug: str) -> str:
    return site.url(f"/badges/{slug}")


def framework_url(site: Site, framework_code: str, item: str) -> str:
    return site.url(f"/badges/referentiels/{framework_code}#{item}")


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def issuer_profile(site: Site, organisation: Organisation, site_org_id: int | None) -> dict[str, Any]:
    """The Open Badges ``Profile`` of an issuing organisation (embedded in each credential it issues)."""
    profile: dict[str, Any] = {"id": issuer_did(site, organisation, site_org_id), "type": ["Profile"],
                               "name": organisation.name, "url": site.public_url}
    if organisation.city or organisation.address:
        address: dict[str, Any] = {"type": ["Address"], "addressCountry": "FR"}
        if organisation.address:
            address["streetAddress"] = organisation.address
        if organisation.postcode:
            address["postalCode"] = organisation.postcode
        if organisation.city:
            address["addressLocality"] = organisation.city
        profile["address"] = address
    if organisation.email:
        profile["email"] = organisation.email
    if organisation.phone:
        profile["phone"] = organisation.phone
    return profile


# --- Keys -----------------------------------------------------------------------------------------


def keys_of(session: Session, organisation_id: int) -> list[IssuerKey]:
    """The organisation's keys, the current one first, then the retired ones, newest first."""
    return list(session.scalars(
        sa.select(IssuerKey).where(IssuerKey.organisation_id == organisation_id)
        .order_by(IssuerKey.retired_at.is_not(None), IssuerKey.retired_at.desc(), IssuerKey.id.desc())))


def current_key(session: Session, organisation_id: int) -> IssuerKey | None:
    return session.scalar(sa.select(IssuerKey).where(IssuerKey.organisation_id == organisation_id,
                                                     IssuerKey.retired_at.is_(None)))


def register_key(session: Session, organisation: Organisation, public_key: str, now: dt.datetime,
                 by: User | None = None) -> IssuerKey:
    """Make ``public_key`` the organisation's current key; the previous one is retired but stays listed."""
    proofs.public_key_from_multibase(public_key)  # refuses what is not an Ed25519 Multikey
    existing = session.scalar(sa.select(IssuerKey).where(IssuerKey.public_key == public_key))
    if existing is not None:
        if existing.organisation_id != organisation.id or existing.retired_at is not None:
            raise CredentialError(_l("Cette clé a déjà servi : donnez une clé neuve."))
        return existing
    previous = session.scalar(sa.select(IssuerKey).where(IssuerKey.organisation_id == organisation.id,
                                                         IssuerKey.retired_at.is_(None)).with_for_update())
    if previous is not None:
        previous.retired_at = now
        session.flush()
    key = IssuerKey(organisation_id=organisation.id, public_key=public_key, created_at=now)
    session.add(key)
    session.flush()
    audit.record(session, "credentials.key_registered", actor=by, organisation=organisation,
                 target_type="credential_issuer_key", target_id=key.id,
                 details={"public_key": public_key, "retired": previous.public_key if previous else None})
    return key


def generate_key(session: Session, site: Site, organisation: Organisation, now: dt.datetime,
                 by: User | None = None) -> tuple[IssuerKey, str]:
    """A new key written into the key folder and made current (a rotation if there was one); its file."""
    private, path = keystore.generate(site.config, organisation.code, now)
    return register_key(session, organisation, proofs.public_multibase(private.public_key()), now, by), str(path)


def _signing_key(session: Session, site: Site, organisation: Organisation,
                 now: dt.datetime) -> tuple[IssuerKey, Any]:
    key = current_key(session, organisation.id)
    if key is None:
        if not site.config.get("CREDENTIAL_KEYS_GENERATE"):
            raise keystore.KeyUnavailable(organisation.code)
        key, _path = generate_key(session, site, organisation, now)
        return key, keystore.private_keys(site.config)[key.public_key]
    private = keystore.private_keys(site.config).get(key.public_key)
    if private is None:
        raise keystore.KeyUnavailable(organisation.code)
    return key, private


def did_document(session: Session, site: Site, organisation: Organisation, site_org_id: int | None) -> dict[str, Any]:
    """The organisation's DID document: its current key first, then the retired ones (still valid for what they
    signed before their replacement), all usable for assertions."""
    did = issuer_did(site, organisation, site_org_id)
    methods = [{"id": f"{did}#{k.public_key}", "type": "Multikey", "controller": did,
                "publicKeyMultibase": k.public_key} for k in keys_of(session, organisation.id)]
    return {"@context": DID_CONTEXTS, "id": did, "verificationMethod": methods,
            "assertionMethod": [m["id"] for m in methods]}


# --- The learner's identifier ---------------------------------------------------------------------


def holder_of(session: Session, user_id: int) -> CredentialHolder:
    """The learner's stable identifier, made on first need (two requests at once get the same one)."""
    holder = holder_row(session, user_id)
    if holder is not None:
        return holder
    holder = CredentialHolder(user_id=user_id, subject_id=f"urn:uuid:{uuid.uuid4()}", email_salt=secrets.token_hex(16))
    try:
        with session.begin_nested():
            session.add(holder)
    except IntegrityError:
        holder = holder_row(session, user_id)
        assert holder is not None
    return holder


def holder_row(session: Session, user_id: int) -> CredentialHolder | None:
    return session.scalar(sa.select(CredentialHolder).where(CredentialHolder.user_id == user_id))


def email_hash(email: str, salt: str) -> str:
    """Open Badges' IdentityHash: ``sha256$`` + hex SHA-256 of the address (lower case) followed by the salt."""
    return "sha256$" + hashlib.sha256((email.strip().lower() + salt).encode()).hexdigest()


def subject_identity(holder: CredentialHolder, user: User) -> dict[str, Any]:
    identifiers: list[dict[str, Any]] = []
    if user.display_name:
        identifiers.append({"type": "IdentityObject", "identityType": "name", "hashed": False,
                            "identityHash": user.display_name})
    if holder.include_email and user.email:
        identifiers.append({"type": "IdentityObject", "identityType": "emailAddress", "hashed": True,
                            "identityHash": email_hash(user.email, holder.email_salt), "salt": holder.email_salt})
    subject: dict[str, Any] = {"id": holder.subject_id, "type": ["AchievementSubject"]}
    if identifiers:
        subject["identifier"] = identifiers
    return subject


def set_email_choice(session: Session, user: User, include: bool, now: dt.datetime) -> int:
    """The learner agrees (or no longer agrees) that her e-mail, hashed with a salt, names her in her credentials.
    Credentials issued afterwards follow the choice; returns how many standing ones were signed again."""
    if include and not user.email:
        raise CredentialError(_l("Votre compte n'a pas d'adresse électronique."))
    holder = holder_of(session, user.id)
    if holder.include_email == include:
        return 0
    holder.include_email = include
    session.flush()
    audit.record(session, "credentials.email_choice", actor=user, subject_user_id=user.id,
                 details={"include_email": include})
    return 0


# --- Alignments: B2i Adultes and the indicative Pix correspondence ---------------------------------


def _alignment(site: Site, framework: Framework, code: str, name: str, description: str | None = None,
               indicative: bool = False) -> dict[str, Any]:
    alignment: dict[str, Any] = {
        "type": ["Alignment"], "targetType": "CFItem", "targetCode": code, "targetName": f"{code} {name}",
        "targetFramework": framework.title + (" (correspondance indicative)" if indicative else ""),
        "targetUrl": framework_url(site, framework.code, code)}
    if description or indicative:
        alignment["targetDescription"] = description or (
            "Correspondance indicative, non officielle, proposée par Ticket Net entre le B2i Adultes et le CRCN / Pix.")
    return alignment


def alignments(session: Session, site: Site, competence_ids: Iterable[int],
               domains: Iterable[FrameworkDomain] = ()) -> list[dict[str, Any]]:
    """B2i Adultes domains (and competences), then the Pix/CRCN competences they map to, marked indicative."""
    framework = competences.certification_framework(session)
    if framework is None:
        return []
    wanted = set(competence_ids)
    out = [_alignment(site, framework, d.code, d.title, d.objective or None) for d in domains]
    chosen = [c for d in framework.domains for c in d.competences if c.id in wanted]
    out += [_alignment(site, framework, c.code, c.title) for c in chosen]
    bridge = competences.bridge_from(session, framework)
    if bridge is not None:
        seen: set[int] = set()
        for c in chosen:
            for target in bridge.targets_of.get(c.id, []):
                if target.id not in seen:
                    seen.add(target.id)
                    out.append(_alignment(site, bridge.target, target.code, target.title,
                                          indicative=not bridge.official))
    return out


# --- Building, signing, issuing --------------------------------------------------------------------


def _content(site: Site, credential: Credential, name: str, description: str, achievement: dict[str, Any],
             subject_extra: Mapping[str, Any], evidence: list[dict[str, Any]], awarded: dt.datetime) -> dict[str, Any]:
    """What the credential says (without issuer details, subject identity, status and proof: added at signing)."""
    content: dict[str, Any] = {"name": name, "description": description, "achievement": achievement,
                               "subject": dict(subject_extra), "awardedDate": _iso(awarded)}
    if evidence:
        content["evidence"] = evidence
    return content


def _document(session: Session, site: Site, credential: Credential, user: User | None,
              valid_from: dt.datetime) -> dict[str, Any]:
    content = credential.content or {}
    site_org = site_organisation(session)
    organisation = session.get(Organisation, credential.organisation_id)
    assert organisation is not None
    subject: dict[str, Any] = {"id": "urn:uuid:00000000-0000-0000-0000-000000000000", "type": ["AchievementSubject"]}
    if user is not None:
        subject = subject_identity(holder_of(session, user.id), user)
    subject.update(content.get("subject") or {})
    subject["achievement"] = content["achievement"]
    list_url = status_list_url(site, organisation)
    document: dict[str, Any] = {
        "@context": CONTEXTS, "id": credential.public_id, "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": content["name"], "description": content["description"],
        "issuer": issuer_profile(site, organisation, site_org.id if site_org else None),
        "validFrom": _iso(valid_from), "awardedDate": content["awardedDate"], "credentialSubject": subject,
        "credentialStatus": {"id": f"{list_url}#{credential.status_index}", "type": "BitstringStatusListEntry",
                             "statusPurpose": "revocation", "statusListIndex": str(credential.status_index),
                             "statusListCredential": list_url},
    }
    if content.get("evidence"):
        document["evidence"] = content["evidence"]
    return document


def _sign(session: Session, site: Site, credential: Credential, now: dt.datetime) -> bool:
    """Sign a pending credential with its issuer's current key; False when the key is not available."""
    organisation = session.get(Organisation, credential.organisation_id)
    assert organisation is not None
    try:
        key, private = _signing_key(session, site, organisation, now)
    except keystore.KeyUnavailable:
        return False
    user = session.get(User, credential.holder_id) if credential.holder_id is not None else None
    document = _document(session, site, credential, user, now)
    site_org = site_organisation(session)
    method = f"{issuer_did(site, organisation, site_org.id if site_org else None)}#{key.public_key}"
    credential.document = proofs.sign(document, private, method, created=_iso(now))
    credential.key_id = key.id
    credential.issued_at = now
    credential.status = CredentialStatus.ACTIVE.value
    session.flush()
    return True


def _standing(session: Session, kind: CredentialKind, **where: Any) -> Credential | None:
    query = sa.select(Credential).where(Credential.kind == kind.value,
                                        Credential.status != CredentialStatus.REVOKED.value)
    for column, value in where.items():
        query = query.where(getattr(Credential, column) == value)
    return session.scalar(query.limit(1))


def _award(session: Session, site: Site, *, kind: CredentialKind, holder_id: int, organisation: Organisation,
           title: str, content_of: Any, now: dt.datetime, unique: Mapping[str, Any], **links: Any) -> Credential:
    """Record a credential (one standing per what ``unique`` names; a repeated award returns the first) and sign
    it if its issuer's key is at hand."""
    existing = _standing(session, kind, **unique)
    if existing is not None:
        return existing
    for _attempt in range(20):
        credential = Credential(public_id=f"urn:uuid:{uuid.uuid4()}", holder_id=holder_id,
                                organisation_id=organisation.id, kind=kind.value, title=title,
                                status=CredentialStatus.PENDING.value,
                                status_index=secrets.randbelow(STATUS_LIST_SIZE), awarded_at=now, **links)
        credential.content = content_of(credential)
        try:
            with session.begin_nested():
                session.add(credential)
        except IntegrityError:
            existing = _standing(session, kind, **unique)
            if existing is not None:
                return existing
            continue  # the random status index was taken: draw another
        break
    else:  # pragma: no cover - 131 072 places per issuer
        raise RuntimeError("no free place in the status list")
    _sign(session, site, credential, now)
    audit.record(session, "credentials.issued", organisation=organisation, target_type="credential",
                 target_id=credential.id, subject_user_id=holder_id,
                 details={"kind": kind.value, "status": credential.status})
    return credential


def sign_pending(session: Session, site: Site, now: dt.datetime, organisation_id: int | None = None) -> int:
    """Sign the credentials that waited for their issuer's key; returns how many were signed."""
    query = sa.select(Credential).where(Credential.status == CredentialStatus.PENDING.value).order_by(Credential.id)
    if organisation_id is not None:
        query = query.where(Credential.organisation_id == organisation_id)
    return sum(1 for credential in session.scalars(query).all() if _sign(session, site, credential, now))


def revoke(session: Session, credential: Credential, reason: RevocationReason, now: dt.datetime,
           by: User | None = None) -> bool:
    """Flip the credential's bit in its issuer's status list; False if it was already revoked."""
    if credential.status == CredentialStatus.REVOKED.value:
        return False
    credential.status = CredentialStatus.REVOKED.value
    credential.revoked_at = now
    credential.revocation_reason = reason.value
    session.flush()
    audit.record(session, "credentials.revoked", actor=by, target_type="credential", target_id=credential.id,
                 subject_user_id=credential.holder_id, details={"kind": credential.kind, "reason": reason.value})
    return True


def _revoke_all(session: Session, query: Any, reason: RevocationReason, now: dt.datetime,
                by: User | None = None) -> int:
    return sum(1 for credential in session.scalars(query.with_for_update()).all()
               if revoke(session, credential, reason, now, by))


# --- (a) The path ---------------------------------------------------------------------------------


def _path_facts(session: Session, ticket: Ticket) -> tuple[Enrolment | None, list[tuple[WorkshopSession, Module]]]:
    enrolment = session.scalar(sa.select(Enrolment).where(Enrolment.ticket_id == ticket.id)
                               .order_by(Enrolment.active.desc(), Enrolment.registered_at.desc()).limit(1))
    rows = session.execute(
        sa.select(WorkshopSession, Module)
        .join(Attendance, Attendance.session_id == WorkshopSession.id)
        .join(Enrolment, Enrolment.id == Attendance.enrolment_id)
        .join(Module, Module.id == WorkshopSession.module_id)
        .where(Enrolment.ticket_id == ticket.id, Attendance.status == AttendanceStatus.PRESENT.value,
               WorkshopSession.cancelled.is_(False))
        .order_by(WorkshopSession.starts_at)).all()
    return enrolment, [(w, m) for w, m in rows]


def _module_competences(session: Session, module_ids: list[int]) -> list[int]:
    from portfolio.catalogue.models import ModuleCompetence

    if not module_ids:
        return []
    return list(session.scalars(sa.select(ModuleCompetence.competence_id)
                                .where(ModuleCompetence.module_id.in_(module_ids)).distinct()))


def path_completed(session: Session, ticket: Ticket, now: dt.datetime, site: Site | None = None) -> Credential | None:
    """The EPM's credential for a completed Ticket Net path: hours and modules followed."""
    site = site or Site.current()
    if ticket.beneficiary_id is None:
        return None
    enrolment, attended = _path_facts(session, ticket)
    if enrolment is None or not attended:
        return None
    epm = session.get(Organisation, enrolment.epm_id)
    assert epm is not None
    minutes = sum(w.duration_minutes for w, _m in attended)
    hours = round(minutes / 60, 1)
    modules = list(dict.fromkeys(m.title for _w, m in attended))
    module_ids = list(dict.fromkeys(m.id for _w, m in attended))
    aligned = alignments(session, site, _module_competences(session, module_ids))
    hours_text = f"{hours:g}".replace(".", ",")
    achievement_id = achievement_url(site, "parcours-ticket-net")

    def content(credential: Credential) -> dict[str, Any]:
        achievement = {
            "id": achievement_id, "type": ["Achievement"], "achievementType": "LearningProgram",
            "name": "Parcours Ticket Net",
            "description": "Un parcours d'initiation à l'informatique et à Internet : ateliers collectifs de "
                           "deux heures dans un espace public numérique (EPM) du Lot, avec un Ticket Net.",
            "criteria": {"narrative": f"Suivre les ateliers d'un Ticket Net ({ticket.sessions} ateliers, "
                                      f"{ticket.hours} heures) jusqu'au bout dans un EPM."},
            "inLanguage": "fr",
            "resultDescription": [{"id": f"{achievement_id}#heures", "type": ["ResultDescription"],
                                   "name": "Heures d'atelier suivies", "resultType": "RawScore",
                                   "valueMin": "0", "valueMax": str(ticket.hours)}],
        }
        if aligned:
            achievement["alignment"] = aligned
        subject = {
            "activityStartDate": _iso(attended[0][0].starts_at), "activityEndDate": _iso(attended[-1][0].ends_at),
            "narrative": f"{len(attended)} ateliers suivis, {hours_text} heures, à {epm.name}. "
                         f"Modules : {' ; '.join(modules)}.",
            "result": [{"type": ["Result"], "resultDescription": f"{achievement_id}#heures", "value": hours_text}],
        }
        return _content(site, credential, "Parcours Ticket Net", f"Parcours Ticket Net terminé à {epm.name}.",
                        achievement, subject, [], now)

    return _award(session, site, kind=CredentialKind.PATH, holder_id=ticket.beneficiary_id, organisation=epm,
                  title=str(_l("Parcours Ticket Net terminé")), content_of=content, now=now,
                  unique={"ticket_id": ticket.id}, ticket_id=ticket.id)


def ticket_statuses_changed(session: Session, tickets: Iterable[Ticket], before: Mapping[int, str],
                            now: dt.datetime) -> None:
    """After attendance was recorded: a path that became complete gets its credential; one that is no longer
    complete (attendance corrected) has its credential revoked."""
    for ticket in tickets:
        was, now_status = before.get(ticket.id), ticket.status
        if now_status == was:
            continue
        if now_status == TicketStatus.COMPLETED.value:
            path_completed(session, ticket, now)
        elif was == TicketStatus.COMPLETED.value:
            _revoke_all(session, sa.select(Credential).where(
                Credential.kind == CredentialKind.PATH.value, Credential.ticket_id == ticket.id,
                Credential.status != CredentialStatus.REVOKED.value), RevocationReason.PATH_CORRECTED, now)


def ticket_cancelled_for_fraud(session: Session, ticket: Ticket, now: dt.datetime, by: User | None = None) -> int:
    """A ticket cancelled for fraud: the credentials earned with it are revoked."""
    return _revoke_all(session, sa.select(Credential).where(
        Credential.ticket_id == ticket.id, Credential.status != CredentialStatus.REVOKED.value),
        RevocationReason.TICKET_FRAUD, now, by)


# --- (b) A B2i Adultes domain ----------------------------------------------------------------------


@dataclass(frozen=True)
class DomainOffer:
    """A validated domain the learner may receive a credential for, and who issues it."""

    domain: FrameworkDomain
    validated: list[Competence]
    organisation: Organisation | None  # None: no organisation can be named (judgements without one)
    voice: str
    standing: Credential | None  # the credential she already has for it


def _organisation_of_voice(session: Session, learner_id: int, judgements: list[Any]) -> tuple[Organisation | None, str]:
    """The organisation whose voice validated the domain: the training body of the assessor's file when an
    assessor's judgement counts, else the EPM of the animator's workshop (or of the learner's enrolment)."""
    assessor = [a for a in judgements if a.voice == Voice.ASSESSOR.value]
    if assessor:
        latest = max(assessor, key=lambda a: (a.created_at, a.id))
        body = session.scalar(
            sa.select(Organisation).join(Submission, Submission.organisation_id == Organisation.id)
            .where(Submission.owner_id == learner_id, Submission.sent_at <= latest.created_at)
            .order_by(Submission.sent_at.desc()).limit(1))
        return body, Voice.ASSESSOR.value
    latest = max(judgements, key=lambda a: (a.created_at, a.id))
    if latest.session_id is not None:
        epm = session.scalar(sa.select(Organisation).join(WorkshopSession, WorkshopSession.epm_id == Organisation.id)
                             .where(WorkshopSession.id == latest.session_id))
        if epm is not None:
            return epm, Voice.ANIMATOR.value
    epm = session.scalar(sa.select(Organisation).join(Enrolment, Enrolment.epm_id == Organisation.id)
                         .where(Enrolment.learner_id == learner_id)
                         .order_by(Enrolment.active.desc(), Enrolment.registered_at.desc()).limit(1))
    return epm, Voice.ANIMATOR.value


def domain_offers(session: Session, learner_id: int) -> list[DomainOffer]:
    """The learner's validated B2i Adultes domains, each with its issuer and the credential she may hold."""
    profile = competences.learner_profile(session, learner_id)
    if profile is None or profile.readiness is None:
        return []
    standing = {c.domain_code: c for c in session.scalars(sa.select(Credential).where(
        Credential.holder_id == learner_id, Credential.kind == CredentialKind.DOMAIN.value,
        Credential.status != CredentialStatus.REVOKED.value))}
    offers = []
    for domain in profile.readiness.domains:
        if not domain.met:
            continue
        judgements = [profile.states[c.id].decisive for c in domain.validated]
        organisation, voice = _organisation_of_voice(session, learner_id, [j for j in judgements if j is not None])
        offers.append(DomainOffer(domain.domain, domain.validated, organisation, voice,
                                  standing.get(domain.domain.code)))
    return offers


def evidence_choices(session: Session, learner_id: int) -> list[JournalEntry]:
    """The learner's published entries she may attach as evidence (she ticks them; none is ticked for her)."""
    return list(session.scalars(sa.select(JournalEntry).where(
        JournalEntry.owner_id == learner_id, JournalEntry.status == EntryStatus.PUBLISHED.value)
        .order_by(JournalEntry.entry_date.desc(), JournalEntry.id.desc()).limit(200)))


def _evidence(entries: list[JournalEntry]) -> list[dict[str, Any]]:
    return [{"type": ["Evidence"], "name": e.title or "Entrée du journal",
             "description": f"Journal de bord, {e.entry_date.strftime('%d/%m/%Y')}",
             "narrative": e.body_md, "genre": "Journal de bord"} for e in entries]


def issue_domain(session: Session, learner: User, domain_code: str, entry_ids: Iterable[int],
                 now: dt.datetime, site: Site | None = None) -> Credential:
    """The credential of a validated domain, at the learner's request, with the evidence she chose. Asking again
    replaces the one she holds (revoked as replaced)."""
    site = site or Site.current()
    offer = next((o for o in domain_offers(session, learner.id) if o.domain.code == domain_code), None)
    if offer is None:
        raise CredentialError(_l("Ce domaine n'est pas encore validé."))
    if offer.organisation is None:
        raise CredentialError(_l("Aucun organisme ne peut encore délivrer ce badge."))
    wanted = set(entry_ids)
    entries = [e for e in evidence_choices(session, learner.id) if e.id in wanted]
    if len(entries) != len(wanted):
        raise CredentialError(_l("Choisissez les preuves parmi vos entrées publiées."))
    if offer.standing is not None:
        revoke(session, offer.standing, RevocationReason.REPLACED, now, by=learner)
    framework = competences.certification_framework(session)
    assert framework is not None
    domain, organisation = offer.domain, offer.organisation
    rule = (framework.certification_rule or {}).get("min_validated_per_domain", {}).get(domain.code)
    slug = f"{framework.code}/{domain.code}"
    aligned = alignments(session, site, [c.id for c in offer.validated], [domain])
    validated_text = " ; ".join(f"{c.code} {c.title}" for c in offer.validated)
    who = "l'évaluateur·trice habilité·e" if offer.voice == Voice.ASSESSOR.value else "l'animateur·trice de l'EPM"

    def content(credential: Credential) -> dict[str, Any]:
        achievement = {
            "id": achievement_url(site, slug), "type": ["Achievement"], "achievementType": "Competency",
            "name": f"B2i Adultes, domaine {domain.code} : {domain.title}",
            "description": domain.objective or domain.title,
            "criteria": {"narrative": f"Au moins {rule or len(domain.competences)} des {len(domain.competences)} "
                                      f"compétences du domaine {domain.code} validées par une personne habilitée "
                                      "(animateur·trice d'EPM ou évaluateur·trice d'un organisme de formation)."},
            "inLanguage": "fr", "alignment": aligned,
        }
        subject = {"narrative": f"Compétences validées par {who} ({organisation.name}) : {validated_text}."}
        return _content(site, credential, f"B2i Adultes {domain.code} : {domain.title}",
                        f"Domaine {domain.code} du B2i Adultes validé.", achievement, subject, _evidence(entries), now)

    return _award(session, site, kind=CredentialKind.DOMAIN, holder_id=learner.id, organisation=organisation,
                  title=str(_l("B2i Adultes, domaine %(code)s", code=domain.code)), content_of=content, now=now,
                  unique={"holder_id": learner.id, "domain_code": domain.code}, domain_code=domain.code,
                  ticket_id=_current_ticket_id(session, learner.id))


def _current_ticket_id(session: Session, learner_id: int) -> int | None:
    return session.scalar(sa.select(Ticket.id).where(Ticket.beneficiary_id == learner_id)
                          .order_by(Ticket.issued_on.desc(), Ticket.id.desc()).limit(1))


# --- (c) A certification decision ------------------------------------------------------------------


def certification_decided(session: Session, submission: Submission, now: dt.datetime,
                          site: Site | None = None) -> Credential | None:
    """The training body's credential for a positive decision ("prêt·e pour la certification"), with its code."""
    if submission.decision != Decision.READY.value or submission.verification_code is None:
        return None
    site = site or Site.current()
    body = session.get(Organisation, submission.organisation_id)
    assert body is not None
    snapshot = submission.snapshot or {}
    framework = competences.certification_framework(session)
    domains = list(framework.domains) if framework is not None else []
    codes = {c["code"] for c in snapshot.get("competences", [])}
    aligned = alignments(session, site, [c.id for d in domains for c in d.competences if c.code in codes], domains)
    code = submission.verification_code

    def content(credential: Credential) -> dict[str, Any]:
        achievement = {
            "id": achievement_url(site, "b2i-adultes-2010/certification"), "type": ["Achievement"],
            "achievementType": "Certification",
            "name": "B2i Adultes : dossier de preuves prêt pour la certification",
            "description": "Un organisme de formation habilité a examiné le dossier de preuves et l'a jugé prêt "
                           "pour la certification B2i Adultes.",
            "criteria": {"narrative": "Environ 70 % des compétences de chaque domaine validées (D1 3/4, D2 3/4, "
                                      "D3 2/3, D4 3/4, D5 2/3), sur un dossier de preuves examiné par un "
                                      "évaluateur·trice habilité·e."},
            "inLanguage": "fr", "alignment": aligned,
        }
        subject = {"licenseNumber": code,
                   "narrative": f"Décision de {body.name}. Code de vérification : {code} (à saisir, avec le nom "
                                f"du titulaire, sur {site.url('/verifier')})."}
        return _content(site, credential, "B2i Adultes : prêt·e pour la certification",
                        f"Décision positive de {body.name}.", achievement, subject, [], submission.decided_at or now)

    return _award(session, site, kind=CredentialKind.CERTIFICATION, holder_id=submission.owner_id,
                  organisation=body, title=str(_l("Prêt ou prête pour la certification B2i Adultes")),
                  content_of=content,
                  now=now, unique={"submission_id": submission.id}, submission_id=submission.id,
                  ticket_id=_current_ticket_id(session, submission.owner_id))


def certification_credential(session: Session, submission_id: int, for_update: bool = False) -> Credential | None:
    query = sa.select(Credential).where(Credential.kind == CredentialKind.CERTIFICATION.value,
                                        Credential.submission_id == submission_id)
    return session.scalar(query.with_for_update() if for_update else query)


def withdraw_decision(session: Session, submission: Submission, by: User, now: dt.datetime, ip: str = "") -> bool:
    """The training body withdraws its positive decision: its credential is revoked and the verification code
    answers "retirée". False when there was nothing standing to withdraw."""
    credential = certification_credential(session, submission.id, for_update=True)  # two assessors at once: one
    if credential is None or credential.status == CredentialStatus.REVOKED.value:
        return False
    revoke(session, credential, RevocationReason.DECISION_WITHDRAWN, now, by)
    organisation = session.get(Organisation, submission.organisation_id)
    audit.record(session, "submission.decision_withdrawn", actor=by, organisation=organisation,
                 target_type="submission", target_id=submission.id, subject_user_id=submission.owner_id, ip=ip)
    return True


def decision_withdrawn_at(session: Session, submission_id: int) -> dt.datetime | None:
    credential = certification_credential(session, submission_id)
    if credential is not None and credential.revocation_reason == RevocationReason.DECISION_WITHDRAWN.value:
        return credential.revoked_at
    return None


# --- Deleting an account --------------------------------------------------------------------------


def account_deleted(session: Session, user_id: int, now: dt.datetime) -> int:
    """Before an account goes: every credential of the person is revoked, and what named her is erased (the
    rows stay, so that each bit of the status lists keeps saying "revoked")."""
    count = _revoke_all(session, sa.select(Credential).where(Credential.holder_id == user_id,
                                                            Credential.status != CredentialStatus.REVOKED.value),
                        RevocationReason.ACCOUNT_DELETED, now)
    session.execute(sa.update(Credential).where(Credential.holder_id == user_id)
                    .values(document=None, content=None))
    return count


# --- Reading --------------------------------------------------------------------------------------


def credentials_of(session: Session, holder_id: int) -> list[Credential]:
    return list(session.scalars(sa.select(Credential).where(Credential.holder_id == holder_id)
                                .options(joinedload(Credential.organisation))
                                .order_by(Credential.awarded_at.desc(), Credential.id.desc())))


def owned(session: Session, holder_id: int, credential_id: int) -> Credential | None:
    credential = session.scalar(sa.select(Credential).where(Credential.id == credential_id)
                                .options(joinedload(Credential.organisation)))
    return credential if credential is not None and credential.holder_id == holder_id else None


def listing(session: Session, username: str | None = None) -> list[tuple[Credential, str | None]]:
    query = (sa.select(Credential, User.username).outerjoin(User, User.id == Credential.holder_id)
             .options(joinedload(Credential.organisation)).order_by(Credential.id))
    if username is not None:
        query = query.where(User.username == username)
    return [(c, name) for c, name in session.execute(query).all()]


def document_json(credential: Credential) -> str:
    import json

    if credential.document is None:
        raise CredentialError(_l("Ce badge n'est pas encore signé."))
    return json.dumps(credential.document, ensure_ascii=False, indent=2)


def baked(credential: Credential, fmt: str) -> tuple[bytes | str, str]:
    """The credential as a file: its JSON, or a baked PNG or SVG picture; (content, mimetype)."""
    text = document_json(credential)
    issuer = credential.organisation.name
    if fmt == "json":
        return text, "application/ld+json"
    if fmt == "png":
        return baking.bake_png(images.badge_png(credential.kind, credential.title, issuer), text), "image/png"
    return baking.bake_svg(images.badge_svg(credential.kind, credential.title, issuer), text), "image/svg+xml"


def file_name(credential: Credential, fmt: str) -> str:
    return f"badge-{credential.kind}-{credential.id}.{fmt}"


# --- The status lists -----------------------------------------------------------------------------


def status_bits(session: Session, organisation_id: int) -> bytes:
    bits = bytearray(STATUS_LIST_SIZE // 8)
    for index in session.scalars(sa.select(Credential.status_index).where(
            Credential.organisation_id == organisation_id, Credential.status == CredentialStatus.REVOKED.value)):
        bits[index // 8] |= 0x80 >> (index % 8)
    return bytes(bits)


def status_list_credential(session: Session, site: Site, organisation: Organisation,
                           now: dt.datetime) -> dict[str, Any] | None:
    """The organisation's signed ``BitstringStatusListCredential``; None if it has no key to sign it."""
    try:
        key, private = _signing_key(session, site, organisation, now) if current_key(session, organisation.id) \
            else (None, None)
    except keystore.KeyUnavailable:
        return None
    if key is None:
        return None
    site_org = site_organisation(session)
    did = issuer_did(site, organisation, site_org.id if site_org else None)
    url = status_list_url(site, organisation)
    document = {
        "@context": [verify.VC2_CONTEXT], "id": url, "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": did, "validFrom": _iso(now),
        "credentialSubject": {"id": f"{url}#list", "type": "BitstringStatusList", "statusPurpose": "revocation",
                              "encodedList": verify.encode_status_list(status_bits(session, organisation.id))},
    }
    return proofs.sign(document, private, f"{did}#{key.public_key}", created=_iso(now))


# --- Checking, for /verifier ----------------------------------------------------------------------


def site_key_resolver(session: Session, site: Site) -> verify.KeyResolver:
    """Keys of this site's issuers, found in the database; a key claimed for one of them that is not theirs
    is refused (never taken from the credential itself)."""
    site_org = site_organisation(session)

    def resolve(method: str) -> verify.ResolvedKey:
        controller, _hash, fragment = method.partition("#")
        if not (controller == site.did or controller.startswith(site.did + ":")):
            raise verify.KeyNotFound("not a key of this site")
        row = session.execute(sa.select(IssuerKey, Organisation).join(
            Organisation, Organisation.id == IssuerKey.organisation_id).where(IssuerKey.public_key == fragment)).first()
        if row is None or issuer_did(site, row[1], site_org.id if site_org else None) != controller:
            raise verify.KeyRefused(f"{fragment} is not a key of {controller}")
        key, organisation = row
        return verify.ResolvedKey(proofs.public_key_from_multibase(key.public_key), controller, "site",
                                  retired=key.retired_at, organisation=organisation.name)

    return verify.default_key_resolver(resolve)


def site_status_resolver(session: Session, site: Site, now: dt.datetime) -> verify.StatusResolver:
    prefix = site.url("/emetteurs/")

    def resolve(url: str) -> dict[str, Any] | None:
        if not url.startswith(prefix) or not url.endswith("/statut.json"):
            return None
        code = url[len(prefix):-len("/statut.json")]
        organisation = session.scalar(sa.select(Organisation).where(Organisation.code == code))
        return status_list_credential(session, site, organisation, now) if organisation is not None else None

    return resolve


def check(session: Session, data: bytes | str, now: dt.datetime, site: Site | None = None) -> verify.Verdict:
    site = site or Site.current()
    return verify.check(data, resolve_key=site_key_resolver(session, site),
                        resolve_status=site_status_resolver(session, site, now), now=now)


def holder_matches(typed: str, first_name: str | None, last_name: str | None) -> bool:
    """The name typed at /verifier is the holder's: the last name, or first and last names, whatever the case,
    accents, hyphens and spaces (as certification bodies check a code with the holder's name)."""
    from portfolio.enrolment.services import fold

    def norm(text: str | None) -> str:
        return fold(text or "")

    said = norm(typed)
    if not said or not norm(last_name):
        return False
    return said in {norm(last_name), norm(f"{first_name} {last_name}"), norm(f"{last_name} {first_name}")}

