"""Ticket rules: issuing, finding a ticket by its reference, status as people see it, hours used,
tickets about to expire, the prescriber's list and the CSV export."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portfolio.auth.models import User
from portfolio.catalogue.scheme import Scheme
from portfolio.csvfile import csv_bytes
from portfolio.db import utcnow
from portfolio.enrolment.models import Attendance, AttendanceStatus, Enrolment, WorkshopSession
from portfolio.orgs.models import Organisation, OrgKind
from portfolio.tickets import reference
from portfolio.tickets.models import Ticket, TicketSerial, TicketStatus
from portfolio.timeutil import add_months
from portfolio.unstorable import unstorable_problem

DEPARTMENT = "46"  # the Lot
EXPIRY_NOTICE_DAYS = 30


class TicketRefused(Exception):
    """A rule refused the action; ``message`` says why, in plain French."""

    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


# --- Status and hours -------------------------------------------------------------------------------


def effective_status_expr(today: dt.date) -> sa.ColumnElement[str]:
    """SQL for ``Ticket.effective_status(today)``: unfinished tickets past their date are expired."""
    return sa.case(
        (Ticket.status.in_([TicketStatus.COMPLETED.value, TicketStatus.CANCELLED.value]), Ticket.status),
        (Ticket.expires_on < today, sa.literal(TicketStatus.EXPIRED.value)),
        else_=Ticket.status,
    )


def status_counts(session: Session, today: dt.date, prescriber_id: int | None = None) -> dict[TicketStatus, int]:
    """How many tickets are in each status (every status present, zero included)."""
    status = effective_status_expr(today).label("status")
    query = sa.select(status, sa.func.count(Ticket.id)).group_by(status)
    if prescriber_id is not None:
        query = query.where(Ticket.prescriber_id == prescriber_id)
    counts = {s: 0 for s in TicketStatus}
    for value, count in session.execute(query):
        counts[TicketStatus(value)] = count
    return counts


def minutes_used(session: Session, ticket_ids: list[int]) -> dict[int, int]:
    """Minutes of workshops attended (present) per ticket, over all its enrolments."""
    return {ticket_id: used.minutes for ticket_id, used in ledger(session, ticket_ids).items()}


@dataclass(frozen=True)
class Ledger:
    """What a ticket has used: present sessions and their minutes."""

    sessions: int = 0
    minutes: int = 0

    @property
    def hours(self) -> float:
        return self.minutes / 60


def ledger(session: Session, ticket_ids: Sequence[int]) -> dict[int, Ledger]:
    """Present sessions and minutes per ticket, over all its enrolments (one query)."""
    if not ticket_ids:
        return {}
    query = (
        sa.select(Enrolment.ticket_id, sa.func.count(Attendance.id), sa.func.sum(WorkshopSession.duration_minutes))
        .join(Attendance, Attendance.enrolment_id == Enrolment.id)
        .join(WorkshopSession, WorkshopSession.id == Attendance.session_id)
        .where(Enrolment.ticket_id.in_(ticket_ids), Attendance.status == AttendanceStatus.PRESENT.value)
        .group_by(Enrolment.ticket_id)
    )
    used = {ticket_id: Ledger() for ticket_id in ticket_ids}
    used.update({ticket_id: Ledger(int(count), int(total or 0)) for ticket_id, count, total in session.execute(query)})
    return used


# --- Issuing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Holder:
    """The beneficiary named on a ticket."""

    last_name: str
    first_name: str
    birth_date: dt.date
    commune: str
    public_category: str
    phone: str = ""
    email: str = ""


_FRENCH_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


def parse_date(text: str) -> dt.date | None:
    """A date as people type it: 14/03/1951, 14-03-1951, 14.03.1951 or 1951-03-14."""
    french = _FRENCH_DATE.match(text.strip())
    if french:  # the usual case, without strptime (a spreadsheet may have 100 000 of them)
        try:
            return dt.date(int(french[3]), int(french[2]), int(french[1]))
        except ValueError:
            return None
    for layout in ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text.strip(), layout).date()
        except ValueError:
            continue
    return None


NAME_LENGTH = 100
PHONE_LENGTH = 30
EMAIL_LENGTH = 200
_PHONE = re.compile(r"^[0-9 +().-]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def make_holder(
    last: str, first: str, born: str | dt.date, commune: str, public_category: str, phone: str, email: str,
    today: dt.date,
) -> Holder:
    """The rules for the person named on a ticket, wherever they were typed (a batch, a spreadsheet):
    the holder, or ``TicketRefused`` saying why (without the line, which the caller knows)."""
    last, first, commune, phone, email = (v.strip() for v in (last, first, commune, phone, email))
    for value in (last, first, born if isinstance(born, str) else "", commune, phone, email):
        if (problem := unstorable_problem(value)) is not None:
            raise TicketRefused(problem)
    if not (last and first and born and commune):
        raise TicketRefused(_l("il faut au moins le nom, le prénom, la date de naissance et la commune."))
    birth = born if isinstance(born, dt.date) else parse_date(born)
    if birth is None or not dt.date(1900, 1, 1) <= birth <= today:
        raise TicketRefused(_l("« %(text)s » n'est pas une date de naissance (JJ/MM/AAAA).", text=born))
    for value in (last, first, commune):
        if len(value) > NAME_LENGTH:
            raise TicketRefused(_l("« %(text)s… » est trop long (%(max)s caractères au plus).",
                                   text=value[:30], max=NAME_LENGTH))
    if phone and (len(phone) > PHONE_LENGTH or not _PHONE.match(phone)):
        raise TicketRefused(_l("« %(text)s » n'est pas un numéro de téléphone.", text=phone[:40]))
    if email and (len(email) > EMAIL_LENGTH or not _EMAIL.match(email)):
        raise TicketRefused(_l("« %(text)s » n'est pas une adresse électronique.", text=email[:60]))
    return Holder(last, first, birth, commune, public_category, phone, email)


def line_problem(line: int, reason: object) -> str:
    return str(_l("Ligne %(line)s : %(reason)s", line=line, reason=reason))


def parse_holders(text: str, public_category: str, today: dt.date) -> tuple[list[Holder], list[str]]:
    """A batch typed or pasted one person a line: ``Nom ; Prénom ; date de naissance ; commune ;
    téléphone ; courriel`` (the last two optional). Returns the holders, or the problems by line."""
    holders: list[Holder] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.replace("\t", ";").split(";")]
        parts += [""] * (6 - len(parts))
        if len(parts) > 6 and any(parts[6:]):
            problems.append(line_problem(number, _l("trop de colonnes (6 au plus, séparées par des points-virgules).")))
            continue
        last, first, born, commune, phone, email = parts[:6]
        try:
            holders.append(make_holder(last, first, born, commune, public_category, phone, email, today))
        except TicketRefused as refused:
            problems.append(line_problem(number, refused.message))
    if not holders and not problems:
        problems.append(str(_l("Écrivez au moins une personne, une par ligne.")))
    return holders, problems


# --- Duplicates ---------------------------------------------------------------------------------------

ACTIVE_STATUSES = (TicketStatus.ISSUED.value, TicketStatus.REGISTERED.value, TicketStatus.IN_PROGRESS.value)
IdentityKey = tuple[str, str, dt.date]


_NOT_LETTERS = re.compile(r"[\W_]+")


def _folded(text: str) -> str:
    """Lower case, without accents, spaces, hyphens or apostrophes: « Jean-Pierre » = « jean pierre »."""
    return _NOT_LETTERS.sub("", unicodedata.normalize("NFKD", text.casefold()))


def identity_key(last_name: str, first_name: str, birth_date: dt.date) -> IdentityKey:
    """Two tickets name the same person when surname, first name and birth date match this way."""
    return _folded(last_name), _folded(first_name), birth_date


def holders_with_active_ticket(session: Session, holders: Sequence[Holder], today: dt.date) -> set[IdentityKey]:
    """The identities among ``holders`` that already hold a ticket still in use (issued, registered or in
    progress, and not past its date), whoever issued it. One query per 500 birth dates."""
    wanted = {identity_key(h.last_name, h.first_name, h.birth_date) for h in holders}
    dates = sorted({key[2] for key in wanted})
    found: set[IdentityKey] = set()
    for start in range(0, len(dates), 500):
        rows = session.execute(
            sa.select(Ticket.last_name, Ticket.first_name, Ticket.birth_date).where(
                Ticket.birth_date.in_(dates[start:start + 500]), Ticket.status.in_(ACTIVE_STATUSES),
                Ticket.expires_on >= today)
        )
        found.update(key for key in (identity_key(*row) for row in rows) if key in wanted)
    return found


def active_ticket_problems(session: Session, holders: Sequence[Holder], today: dt.date) -> list[str]:
    """A French sentence per holder who already holds a ticket still in use: nobody gets two."""
    taken = holders_with_active_ticket(session, holders, today)
    problems = []
    for holder in holders:
        if identity_key(holder.last_name, holder.first_name, holder.birth_date) in taken:
            name = " ".join(part for part in (holder.first_name.strip(), holder.last_name.strip()) if part)
            problems.append(str(_l("%(name)s (né·e le %(date)s) a déjà un Ticket Net en cours de validité : on ne "
                                   "peut pas en émettre un second.", name=name,
                                   date=holder.birth_date.strftime("%d/%m/%Y"))))
    return problems


def allocate_serials(session: Session, department: str, year: int, count: int) -> range:
    """The next ``count`` serial numbers of (département, year), handed out atomically: the counter
    row is created if missing, then moved on by one ``UPDATE ... RETURNING`` that locks it."""
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(TicketSerial)
    session.execute(insert.values(department=department, year=year, last_serial=0).on_conflict_do_nothing())
    last = session.execute(
        sa.update(TicketSerial)
        .where(TicketSerial.department == department, TicketSerial.year == year)
        .values(last_serial=TicketSerial.last_serial + count)
        .returning(TicketSerial.last_serial)
    ).scalar_one()
    if last > 999_999:
        raise TicketRefused(_l("Plus aucun numéro de ticket libre pour cette année."))
    return range(last - count + 1, last + 1)


def _ticket_rows(
    session: Session, scheme: Scheme, prescriber: Organisation, holders: Sequence[Holder], issued_on: dt.date,
    issued_by: User | None, department: str,
) -> list[dict[str, object]]:
    """The checks of issuing, then one row of values per holder, with serials reserved in one step."""
    if prescriber.kind != OrgKind.PRESCRIBER.value:
        raise TicketRefused(_l("Seul un prescripteur peut émettre des tickets."))
    if not prescriber.active:
        raise TicketRefused(_l("%(org)s est désactivé : il n'émet plus de tickets. Voyez avec la coordination.",
                               org=prescriber.name))
    categories = scheme.public_categories
    for holder in holders:
        if holder.public_category not in categories:
            raise TicketRefused(_l("Catégorie de public inconnue : %(code)s", code=holder.public_category))
    if not holders:
        return []
    serials = allocate_serials(session, department, issued_on.year, len(holders))
    expires_on = add_months(issued_on, scheme.validity_months) - dt.timedelta(days=1)
    now = utcnow()
    return [
        {
            "reference": reference.make_reference(department, issued_on.year, serial),
            "prescriber_id": prescriber.id,
            "issued_by_id": issued_by.id if issued_by is not None else None,
            "last_name": holder.last_name.strip(), "first_name": holder.first_name.strip(),
            "birth_date": holder.birth_date, "commune": holder.commune.strip(),
            "phone": holder.phone.strip(), "email": holder.email.strip(), "public_category": holder.public_category,
            "issued_on": issued_on, "expires_on": expires_on,
            "value_cents": scheme.value_cents, "hours": scheme.hours, "sessions": scheme.sessions,
            "session_minutes": scheme.session_minutes, "status": TicketStatus.ISSUED.value, "created_at": now,
        }
        for holder, serial in zip(holders, serials, strict=True)
    ]


def issue_tickets(
    session: Session,
    scheme: Scheme,
    prescriber: Organisation,
    holders: Sequence[Holder],
    issued_on: dt.date,
    issued_by: User | None = None,
    department: str = DEPARTMENT,
) -> list[Ticket]:
    """Issue one ticket per holder, with the scheme's current terms printed on it."""
    tickets = [Ticket(**row) for row in _ticket_rows(session, scheme, prescriber, holders, issued_on, issued_by,
                                                     department)]
    session.add_all(tickets)
    session.flush()
    return tickets


