"""The coordinator's dashboard and the prescriber's outcome summary: each figure is one SQL aggregate.

Definitions (also shown on the pages):

- a ticket's status is its effective status (``expired`` computed from its date);
- a ticket belongs to the EPM of its latest enrolment; tickets never registered have no EPM;
- beneficiaries of a year: tickets issued that year, cancelled ones excepted (a ticket is nominative);
- hours used: present sessions of workshops that were not cancelled, at most the ticket's hours;
- a competence is validated for a learner when the latest judgement in the animator or assessor voice says
  "acquired" (the history is kept; the latest row by date, then id, is the current state);
- cost per completed ticket: what is owed to the EPMs so far (payment rule) plus the management,
  coordination and communication shares of every ticket issued (cancelled ones excepted), divided by the
  number of completed tickets.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from competences.loader import B2I_CODE, latest_framework
from competences.models import Assessment, Competence, FrameworkDomain, Level, Voice
from portfolio.catalogue.models import Module
from portfolio.catalogue.scheme import Scheme
from portfolio.enrolment.models import Enrolment, PathModule, WorkshopSession
from portfolio.orgs.models import Organisation
from portfolio.sharing.models import Decision, Submission, SubmissionStatus
from portfolio.stats.payments import PaymentRule, paid_to_date_cents
from portfolio.stats.sql import count_if, ticket_usage
from portfolio.tickets.models import Ticket, TicketStatus
from portfolio.tickets.services import effective_status_expr

STATUSES = tuple(TicketStatus)


@dataclass(frozen=True)
class Figures:
    """The ticket figures of one group (everything, a prescriber, an EPM, a public, a month, a year)."""

    key: str | None
    label: str
    counts: dict[TicketStatus, int]
    registered: int  # tickets registered at an EPM
    first_session: int  # tickets with at least one present session
    all_sessions: int  # tickets with all their sessions attended
    file_sent: int  # holders who sent an evidence file to a training body
    ready: int  # holders declared ready for certification
    minutes_used: int  # present minutes, at most each ticket's hours
    paid_cents: int  # owed to the EPMs so far (payment rule)
    beneficiaries: int  # tickets not cancelled
    engaged_cents: int  # value of the tickets not cancelled
    used_cents: int  # value of the hours used (a ticket's value times the share of its hours used)
    lost_minutes: int  # hours never used on expired tickets

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def completed(self) -> int:
        return self.counts[TicketStatus.COMPLETED]

    @property
    def average_hours(self) -> float | None:
        """Hours used per registered ticket."""
        return self.minutes_used / 60 / self.registered if self.registered else None

    @property
    def hours_used(self) -> float:
        return self.minutes_used / 60

    @property
    def hours_lost(self) -> float:
        return self.lost_minutes / 60

    @property
    def used_ratio(self) -> float:
        return self.used_cents / self.engaged_cents if self.engaged_cents else 0.0

    @property
    def steps(self) -> list[tuple[str, int]]:
        return [("issued", self.total), ("registered", self.registered), ("first_session", self.first_session),
                ("all_sessions", self.all_sessions), ("file_sent", self.file_sent), ("ready", self.ready)]


def _submission_flags() -> sa.Subquery:
    sent = Submission.status.in_([SubmissionStatus.SENT.value, SubmissionStatus.DECIDED.value])
    return (
        sa.select(
            Submission.owner_id,
            sa.func.max(sa.case((sent, 1), else_=0)).label("sent"),
            sa.func.max(sa.case((Submission.decision == Decision.READY.value, 1), else_=0)).label("ready"),
        )
        .group_by(Submission.owner_id)
        .subquery("submitted")
    )


def ticket_facts(today: dt.date, scheme: Scheme, rule: PaymentRule,
                 prescriber_ids: list[int] | None = None) -> sa.CTE:
    """One row per ticket with everything the figures group: used once per query, for every grouping."""
    usage = ticket_usage()
    files = _submission_flags()
    epm = (sa.select(Enrolment.epm_id).where(Enrolment.ticket_id == Ticket.id)
           .order_by(Enrolment.id.desc()).limit(1).scalar_subquery())
    minutes = sa.func.coalesce(usage.c.minutes, 0)
    sessions = sa.func.coalesce(usage.c.sessions, 0)
    year = sa.extract("year", Ticket.issued_on)
    capped = sa.case((minutes < Ticket.hours * 60, minutes), else_=Ticket.hours * 60)
    status = effective_status_expr(today)
    not_cancelled = Ticket.status != TicketStatus.CANCELLED.value
    query = (
        sa.select(
            Ticket.id,
            Ticket.prescriber_id,
            epm.label("epm_id"),
            Ticket.public_category,
            (year * 100 + sa.extract("month", Ticket.issued_on)).label("month"),
            year.label("year"),
            status.label("status"),
            sa.case((sessions >= 1, 1), else_=0).label("started"),
            sa.case((sessions >= Ticket.sessions, 1), else_=0).label("all_sessions"),
            sa.func.coalesce(files.c.sent, 0).label("file_sent"),
            sa.func.coalesce(files.c.ready, 0).label("ready"),
            capped.label("minutes"),
            paid_to_date_cents(rule, scheme.epm_share_cents, usage).label("paid_cents"),
            sa.case((not_cancelled, Ticket.value_cents), else_=0).label("engaged_cents"),
            ((Ticket.value_cents * capped) // (Ticket.hours * 60)).label("used_cents"),
            sa.case((status == TicketStatus.EXPIRED.value, Ticket.hours * 60 - capped), else_=0).label("lost"),
        )
        .select_from(Ticket)
        .outerjoin(usage, usage.c.ticket_id == Ticket.id)
        .outerjoin(files, files.c.owner_id == Ticket.beneficiary_id)
    )
    if prescriber_ids is not None:
        query = query.where(Ticket.prescriber_id.in_(prescriber_ids))
    return query.cte("facts")


GROUPINGS = ("all", "prescriber", "epm", "public", "month", "year")


METRICS = ("registered", "started", "all_sessions", "file_sent", "ready", "minutes", "paid", "beneficiaries",
           "engaged", "used", "lost")
# What each grouping of the facts needs beyond the status counts (the others are left at zero: cheaper).
NEEDS: dict[str, set[str]] = {
    "prescriber": {"registered", "started", "minutes", "beneficiaries", "engaged", "used", "lost"},
    "epm": {"registered", "minutes"},
    "public": {"registered", "minutes"},
    "month": set(METRICS),  # everything: the year and the whole are added up from the months
}


def _grouped(facts: sa.CTE, kind: str) -> sa.Select[Any]:
    c = facts.c
    key = {"prescriber": c.prescriber_id, "epm": c.epm_id, "public": c.public_category, "month": c.month}[kind]
    total = {
        "registered": count_if(c.epm_id.is_not(None)),
        "started": sa.func.sum(c.started),
        "all_sessions": sa.func.sum(c.all_sessions),
        "file_sent": sa.func.sum(c.file_sent),
        "ready": sa.func.sum(c.ready),
        "minutes": sa.func.sum(c.minutes),
        "paid": sa.func.sum(c.paid_cents),
        "beneficiaries": count_if(c.status != TicketStatus.CANCELLED.value),
        "engaged": sa.func.sum(c.engaged_cents),
        "used": sa.func.sum(c.used_cents),
        "lost": sa.func.sum(c.lost),
    }
    return (
        sa.select(
            sa.literal(kind).label("kind"),
            sa.cast(key, sa.String).label("key"),
            *[count_if(c.status == s.value).label(s.value) for s in STATUSES],
            *[(sa.func.coalesce(expr, 0) if name in NEEDS[kind] else sa.literal(0)).label(f"m_{name}")
              for name, expr in total.items()],
        )
        .select_from(facts)
        .group_by(key)
    )


def _rolled_up(months: sa.CTE, kind: str) -> sa.Select[Any]:
    """The year's or the whole's figures, added up from the months' (a few dozen rows)."""
    year = sa.cast(sa.cast(months.c.key, sa.Integer) // 100, sa.String)
    names = (*[s.value for s in STATUSES], *[f"m_{name}" for name in METRICS])
    sums = [sa.func.coalesce(sa.func.sum(months.c[name]), 0) for name in names]
    query = sa.select(sa.literal(kind), year if kind == "year" else sa.null(), *sums).select_from(months)
    return query.group_by(year) if kind == "year" else query


def figures(session: Session, today: dt.date, scheme: Scheme, rule: PaymentRule, kinds: tuple[str, ...] = GROUPINGS,
            prescriber_ids: list[int] | None = None) -> dict[str, list[Figures]]:
    """Every ticket figure for each grouping in ``kinds``, in one query over the per-ticket facts: each
    grouping scans the facts once, except the year and the whole, added up from the months."""
    facts = ticket_facts(today, scheme, rule, prescriber_ids)
    months = _grouped(facts, "month").cte("by_month")
    parts = [sa.select(months) if kind == "month" else _rolled_up(months, kind) if kind in ("all", "year")
             else _grouped(facts, kind) for kind in kinds]
    rows = session.execute(sa.union_all(*parts)).all()
    result: dict[str, list[Figures]] = {kind: [] for kind in kinds}
    n = len(STATUSES)
    for row in rows:
        numbers = [int(v) for v in row[2:]]
        result[row[0]].append(Figures(row[1], "", dict(zip(STATUSES, numbers[:n], strict=True)), *numbers[n:]))
    return result


def _labelled(rows: list[Figures], labels: dict[str, str], none_label: str = "") -> list[Figures]:
    named = [replace(f, label=labels.get(f.key, f.key) if f.key is not None else none_label) for f in rows]
    return sorted(named, key=lambda f: (f.key is None, f.label.lower()))


def organisation_names(session: Session, ids: list[str]) -> dict[str, str]:
    wanted = [int(i) for i in ids if i is not None]
    if not wanted:
        return {}
    return {str(i): name for i, name in session.execute(
        sa.select(Organisation.id, Organisation.name).where(Organisation.id.in_(wanted)))}


@dataclass(frozen=True)
class ModuleRow:
    number: int
    title: str
    chosen: int  # learning paths that hold it
    held: int  # workshops held (started, not cancelled)


def modules_chosen_and_held(session: Session, now: dt.datetime) -> list[ModuleRow]:
    chosen = (sa.select(PathModule.module_id, sa.func.count().label("n"))
              .group_by(PathModule.module_id).subquery("chosen"))
    held = (sa.select(WorkshopSession.module_id, sa.func.count().label("n"))
            .where(WorkshopSession.cancelled.is_(False), WorkshopSession.starts_at < now)
            .group_by(WorkshopSession.module_id).subquery("held"))
    rows = session.execute(
        sa.select(Module.number, Module.title, sa.func.coalesce(chosen.c.n, 0), sa.func.coalesce(held.c.n, 0))
        .outerjoin(chosen, chosen.c.module_id == Module.id)
        .outerjoin(held, held.c.module_id == Module.id)
        .order_by(Module.number)
    )
    return [ModuleRow(int(n), t, int(c), int(h)) for n, t, c, h in rows]


@dataclass(frozen=True)
class CompetenceRow:
    domain: str
    code: str
    title: str
    learners: int  # learners for whom it is validated now


VALIDATING_VOICES = (Voice.ANIMATOR.value, Voice.ASSESSOR.value)


def competences_validated(session: Session) -> list[CompetenceRow]:
    """Per B2i Adultes competence, the learners for whom the latest animator or assessor judgement is
    "acquired"."""
    framework = latest_framework(session, B2I_CODE)
    if framework is None:
        return []
    latest = (
        sa.select(
            Assessment.competence_id,
            Assessment.level,
            sa.func.row_number().over(
                partition_by=(Assessment.learner_id, Assessment.competence_id),
                order_by=(Assessment.created_at.desc(), Assessment.id.desc()),
            ).label("recency"),
        )
        .where(Assessment.voice.in_(VALIDATING_VOICES))
        .subquery("latest")
    )
    validated = (
        sa.select(latest.c.competence_id, sa.func.count().label("n"))
        .where(latest.c.recency == 1, latest.c.level == Level.ACQUIRED.value)
        .group_by(latest.c.competence_id)
        .subquery("validated")
    )
    rows = session.execute(
        sa.select(FrameworkDomain.code, Competence.code, Competence.title, sa.func.coalesce(validated.c.n, 0))
        .join(FrameworkDomain, FrameworkDomain.id == Competence.domain_id)
        .outerjoin(validated, validated.c.competence_id == Competence.id)
        .where(Competence.framework_id == framework.id)
        .order_by(FrameworkDomain.position, Competence.position)
    )
    return [CompetenceRow(d, c, t, int(n)) for d, c, t, n in rows]


def targets(scheme: Scheme) -> dict[str, int]:
    data = scheme.data["targets"]
    return {"target": int(data["beneficiaries_per_year"]), "low": int(data["low_hypothesis"]["total"]),
            "high": int(data["high_hypothesis"]["total"])}


def other_shares_cents(scheme: Scheme) -> int:
    """The part of a ticket that does not go to the EPM (management, coordination, communication)."""
    return scheme.value_cents - scheme.epm_share_cents


@dataclass
class Dashboard:
    overall: Figures
    by_prescriber: list[Figures]
    by_epm: list[Figures]
    by_public: list[Figures]
    by_month: list[Figures]
    by_year: list[Figures]
    modules: list[ModuleRow]
    targets: dict[str, int]
    other_share_cents: int
    # Set on a dashboard cut down for its page (``for_page``): per group, how many groups its last row adds up.
    hidden: dict[str, int] | None = None

    @property
    def cost_per_completed_cents(self) -> int | None:
        """What the scheme has spent per completed ticket: EPM payments so far plus the other shares of every
        ticket issued (cancelled ones excepted)."""
        if not self.overall.completed:
            return None
        spent = self.overall.paid_cents + self.overall.beneficiaries * self.other_share_cents
        return round(spent / self.overall.completed)


SHOWN_GROUPS = 15  # a page shows the largest groups; the CSV has them all
CUT_GROUPS = ("by_prescriber", "by_epm", "by_public")


def largest_groups(groups: list[Figures], shown: int = SHOWN_GROUPS) -> tuple[list[Figures], int]:
    """The ``shown - 1`` largest groups in their order, then one row adding up the others (key ``others``,
    labelled by the page), and how many that row holds; all of them when they are ``shown`` or fewer."""
    if len(groups) <= shown:
        return groups, 0
    largest = {id(f) for f in sorted(groups, key=lambda f: f.total, reverse=True)[:shown - 1]}
    rest = [f for f in groups if id(f) not in largest]
    return [f for f in groups if id(f) in largest] + [sum_figures(rest, "")], len(rest)


def sum_figures(groups: list[Figures], label: str) -> Figures:
    """The figures of several groups together."""
    numbers = {name: sum(getattr(f, name) for f in groups) for name in Figures.__dataclass_fields__
               if name not in ("key", "label", "counts")}
    counts = {s: sum(f.counts[s] for f in groups) for s in TicketStatus}
    return Figures(key="others", label=label, counts=counts, **numbers)


def for_page(d: Dashboard) -> Dashboard:
    """The dashboard as its page shows it: for thousands of EPMs, the largest groups and one row for the rest
    (the CSV files are made from the whole dashboard)."""
    cut = {name: largest_groups(getattr(d, name)) for name in CUT_GROUPS}
    return replace(d, **{name: groups for name, (groups, _n) in cut.items()},
                   hidden={name: n for name, (_groups, n) in cut.items()})


def dashboard(session: Session, today: dt.date, now: dt.datetime, scheme: Scheme, rule: PaymentRule,
              none_label: str) -> Dashboard:
    found = figures(session, today, scheme, rule)
    names = organisation_names(session, [f.key for f in found["prescriber"] + found["epm"]])
    return Dashboard(
        overall=found["all"][0],
        by_prescriber=_labelled(found["prescriber"], names),
        by_epm=_labelled(found["epm"], names, none_label),
        by_public=_labelled(found["public"], scheme.public_categories),
        by_month=sorted((replace(f, label=f"{int(f.key) // 100}-{int(f.key) % 100:02d}") for f in found["month"]),
                        key=lambda f: int(f.key)),
        by_year=sorted((replace(f, label=f.key) for f in found["year"]), key=lambda f: int(f.key)),
        modules=modules_chosen_and_held(session, now),
        targets=targets(scheme),
        other_share_cents=other_shares_cents(scheme),
    )


# --- The prescriber's outcome summary ------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    organisation: Organisation
    figures: Figures


def prescriber_outcomes(session: Session, today: dt.date, scheme: Scheme, rule: PaymentRule,
                        organisations: list[Organisation]) -> list[Outcome]:
    """Each organisation's tickets: status, hours used, value engaged and used; one query for them all."""
    if not organisations:
        return []
    found = figures(session, today, scheme, rule, kinds=("prescriber",),
                    prescriber_ids=[o.id for o in organisations])["prescriber"]
    by_key = {f.key: f for f in found}
    empty = Figures(None, "", {s: 0 for s in STATUSES}, *([0] * 11))
    return [Outcome(org, by_key.get(str(org.id), empty)) for org in organisations]
