"""What each EPM is paid for the tickets it served, per period, and the budget against the annual plan.

The EPM share of a ticket (150 EUR of 200 in the scheme data) is paid by one of two rules, chosen with
``TICKETNET_PAYMENT_RULE``:

- ``pro_rata`` (default): the share divided by the ticket's sessions for each present session
  (15 EUR a session), never more than the share for one ticket;
- ``full_after_first``: the whole share once the first session has been attended.

Only present sessions of workshops that were not cancelled, held while the ticket was valid, count.
Each session is paid to the EPM that held it, in the period of its date: a ticket's n-th paid session
earns ``cumulative(n) - cumulative(n - 1)``, so that the cap holds across periods and EPMs.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portfolio.catalogue.scheme import Scheme
from portfolio.config import ConfigurationError
from portfolio.enrolment.models import Enrolment, WorkshopSession
from portfolio.orgs.models import Organisation
from portfolio.stats.periods import Period
from portfolio.stats.sql import attended_sessions, within_validity
from portfolio.tickets.models import Ticket, TicketStatus


class PaymentRule(enum.StrEnum):
    PRO_RATA = "pro_rata"
    FULL_AFTER_FIRST = "full_after_first"


CONFIG_KEY = "PAYMENT_RULE"


def rule_from_config(config: Mapping[str, Any]) -> PaymentRule:
    value = config.get(CONFIG_KEY) or PaymentRule.PRO_RATA.value
    try:
        return PaymentRule(value)
    except ValueError:
        choices = ", ".join(r.value for r in PaymentRule)
        raise ConfigurationError(f"TICKETNET_PAYMENT_RULE must be one of {choices}, not {value!r}") from None


def cumulative_cents(rule: PaymentRule, paid_sessions: Any, ticket_sessions: Any, share_cents: int) -> Any:
    """SQL: what a ticket has earned its EPMs after ``paid_sessions`` present sessions."""
    share = sa.literal(share_cents, sa.Integer)
    if rule is PaymentRule.FULL_AFTER_FIRST:
        return sa.case((paid_sessions >= 1, share), else_=0)
    capped = sa.case((paid_sessions < ticket_sessions, paid_sessions), else_=ticket_sessions)
    return (capped * share) // ticket_sessions


@dataclass(frozen=True)
class EpmTotal:
    epm_id: int
    code: str
    name: str
    tickets: int
    sessions: int
    amount_cents: int


@dataclass(frozen=True)
class TicketLine:
    epm_id: int
    epm_name: str
    ticket_id: int
    reference: str
    holder: str
    sessions: int  # present sessions held in the period (valid ticket), whether they earned or not
    amount_cents: int
    sessions_to_date: int  # present sessions up to the end of the period (valid ticket)
    amount_to_date_cents: int


@dataclass(frozen=True)
class Statement:
    period: Period
    rule: PaymentRule
    share_cents: int
    epms: list[EpmTotal]
    lines: list[TicketLine]
    epm_id: int | None = None  # the statement of one EPM, or None for all

    @property
    def total_cents(self) -> int:
        return sum(e.amount_cents for e in self.epms)

    @property
    def total_sessions(self) -> int:
        return sum(e.sessions for e in self.epms)

    @property
    def total_tickets(self) -> int:
        return sum(e.tickets for e in self.epms)


def _per_ticket(period: Period, rule: PaymentRule, share_cents: int, epm_id: int | None) -> sa.Subquery:
    """One row per (EPM, ticket) paid in the period: sessions and amount in the period, and to date."""
    in_period = sa.and_(WorkshopSession.starts_at >= period.start_utc, WorkshopSession.starts_at < period.end_utc)
    paid = attended_sessions().where(within_validity())
    touched = paid.add_columns(Enrolment.ticket_id).where(in_period)
    if epm_id is not None:
        touched = touched.where(WorkshopSession.epm_id == epm_id)
    rank = sa.func.row_number().over(
        partition_by=Enrolment.ticket_id, order_by=(WorkshopSession.starts_at, WorkshopSession.id))
    ranked = (
        paid.add_columns(
            Enrolment.ticket_id.label("ticket_id"),
            WorkshopSession.epm_id.label("epm_id"),
            WorkshopSession.starts_at.label("starts_at"),
            Ticket.sessions.label("ticket_sessions"),
            rank.label("rank"),
        )
        .where(WorkshopSession.starts_at < period.end_utc, Enrolment.ticket_id.in_(touched.scalar_subquery()))
        .subquery("ranked")
    )
    earned = (cumulative_cents(rule, ranked.c.rank, ranked.c.ticket_sessions, share_cents)
              - cumulative_cents(rule, ranked.c.rank - 1, ranked.c.ticket_sessions, share_cents))
    period_rows = sa.and_(ranked.c.starts_at >= period.start_utc)
    to_date = (
        sa.select(ranked.c.ticket_id, sa.func.max(ranked.c.rank).label("sessions_to_date"),
                  sa.func.max(ranked.c.ticket_sessions).label("ticket_sessions"))
        .group_by(ranked.c.ticket_id)
        .subquery("to_date")
    )
    query = (
        sa.select(
            ranked.c.epm_id,
            ranked.c.ticket_id,
            sa.func.count().label("sessions"),
            sa.func.sum(earned).label("amount_cents"),
        )
        .where(period_rows)
        .group_by(ranked.c.epm_id, ranked.c.ticket_id)
    )
    if epm_id is not None:
        query = query.where(ranked.c.epm_id == epm_id)
    per_ticket = query.subquery("per_ticket")
    return (
        sa.select(
            per_ticket,
            to_date.c.sessions_to_date,
            cumulative_cents(rule, to_date.c.sessions_to_date, to_date.c.ticket_sessions, share_cents)
            .label("amount_to_date_cents"),
        )
        .join(to_date, to_date.c.ticket_id == per_ticket.c.ticket_id)
        .subquery("paid")
    )


def statement(session: Session, scheme: Scheme, rule: PaymentRule, period: Period, epm_id: int | None = None,
              with_lines: bool = True) -> Statement:
    """The statement of the period for one EPM (``epm_id``) or for all, with the ticket lines if asked."""
    paid = _per_ticket(period, rule, scheme.epm_share_cents, epm_id)
    totals = session.execute(
        sa.select(Organisation.id, Organisation.code, Organisation.name, sa.func.count(paid.c.ticket_id),
                  sa.func.coalesce(sa.func.sum(paid.c.sessions), 0),
                  sa.func.coalesce(sa.func.sum(paid.c.amount_cents), 0))
        .join(paid, paid.c.epm_id == Organisation.id)
        .group_by(Organisation.id, Organisation.code, Organisation.name)
        .order_by(Organisation.name)
    ).all()
    lines: list[TicketLine] = []
    if with_lines:
        lines = [TicketLine(*row[:5], int(row[5]), int(row[6]), int(row[7]), int(row[8])) for row in session.execute(
            sa.select(paid.c.epm_id, Organisation.name, paid.c.ticket_id, Ticket.reference,
                      (Ticket.first_name + " " + Ticket.last_name), paid.c.sessions, paid.c.amount_cents,
                      paid.c.sessions_to_date, paid.c.amount_to_date_cents)
            .join(Organisation, Organisation.id == paid.c.epm_id)
            .join(Ticket, Ticket.id == paid.c.ticket_id)
            .order_by(Organisation.name, Ticket.reference)
        )]
    epms = [EpmTotal(epm, code, name, int(tickets), int(sessions), int(amount))
            for epm, code, name, tickets, sessions, amount in totals]
    return Statement(period, rule, scheme.epm_share_cents, epms, lines, epm_id)


def paid_to_date_cents(rule: PaymentRule, share_cents: int, usage: sa.Subquery) -> Any:
    """SQL: what a ticket has earned its EPMs so far, from ``sql.ticket_usage()``."""
    return cumulative_cents(rule, sa.func.coalesce(usage.c.valid_sessions, 0), Ticket.sessions, share_cents)


@dataclass(frozen=True)
class BudgetLine:
    key: str
    planned_cents: int
    spent_cents: int

    @property
    def ratio(self) -> float:
        return self.spent_cents / self.planned_cents if self.planned_cents else 0.0


BUDGET_LINES = (  # annual_budget_eur key, split_per_ticket_eur key (None: paid per session)
    ("epm_remuneration", None),
    ("management_fees", "administrative_and_financial_management"),
    ("pedagogical_coordination", "pedagogical_coordination"),
    ("communication", "communication"),
)


def budget(session: Session, scheme: Scheme, rule: PaymentRule, year: int) -> list[BudgetLine]:
    """The year's spending against the annual plan: EPMs by the sessions held that year; the other lines by
    their share of each ticket issued that year (cancelled ones excepted). The last line is the total."""
    plan = scheme.data["annual_budget_eur"]
    split = scheme.data["split_per_ticket_eur"]
    start = dt.date(year, 1, 1)
    paid = statement(session, scheme, rule, Period(str(year), start, dt.date(year + 1, 1, 1)), with_lines=False)
    issued = session.scalar(
        sa.select(sa.func.count(Ticket.id)).where(
            Ticket.issued_on >= start, Ticket.issued_on < dt.date(year + 1, 1, 1),
            Ticket.status != TicketStatus.CANCELLED.value)
    ) or 0
    lines = [
        BudgetLine(key, int(plan[key]) * 100, paid.total_cents if share is None else issued * int(split[share]) * 100)
        for key, share in BUDGET_LINES
    ]
    lines.append(BudgetLine("total", int(plan["total"]) * 100, sum(line.spent_cents for line in lines)))
    return lines