BULK_CHUNK = 5_000


def issue_tickets_bulk(
    session: Session,
    scheme: Scheme,
    prescriber: Organisation,
    holders: Sequence[Holder],
    issued_on: dt.date,
    issued_by: User | None = None,
    department: str = DEPARTMENT,
    progress: Callable[[int], None] | None = None,
) -> list[str]:
    """``issue_tickets`` for thousands of holders (a spreadsheet): the same checks and serials, the rows
    inserted by chunks without building ORM objects. Returns the references, in the holders' order;
    ``progress(n)`` is called after each chunk with the number of rows just written."""
    rows = _ticket_rows(session, scheme, prescriber, holders, issued_on, issued_by, department)
    for start in range(0, len(rows), BULK_CHUNK):
        chunk = rows[start:start + BULK_CHUNK]
        session.execute(sa.insert(Ticket.__table__), chunk)  # Core: no ORM bookkeeping per row
        if progress is not None:
            progress(len(chunk))
    return [str(row["reference"]) for row in rows]


def cancel_ticket(session: Session, ticket: Ticket, today: dt.date, fraud: bool = False) -> None:
    """A prescriber withdraws a ticket nobody has used yet; a ticket found to be used by fraud (someone else
    than its holder, a forged one) is cancelled whatever its use, and the credentials earned with it are
    revoked."""
    status = ticket.effective_status(today)
    if status is TicketStatus.CANCELLED:
        return
    if not fraud and (status not in (TicketStatus.ISSUED, TicketStatus.REGISTERED)
                      or ledger(session, [ticket.id])[ticket.id].sessions):
        raise TicketRefused(_l("Ce ticket a déjà servi : il ne peut plus être annulé."))
    ticket.status = TicketStatus.CANCELLED.value
    ticket.cancelled_at = utcnow()
    session.execute(
        sa.update(Enrolment).where(Enrolment.ticket_id == ticket.id, Enrolment.active.is_(True))
        .values(active=False, ended_at=utcnow())
    )
    session.flush()
    if fraud:
        from portfolio.credentials import services as credentials

        credentials.ticket_cancelled_for_fraud(session, ticket, utcnow())


