"""``ticketnet demo --scale N``: N beneficiaries with realistic histories, for benchmarks.

Deterministic for a given ``--seed`` and day. Learners come in cohorts of five (a workshop group)
at EPMs of about fifty learners; each learner has a ticket, an enrolment, a positioning interview,
a path of ten modules, the workshops of their cohort with attendance, 20 assessments and 10 journal
entries. Rows are written with bulk inserts of explicit ids, in chunks, so that 100 000 learners
take minutes.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from competences.loader import B2I_CODE, latest_framework
from competences.models import Assessment, Competence, Level, Voice
from portfolio.auth.models import Membership, Role, User
from portfolio.catalogue.models import Module
from portfolio.catalogue.scheme import load_scheme_config
from portfolio.db import Base
from portfolio.demo import ensure_organisations
from portfolio.enrolment.models import (
    Attendance,
    AttendanceStatus,
    Enrolment,
    PathModule,
    PositioningInterview,
    WorkshopSession,
)
from portfolio.journal.models import EntryStatus, JournalEntry, Visibility
from portfolio.markdown import render_markdown
from portfolio.orgs.models import Organisation, OrgKind, epm_module_offer
from portfolio.tickets.models import Ticket, TicketStatus
from portfolio.tickets.reference import make_reference
from portfolio.timeutil import LOCAL_TZ, add_months

COHORT = 5
LEARNERS_PER_EPM = 50
ENTRIES_PER_LEARNER = 10
ASSESSMENTS_PER_LEARNER = 20
SELF_ASSESSMENTS = 5
CHUNK_COHORTS = 200  # 1 000 learners per round of inserts

FIRST_NAMES = ("Marie Jean Pierre Monique Françoise Michel Nathalie Sylvie Patrick Christine Alain Isabelle "
               "Philippe Catherine Bernard Martine Daniel Sandrine Gérard Nicole Fatima Karim Léa Lucas").split()
LAST_NAMES = ("Martin Bernard Delmas Lacombe Vidal Pons Roques Lafon Carrière Fabre Bouscarel Cayla Lacoste "
              "Mouly Rouquié Salvat Teulière Vayssié Bonnet Girard Moreau Laborie Cazals Bessières").split()
COMMUNES = ("Cahors Figeac Gourdon Souillac Gramat Saint-Céré Prayssac Puy-l'Évêque Lalbenque Biars-sur-Cère "
            "Bretenoux Castelnau-Montratier Luzech Martel Lacapelle-Marival Labastide-Murat").split()
ENTRY_TEXTS = (
    ("Ce que j'ai appris",
     "Aujourd'hui j'ai appris à **enregistrer** un fichier.\n\n- ouvrir\n- modifier\n- enregistrer"),
    ("Mon courriel", "J'ai envoyé mon premier courriel à ma famille. C'était *facile* avec l'aide de l'animateur."),
    ("Recherche", "J'ai cherché les horaires du marché sur [le site de la mairie](https://www.lot.fr)."),
    ("Photos", "J'ai rangé mes photos dans des dossiers : Famille, Jardin, Vacances."),
    ("Démarches", "J'ai créé mon compte sur le site de la CAF. Il faut bien noter son mot de passe !"),
    ("Traitement de texte", "J'ai écrit une invitation pour l'anniversaire de mon petit-fils, avec une image."),
    ("À refaire", "Je n'ai pas compris comment joindre un fichier. Je redemande la semaine prochaine."),
    ("Sécurité", "Un courriel bizarre demandait mon code bancaire : je ne réponds pas et je le supprime."),
)


@dataclass
class ScaleReport:
    learners: int = 0
    epms: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    skipped: bool = False


class _Ids:
    """Explicit primary keys, continuing after what the tables already hold."""

    def __init__(self, session: Session, models: list[type[Base]]) -> None:
        self._next = {
            m.__tablename__: (session.scalar(sa.select(sa.func.max(m.id))) or 0) + 1  # type: ignore[attr-defined]
            for m in models
        }

    def take(self, table: str) -> int:
        value = self._next[table]
        self._next[table] = value + 1
        return value


def scale_marker(seed: int) -> str:
    return f"apprenant.s{seed}.1"


def add_scale(
    session: Session,
    n: int,
    seed: int,
    today: dt.date,
    password_hash: str,
    progress: Callable[[int], None] | None = None,
) -> ScaleReport:
    if n <= 0:
        return ScaleReport()
    if session.scalar(sa.select(User.id).where(User.username == scale_marker(seed))) is not None:
        return ScaleReport(skipped=True)
    rng = random.Random(seed)
    orgs = ensure_organisations(session)
    scheme = load_scheme_config(session, "ticket-net-lot")
    framework = latest_framework(session, B2I_CODE)
    if framework is None:
        raise RuntimeError("run 'ticketnet init' first: the B2i Adultes framework is missing")
    competence_ids = list(session.scalars(
        sa.select(Competence.id).where(Competence.framework_id == framework.id).order_by(Competence.id)))
    modules = list(session.scalars(sa.select(Module.id).order_by(Module.number)))
    prescribers = [orgs["cg46"].id, orgs["caf46"].id]
    bodies = [(title, body, render_markdown(body)) for title, body in ENTRY_TEXTS]
    ids = _Ids(session, [Organisation, User, Membership, Ticket, Enrolment, PositioningInterview, PathModule,
                         WorkshopSession, Attendance, Assessment, JournalEntry])
    report = ScaleReport(learners=n)
    writer = _Writer(session, report)

    n_epm = math.ceil(n / LEARNERS_PER_EPM)
    epms: list[tuple[int, int, list[int]]] = []  # (epm id, animator id, modules offered)
    for k in range(1, n_epm + 1):
        epm_id, animator_id = ids.take("organisation"), ids.take("user_account")
        offered = sorted(rng.sample(modules, 12))
        city = rng.choice(COMMUNES)
        writer.add(Organisation, id=epm_id, kind=OrgKind.EPM.value, code=f"epm-s{seed}-{k:05d}",
                   name=f"EPM de {city} n°{k} (démo)", address=f"{k} place de la Mairie", postcode="46000",
                   city=city, phone="", email="", capacity=6, opening_slots="mardi matin, jeudi soir",
                   active=True, created_at=_utc(today - dt.timedelta(days=800)))
        writer.add_table(epm_module_offer, [{"organisation_id": epm_id, "module_id": m} for m in offered])
        writer.add(User, id=animator_id, username=f"animateur.s{seed}.{k}", first_name=rng.choice(FIRST_NAMES),
                   last_name=rng.choice(LAST_NAMES), email=None, password_hash=password_hash, locale=None,
                   active=True, session_version=1, created_at=_utc(today - dt.timedelta(days=800)),
                   last_login_at=None)
        writer.add(Membership, id=ids.take("membership"), user_id=animator_id, organisation_id=epm_id,
                   role=Role.ANIMATOR.value, created_at=_utc(today - dt.timedelta(days=800)))
        epms.append((epm_id, animator_id, offered))
    writer.flush()
    report.epms = n_epm

    learner_number = 0
    cohorts = math.ceil(n / COHORT)
    for cohort_index in range(cohorts):
        size = min(COHORT, n - learner_number)
        epm_id, animator_id, offered = epms[(cohort_index * COHORT) // LEARNERS_PER_EPM]
        _cohort(writer, ids, rng, scheme, today, password_hash, seed, learner_number, size,
                epm_id, animator_id, offered, prescribers, competence_ids, bodies)
        learner_number += size
        if (cohort_index + 1) % CHUNK_COHORTS == 0:
            writer.flush()
            if progress:
                progress(learner_number)
    writer.flush()
    if progress:
        progress(learner_number)
    _reset_sequences(session)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("ANALYZE"))  # the planner must know the tables grew a thousandfold
    return report


def _utc(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=LOCAL_TZ).astimezone(dt.UTC)


def _cohort(
    writer: _Writer, ids: _Ids, rng: random.Random, scheme: Any, today: dt.date, password_hash: str, seed: int,
    first_number: int, size: int, epm_id: int, animator_id: int, offered: list[int],
    prescribers: list[int], competence_ids: list[int], bodies: list[tuple[str, str, str]],
) -> None:
    age_days = rng.randint(20, 420)
    issued_on = today - dt.timedelta(days=age_days)
    expires_on = add_months(issued_on, scheme.validity_months) - dt.timedelta(days=1)
    interview_day = issued_on + dt.timedelta(days=rng.randint(5, 15))
    weeks_since = max((today - interview_day).days // 7, 0)
    done = min(scheme.sessions, weeks_since)
    if today > expires_on:
        status = TicketStatus.COMPLETED if done >= scheme.sessions else TicketStatus.IN_PROGRESS
    else:
        status = (TicketStatus.COMPLETED if done >= scheme.sessions else
                  TicketStatus.IN_PROGRESS if done else TicketStatus.REGISTERED)
    path = rng.sample(offered, scheme.modules_to_choose)
    upcoming = 0 if status is TicketStatus.COMPLETED or today > expires_on else min(2, scheme.sessions - done)

    workshop_ids = []
    for index in range(done + upcoming):
        day = interview_day + dt.timedelta(days=7 * (index + 1)) if index < done else (
            today + dt.timedelta(days=2 + 7 * (index - done)))
        workshop_id = ids.take("workshop_session")
        workshop_ids.append((workshop_id, index < done, day))
        writer.add(WorkshopSession, id=workshop_id, epm_id=epm_id, module_id=path[index], animator_id=animator_id,
                   starts_at=_utc(day, 9), duration_minutes=scheme.session_minutes, capacity=6, cancelled=False,
                   created_at=_utc(interview_day))

    for offset in range(size):
        number = first_number + offset + 1
        user_id, ticket_id, enrolment_id = ids.take("user_account"), ids.take("ticket"), ids.take("enrolment")
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        writer.add(User, id=user_id, username=f"apprenant.s{seed}.{number}", first_name=first, last_name=last,
                   email=None, password_hash=password_hash, locale=None, active=True, session_version=1,
                   created_at=_utc(interview_day), last_login_at=None)
        writer.add(Membership, id=ids.take("membership"), user_id=user_id, organisation_id=epm_id,
                   role=Role.BENEFICIARY.value, created_at=_utc(interview_day))
        writer.add(Ticket, id=ticket_id,
                   reference=_scale_reference(issued_on.year, seed, number),
                   prescriber_id=rng.choice(prescribers), issued_by_id=None, last_name=last, first_name=first,
                   birth_date=dt.date(rng.randint(1940, 1995), rng.randint(1, 12), rng.randint(1, 28)),
                   commune=rng.choice(COMMUNES), phone="", email="", public_category=rng.choice(
                       ("seniors", "minima-sociaux", "femmes-isolees", "salaries-peu-qualifies")),
                   issued_on=issued_on, expires_on=expires_on, value_cents=scheme.value_cents, hours=scheme.hours,
                   sessions=scheme.sessions, session_minutes=scheme.session_minutes, status=status.value,
                   cancelled_at=None, beneficiary_id=user_id, created_at=_utc(issued_on))
        writer.add(Enrolment, id=enrolment_id, ticket_id=ticket_id, epm_id=epm_id, learner_id=user_id,
                   registered_by_id=animator_id, registered_at=_utc(interview_day), active=True, ended_at=None)
        writer.add(PositioningInterview, id=ids.take("positioning_interview"), enrolment_id=enrolment_id,
                   held_on=interview_day, animator_id=animator_id, duration_minutes=30,
                   projects="Apprendre à utiliser internet pour mes démarches.", notes="",
                   created_at=_utc(interview_day))
        for position, module_id in enumerate(path):
            writer.add(PathModule, id=ids.take("path_module"), enrolment_id=enrolment_id, module_id=module_id,
                       position=position)
        for workshop_id, past, day in workshop_ids:
            mark = rng.random()
            attendance = (AttendanceStatus.EXPECTED if not past else AttendanceStatus.PRESENT if mark < 0.9 else
                          AttendanceStatus.EXCUSED if mark < 0.95 else AttendanceStatus.ABSENT)
            writer.add(Attendance, id=ids.take("attendance"), session_id=workshop_id, enrolment_id=enrolment_id,
                       status=attendance.value, recorded_by_id=animator_id if past else None,
                       recorded_at=_utc(day, 11) if past else None)
        past_sessions = [(w, day) for w, past, day in workshop_ids if past]
        for index in range(ASSESSMENTS_PER_LEARNER):
            if index < SELF_ASSESSMENTS:
                voice, session_id, when, assessor = Voice.SELF, None, _utc(interview_day), user_id
            else:
                session_id, day = past_sessions[index % len(past_sessions)] if past_sessions else (None, interview_day)
                voice, when, assessor = Voice.ANIMATOR, _utc(day, 11), animator_id
            writer.add(Assessment, id=ids.take("assessment"), learner_id=user_id,
                       competence_id=rng.choice(competence_ids), voice=voice.value,
                       level=rng.choice((Level.ACQUIRED, Level.IN_PROGRESS, Level.NOT_YET)).value,
                       assessor_id=assessor, session_id=session_id, comment="", created_at=when)
        span = max((today - interview_day).days, 1)
        for index in range(ENTRIES_PER_LEARNER):
            title, body_md, body_html = rng.choice(bodies)
            day = interview_day + dt.timedelta(days=(span * index) // ENTRIES_PER_LEARNER)
            published = rng.random() < 0.8
            when = _utc(day, 18)
            writer.add(JournalEntry, id=ids.take("journal_entry"), owner_id=user_id, title=title, body_md=body_md,
                       body_html=body_html, entry_date=day,
                       status=(EntryStatus.PUBLISHED if published else EntryStatus.DRAFT).value,
                       visibility=rng.choice((Visibility.PRIVATE, Visibility.EPM, Visibility.EPM)).value,
                       in_portfolio=published and index % 3 == 0, session_id=None, module_id=None,
                       created_at=when, updated_at=when,
                       published_at=when if published else None)


def _scale_reference(year: int, seed: int, number: int) -> str:
    # Scale tickets use a département code 9xx (from the seed) so that they never collide with real ones.
    return make_reference(f"9{seed % 100:02d}", year, number)


class _Writer:
    """Collects rows per table and writes them with one bulk insert per table, parents first."""

    ORDER = ("organisation", "epm_module_offer", "user_account", "membership", "ticket", "enrolment",
             "positioning_interview", "path_module", "workshop_session", "attendance", "assessment",
             "journal_entry")

    def __init__(self, session: Session, report: ScaleReport) -> None:
        self.session = session
        self.report = report
        self.pending: dict[str, tuple[sa.Table, list[dict[str, Any]]]] = {}

    def add(self, model: type[Base], **row: Any) -> None:
        table = model.__table__  # type: ignore[attr-defined]
        self.pending.setdefault(table.name, (table, []))[1].append(row)

    def add_table(self, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        self.pending.setdefault(table.name, (table, []))[1].extend(rows)

    def flush(self) -> None:
        for name in self.ORDER:
            table, rows = self.pending.pop(name, (None, []))
            if table is None or not rows:
                continue
            if self.session.get_bind().dialect.name == "postgresql":
                _copy(self.session, table, rows)
            else:
                for chunk in _chunks(rows, 5000):
                    self.session.execute(sa.insert(table), chunk)
            self.report.rows[name] = self.report.rows.get(name, 0) + len(rows)
        assert not self.pending, f"tables without an insert order: {sorted(self.pending)}"


def _copy(session: Session, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: stream the rows with COPY, several times faster than multi-row INSERTs.

    The rows go through the same connection as the session, inside its transaction; SQLAlchemy's
    column types are bypassed, so enums are written by value (the rows already hold ``.value``).
    """
    columns = list(rows[0])
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    names = ", ".join(f'"{c}"' for c in columns)
    with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def _chunks(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def _reset_sequences(session: Session) -> None:
    """PostgreSQL: move each id sequence past the explicit ids written above."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in Base.metadata.sorted_tables:
        if "id" in table.c and table.c.id.primary_key and table.c.id.autoincrement:
            session.execute(sa.text(  # table names from the metadata, not from input
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"))
