"""Test data factories: plain functions that add rows to a session and flush."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from competences.models import Assessment, Competence, Level, Voice
from portfolio.auth import services as accounts
from portfolio.auth.models import Role, User
from portfolio.auth.passwords import _hasher
from portfolio.catalogue.models import Module
from portfolio.catalogue.scheme import load_scheme_config
from portfolio.enrolment.models import Attendance, AttendanceStatus, Enrolment, PathModule, WorkshopSession
from portfolio.orgs.models import Organisation, OrgKind
from portfolio.sharing.models import Submission, SubmissionStatus
from portfolio.tickets.models import Ticket, TicketStatus
from portfolio.tickets.reference import make_reference
from portfolio.timeutil import add_months

NOW = dt.datetime.now(dt.UTC)
PASSWORD = "une phrase de passe pour les tests"
# Hashed once, with the cheapest argon2id parameters (the test configuration's profile).
PASSWORD_HASH = _hasher("cheapest").hash(PASSWORD)
_sequence = itertools.count(1)

ROLE_ORG_KIND = {
    Role.BENEFICIARY: OrgKind.EPM,
    Role.ANIMATOR: OrgKind.EPM,
    Role.PRESCRIBER: OrgKind.PRESCRIBER,
    Role.ASSESSOR: OrgKind.TRAINING_BODY,
    Role.COORDINATOR: OrgKind.COORDINATION,
    Role.ADMIN: OrgKind.COORDINATION,
}


def _n() -> int:
    return next(_sequence)


def organisation(session: Session, kind: OrgKind = OrgKind.EPM, **fields: Any) -> Organisation:
    n = _n()
    values: dict[str, Any] = {
        "code": f"{kind.value}-{n}", "kind": kind.value, "name": f"{kind.value.title()} {n}",
        "address": f"{n} rue du Lot", "postcode": "46000", "city": "Cahors",
    }
    if kind is OrgKind.EPM:
        values["capacity"] = 6
    values.update(fields)
    org = Organisation(**values)
    session.add(org)
    session.flush()
    return org


def user(
    session: Session, role: Role | None = None, organisation_: Organisation | None = None, **fields: Any
) -> User:
    n = _n()
    values: dict[str, Any] = {"first_name": "Prénom", "last_name": f"Nom{n}"}
    values.update(fields)
    username = values.pop("username", f"{(role or 'user')}.{n}")
    active = values.pop("active", True)
    created = accounts.create_user(session, username, password_hash=PASSWORD_HASH, **values)
    created.active = active
    if role is not None:
        org = organisation_ or organisation(session, ROLE_ORG_KIND[role])
        accounts.add_membership(session, created, org, role)
    session.flush()
    return created


def modules(session: Session) -> list[Module]:
    return list(session.scalars(select(Module).order_by(Module.number)))


def ticket(
    session: Session, prescriber: Organisation | None = None, issued_on: dt.date | None = None, **fields: Any
) -> Ticket:
    scheme = load_scheme_config(session, "ticket-net-lot")
    prescriber = prescriber or organisation(session, OrgKind.PRESCRIBER)
    issued_on = issued_on or dt.date.today()
    n = _n()
    values: dict[str, Any] = {
        "reference": make_reference("46", issued_on.year, 900_000 + n),
        "prescriber_id": prescriber.id,
        "last_name": f"Nom{n}", "first_name": "Prénom", "birth_date": dt.date(1960, 1, 1), "commune": "Cahors",
        "public_category": "seniors", "issued_on": issued_on,
        "expires_on": add_months(issued_on, scheme.validity_months) - dt.timedelta(days=1),
        "value_cents": scheme.value_cents, "hours": scheme.hours, "sessions": scheme.sessions,
        "session_minutes": scheme.session_minutes, "status": TicketStatus.ISSUED.value,
    }
    values.update(fields)
    created = Ticket(**values)
    session.add(created)
    session.flush()
    return created


def enrolment(session: Session, ticket_: Ticket, epm: Organisation, learner: User | None = None) -> Enrolment:
    created = Enrolment(ticket_id=ticket_.id, epm_id=epm.id, learner_id=learner.id if learner else None)
    ticket_.status = TicketStatus.REGISTERED.value
    if learner is not None:
        ticket_.beneficiary_id = learner.id
    session.add(created)
    session.flush()
    return created


def workshop(
    session: Session, epm: Organisation, starts_at: dt.datetime, module: Module | None = None, **fields: Any
) -> WorkshopSession:
    created = WorkshopSession(
        epm_id=epm.id, module_id=(module or modules(session)[0]).id, starts_at=starts_at, **fields
    )
    session.add(created)
    session.flush()
    return created


def attend(
    session: Session, workshop_: WorkshopSession, enrolment_: Enrolment,
    status: AttendanceStatus = AttendanceStatus.PRESENT, **fields: Any,
) -> Attendance:
    created = Attendance(session_id=workshop_.id, enrolment_id=enrolment_.id, status=status.value, **fields)
    session.add(created)
    session.flush()
    return created


def path(session: Session, enrolment_: Enrolment, module_numbers: list[int]) -> None:
    by_number = {m.number: m for m in modules(session)}
    for position, number in enumerate(module_numbers):
        session.add(PathModule(enrolment_id=enrolment_.id, module_id=by_number[number].id, position=position))
    session.flush()


def competence(session: Session, code: str) -> Competence:
    from competences.loader import B2I_CODE, latest_framework

    framework = latest_framework(session, B2I_CODE)
    assert framework is not None
    return session.scalars(
        select(Competence).where(Competence.framework_id == framework.id, Competence.code == code)).one()


def assessment(session: Session, learner: User, code: str, voice: Voice, level: Level,
               created_at: dt.datetime | None = None) -> Assessment:
    values: dict[str, Any] = {"learner_id": learner.id, "competence_id": competence(session, code).id,
                              "voice": voice.value, "level": level.value}
    if created_at is not None:
        values["created_at"] = created_at
    created = Assessment(**values)
    session.add(created)
    session.flush()
    return created


def submission(session: Session, owner: User, training_body: Organisation | None = None,
               status: SubmissionStatus = SubmissionStatus.SENT, decision: str | None = None) -> Submission:
    body = training_body or organisation(session, OrgKind.TRAINING_BODY)
    created = Submission(owner_id=owner.id, organisation_id=body.id, snapshot={}, status=status.value,
                         decision=decision)
    session.add(created)
    session.flush()
    return created


def scheme(session: Session) -> Any:
    return load_scheme_config(session, "ticket-net-lot")


def epm(session: Session, offering: range | list[int] = range(1, 13), **fields: Any) -> Organisation:
    """An EPM offering the modules numbered ``offering``."""
    wanted = set(offering)
    return organisation(session, OrgKind.EPM, modules=[m for m in modules(session) if m.number in wanted], **fields)
# --- The journal -------------------------------------------------------------------------------


def jpeg_bytes(width: int = 64, height: int = 48, color: tuple[int, int, int] = (200, 120, 40)) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "JPEG")
    return out.getvalue()


def journal_entry(session: Session, owner: User, **fields: Any) -> Any:
    from portfolio.journal.models import EntryStatus, JournalEntry, Visibility
    from portfolio.markdown import render_markdown

    n = _n()
    body = fields.pop("body_md", f"Texte numéro {n}")
    values: dict[str, Any] = {
        "owner_id": owner.id, "title": f"Texte {n}", "body_md": body, "body_html": render_markdown(body),
        "entry_date": dt.date.today(), "status": EntryStatus.PUBLISHED.value, "visibility": Visibility.PRIVATE.value,
    }
    values.update(fields)
    entry = JournalEntry(**values)
    session.add(entry)
    session.flush()
    return entry


def photo(session: Session, storage: Any, entry: Any, alt_text: str = "Une photo") -> Any:
    from portfolio.journal import services
    from portfolio.journal.photos import process_photo

    return services.add_photo(session, storage, entry, process_photo(jpeg_bytes(), 10 * 1024 * 1024), alt_text)


def readable_journal_for(session: Session, reader: User, role: Role) -> tuple[User, Any]:
    """A learner and a published entry that ``reader`` may read in that role (own, EPM, or consent)."""
    from portfolio.journal.models import Visibility
    from portfolio.sharing.models import Consent, ConsentScope

    if role is Role.BENEFICIARY:
        return reader, journal_entry(session, reader)
    learner = user(session, Role.BENEFICIARY)
    org = reader.memberships[0].organisation
    if role is Role.ANIMATOR:
        enrolment(session, ticket(session), org, learner)
        return learner, journal_entry(session, learner, visibility=Visibility.EPM.value)
    session.add(Consent(owner_id=learner.id, organisation_id=org.id, scope=ConsentScope.JOURNAL.value,
                        ends_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=30), text_hash="0" * 64))
    session.flush()
    return learner, journal_entry(session, learner, visibility=Visibility.CONSENTED.value)


def add_role(session: Session, user_: User, role: Role, organisation_: Organisation | None = None) -> None:
    """Give ``user_`` one more role (in a new organisation of the right kind unless one is given)."""
    accounts.add_membership(session, user_, organisation_ or organisation(session, ROLE_ORG_KIND[role]), role)
    session.flush()
    session.refresh(user_, ["memberships"])