# --- Finding a ticket by its reference ----------------------------------------------------------------

MALFORMED = _l("Ce numéro n'a pas la forme d'un numéro de Ticket Net (par exemple TN46-2026-004217-K).")
MISTYPED = _l("Ce numéro contient une erreur de frappe : vérifiez le caractère de contrôle (la lettre à la fin) "
              "et chaque chiffre.")
UNKNOWN = _l("Aucun ticket ne porte ce numéro.")


def find_by_reference(session: Session, text: str, *, for_update: bool = False) -> Ticket:
    """The ticket with this reference, or ``TicketRefused`` saying why not (malformed, mistyped, unknown).
    ``for_update`` locks its row until the end of the transaction (PostgreSQL)."""
    try:
        parsed = reference.parse(text)
    except reference.CheckCharacterMismatch:
        raise TicketRefused(MISTYPED) from None
    except reference.MalformedReference:
        raise TicketRefused(MALFORMED) from None
    query = sa.select(Ticket).where(Ticket.reference == str(parsed))
    if for_update:
        query = query.with_for_update()
    ticket = session.scalar(query)
    if ticket is None:
        raise TicketRefused(UNKNOWN)
    return ticket


STATUS_LABELS = {
    TicketStatus.ISSUED: _l("Émis"),
    TicketStatus.REGISTERED: _l("Inscrit dans un EPM"),
    TicketStatus.IN_PROGRESS: _l("En cours"),
    TicketStatus.COMPLETED: _l("Terminé"),
    TicketStatus.EXPIRED: _l("Expiré"),
    TicketStatus.CANCELLED: _l("Annulé"),
}


