"""Registering the partner systems of an organisation (the coordination does it), and what the API gives."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, joinedload

from portfolio.api.models import ApiClient, digest
from portfolio.audit import services as audit
from portfolio.auth.models import User
from portfolio.orgs.models import Organisation, OrgKind
from portfolio.sharing import readiness
from portfolio.sharing.models import Submission, SubmissionStatus
from portfolio.sharing.services import record_reads

# Organisations that receive evidence files, hence may have a partner system reading them.
CLIENT_KINDS = (OrgKind.TRAINING_BODY.value,)


class ClientError(ValueError):
    """A registration that is refused; the message says why, in French."""


@dataclass(frozen=True)
class NewClient:
    client: ApiClient
    secret: str  # shown once, never stored


def clients(session: Session) -> list[ApiClient]:
    return list(session.scalars(sa.select(ApiClient).options(joinedload(ApiClient.organisation))
                                .order_by(ApiClient.revoked_at.is_not(None), ApiClient.created_at.desc())))


def load_client(session: Session, client_id: int) -> ApiClient | None:
    return session.scalar(sa.select(ApiClient).where(ApiClient.id == client_id)
                          .options(joinedload(ApiClient.organisation)))


def client_organisations(session: Session) -> list[Organisation]:
    return list(session.scalars(sa.select(Organisation).where(Organisation.kind.in_(CLIENT_KINDS),
                                                              Organisation.active.is_(True))
                                .order_by(Organisation.name)))


def register_client(session: Session, organisation_id: int, name: str, scopes: list[str], by: User,
                    allowed_scopes: list[str]) -> NewClient:
    organisation = session.get(Organisation, organisation_id)
    if organisation is None or organisation.kind not in CLIENT_KINDS:
        raise ClientError(_("Choisissez un organisme de formation de la liste."))
    if not name.strip():
        raise ClientError(_("Donnez un nom à ce logiciel, pour le reconnaître."))
    if not scopes or any(s not in allowed_scopes for s in scopes):
        raise ClientError(_("Choisissez au moins une permission de la liste."))
    secret = secrets.token_urlsafe(32)
    client = ApiClient(client_id=f"tn-{secrets.token_hex(8)}", secret_hash=digest(secret), name=name.strip(),
                       organisation_id=organisation.id, scope=" ".join(s for s in allowed_scopes if s in scopes),
                       created_by_id=by.id)
    session.add(client)
    session.flush()
    client.organisation = organisation
    audit.record(session, "api.client_registered", actor=by, organisation=organisation, target_type="api_client",
                 target_id=client.id, details={"client_id": client.client_id, "scope": client.scope})
    return NewClient(client, secret)


def revoke_client(session: Session, client: ApiClient, by: User, now: dt.datetime) -> None:
    if client.revoked_at is None:
        client.revoked_at = now
        session.flush()
        audit.record(session, "api.client_revoked", actor=by, organisation=client.organisation,
                     target_type="api_client", target_id=client.id, details={"client_id": client.client_id})


# --- What the API reads ---------------------------------------------------------------------------

VISIBLE = (SubmissionStatus.SENT.value, SubmissionStatus.DECIDED.value)


def submissions_page(session: Session, organisation_id: int, after: int | None, limit: int) -> list[Submission]:
    """The organisation's files (waiting or decided; a withdrawn file is the learner's again), by id."""
    query = (sa.select(Submission).where(Submission.organisation_id == organisation_id,
                                         Submission.status.in_(VISIBLE))
             .order_by(Submission.id).limit(limit))
    if after is not None:
        query = query.where(Submission.id > after)
    return list(session.scalars(query))


def submission_of(session: Session, organisation_id: int, submission_id: int) -> Submission | None:
    return session.scalar(sa.select(Submission).where(
        Submission.id == submission_id, Submission.organisation_id == organisation_id,
        Submission.status.in_(VISIBLE)))


def summary(record: readiness.Candidate, url: str) -> dict[str, Any]:
    s = record.submission
    return {
        "id": s.id, "url": url, "status": s.status, "sent_at": s.sent_at.isoformat(), "decision": s.decision,
        "decided_at": s.decided_at.isoformat() if s.decided_at else None, "verification_code": s.verification_code,
        "learner": {"first_name": record.first_name, "last_name": record.last_name},
        "ticket_reference": record.ticket_reference, "epm": record.epm, "hours_attended": record.hours,
        "ready": record.ready,
    }


def audit_reads(session: Session, client: ApiClient, read: list[Submission], ip: str) -> None:
    """Every file a partner system read, one event each (the owner sees it on "Qui a consulté")."""
    record_reads(session, [s.owner_id for s in read], "api.submission_read", actor=None, actor_name=client.name,
                 organisation=client.organisation, target_type="submission", target_ids=[s.id for s in read],
                 details={"client_id": client.client_id}, ip=ip)