# --- Lists ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketRow:
    ticket: Ticket
    status: TicketStatus
    used: Ledger


def _rows(session: Session, tickets: list[Ticket], today: dt.date) -> list[TicketRow]:
    used = ledger(session, [t.id for t in tickets])
    return [TicketRow(t, t.effective_status(today), used[t.id]) for t in tickets]


def list_tickets(
    session: Session,
    today: dt.date,
    prescriber_ids: Iterable[int] | None = None,
    status: TicketStatus | None = None,
    search: str = "",
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[TicketRow]]:
    """A page of tickets, newest first, with their status and hours used (three queries)."""
    conditions = []
    if prescriber_ids is not None:
        conditions.append(Ticket.prescriber_id.in_(list(prescriber_ids)))
    if status is not None:
        conditions.append(effective_status_expr(today) == status.value)
    words = search.strip()
    if words:
        like = f"%{words.lower()}%"
        conditions.append(sa.or_(*(sa.func.lower(column).like(like)
                                   for column in (Ticket.last_name, Ticket.first_name, Ticket.reference))))
    total = session.scalar(sa.select(sa.func.count(Ticket.id)).where(*conditions)) or 0
    tickets = list(session.scalars(
        sa.select(Ticket).where(*conditions).order_by(Ticket.issued_on.desc(), Ticket.id.desc())
        .limit(limit).offset(offset)
    ))
    return total, _rows(session, tickets, today)


def expiring_soon(
    session: Session,
    today: dt.date,
    *,
    prescriber_ids: Iterable[int] | None = None,
    epm_ids: Iterable[int] | None = None,
    days: int = EXPIRY_NOTICE_DAYS,
) -> list[TicketRow]:
    """Unfinished tickets whose last valid day falls within ``days`` days, soonest first."""
    query = sa.select(Ticket).where(
        Ticket.status.in_([TicketStatus.ISSUED.value, TicketStatus.REGISTERED.value, TicketStatus.IN_PROGRESS.value]),
        Ticket.expires_on >= today,
        Ticket.expires_on <= today + dt.timedelta(days=days),
    )
    if prescriber_ids is not None:
        query = query.where(Ticket.prescriber_id.in_(list(prescriber_ids)))
    if epm_ids is not None:
        query = query.join(Enrolment, Enrolment.ticket_id == Ticket.id).where(
            Enrolment.epm_id.in_(list(epm_ids)), Enrolment.active.is_(True))
    tickets = list(session.scalars(query.order_by(Ticket.expires_on, Ticket.id)))
    return _rows(session, tickets, today)


def participating_epms(session: Session) -> list[Organisation]:
    return list(session.scalars(
        sa.select(Organisation).where(Organisation.kind == OrgKind.EPM.value, Organisation.active.is_(True))
        .order_by(Organisation.city, Organisation.name)
    ))


# --- Export -----------------------------------------------------------------------------------------

EXPORT_COLUMNS = ("reference", "prescripteur", "nom", "prenom", "date_naissance", "commune", "categorie",
                  "emis_le", "expire_le", "etat", "seances_presentes", "heures_utilisees", "epm")


def export_csv(session: Session, today: dt.date, prescriber: Organisation | None = None) -> bytes:
    """Every ticket (of one prescriber, or all) as CSV (``portfolio.csvfile``: BOM, ``;``, formula-safe):
    identity, dates, status, hours used, EPM."""
    query = (
        sa.select(Ticket, Organisation.code, effective_status_expr(today))
        .join(Organisation, Organisation.id == Ticket.prescriber_id)
        .order_by(Ticket.reference)
    )
    if prescriber is not None:
        query = query.where(Ticket.prescriber_id == prescriber.id)
    rows = session.execute(query).all()
    used = ledger(session, [ticket.id for ticket, _code, _status in rows])
    epm_names = dict(session.execute(
        sa.select(Enrolment.ticket_id, Organisation.name)
        .join(Organisation, Organisation.id == Enrolment.epm_id)
        .where(Enrolment.active.is_(True))
    ).all())
    return csv_bytes(EXPORT_COLUMNS, (
        [ticket.reference, code, ticket.last_name, ticket.first_name, ticket.birth_date.isoformat(),
         ticket.commune, ticket.public_category, ticket.issued_on.isoformat(), ticket.expires_on.isoformat(),
         status, used[ticket.id].sessions, f"{used[ticket.id].hours:g}", epm_names.get(ticket.id, "")]
        for ticket, code, status in rows))
