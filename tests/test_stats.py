"""Coordination figures, computed on a small hand-made dataset whose every figure is known."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from competences.models import Level, Voice
from portfolio.auth.models import Role
from portfolio.catalogue.scheme import load_scheme_config
from portfolio.config import ConfigurationError
from portfolio.enrolment.models import AttendanceStatus, Enrolment
from portfolio.orgs.models import OrgKind
from portfolio.sharing.models import Decision, SubmissionStatus
from portfolio.stats import anomalies, charts, payments, services
from portfolio.stats.exports import csv_bytes, euros
from portfolio.stats.payments import PaymentRule
from portfolio.stats.periods import BadPeriod, parse_period
from portfolio.tickets.models import TicketStatus
from tests import factories

TODAY = dt.date(2026, 6, 15)
NOW = dt.datetime(2026, 6, 15, 12, tzinfo=dt.UTC)


@pytest.fixture
def request_ctx(app: Any) -> Any:
    """French messages need a request (the language is the visitor's)."""
    with app.test_request_context():
        yield


def at(day: str, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=dt.UTC)


@dataclass
class Data:
    caf: Any
    cg: Any
    cahors: Any
    figeac: Any
    animator: Any
    t1: Any  # completed: 11 present sessions (one beyond its hours), ready for certification
    t2: Any  # expired: 3 present sessions (two overlapping), 1 absent, 1 present after its expiry
    t3: Any  # registered at Figeac, no session
    t4: Any  # issued only
    t5: Any  # cancelled
    shared: Any  # the session of 3 March 2025: capacity 1, two learners present
    after_expiry: Any
    workshops: int


@pytest.fixture
def data(db_session: Session) -> Data:
    s = db_session
    caf = factories.organisation(s, OrgKind.PRESCRIBER, name="CAF du Lot")
    cg = factories.organisation(s, OrgKind.PRESCRIBER, name="Conseil Général")
    cahors = factories.organisation(s, OrgKind.EPM, name="EPM Cahors", code="epm-cahors-test")
    figeac = factories.organisation(s, OrgKind.EPM, name="EPM Figeac")
    animator = factories.user(s, Role.ANIMATOR, cahors, first_name="Julie", last_name="Animatrice")
    l1 = factories.user(s, Role.BENEFICIARY, cahors)
    l2 = factories.user(s, Role.BENEFICIARY, cahors)
    l3 = factories.user(s, Role.BENEFICIARY, figeac)

    t1 = factories.ticket(s, caf, dt.date(2025, 1, 10), public_category="seniors", last_name="Un")
    t2 = factories.ticket(s, caf, dt.date(2025, 2, 5), public_category="minima-sociaux", last_name="Deux")
    t3 = factories.ticket(s, cg, dt.date(2026, 1, 15), public_category="seniors", last_name="Trois")
    t4 = factories.ticket(s, cg, dt.date(2026, 1, 15), public_category="seniors", last_name="Quatre")
    t5 = factories.ticket(s, caf, dt.date(2025, 3, 1), status=TicketStatus.CANCELLED.value, last_name="Cinq")
    e1 = factories.enrolment(s, t1, cahors, l1)
    e2 = factories.enrolment(s, t2, cahors, l2)
    factories.enrolment(s, t3, figeac, l3)
    factories.path(s, e1, [1, 2, 3])
    factories.path(s, e2, [1, 4])
    t1.status, t2.status = TicketStatus.COMPLETED.value, TicketStatus.IN_PROGRESS.value

    workshops = 0

    def workshop(when: dt.datetime, **fields: Any) -> Any:
        nonlocal workshops
        workshops += 1
        return factories.workshop(s, cahors, when, animator_id=animator.id, **fields)

    # The first learner: 4 sessions in February, 4 in March (one shared), 3 in April 2025: 11 in all.
    shared = workshop(at("2025-03-03"), capacity=1)
    for day in ("2025-02-03", "2025-02-10", "2025-02-17", "2025-02-24", "2025-03-10", "2025-03-17", "2025-03-24"):
        factories.attend(s, workshop(at(day, 14)), e1)
    factories.attend(s, shared, e1)
    for minute, day in zip((0, 2, 4), ("2025-04-07", "2025-04-14", "2025-04-21"), strict=True):
        # recorded in one go, five weeks later
        factories.attend(s, workshop(at(day, 14)), e1, recorded_by_id=animator.id,
                         recorded_at=at("2025-05-20", 10, minute))
    # The second learner: the shared session, two overlapping sessions, one absence, one after expiry.
    factories.attend(s, shared, e2)
    factories.attend(s, workshop(at("2025-03-12", 9)), e2)
    factories.attend(s, workshop(at("2025-03-12", 10)), e2, recorded_by_id=animator.id,
                     recorded_at=at("2025-06-01"))
    factories.attend(s, workshop(at("2025-03-19")), e2, AttendanceStatus.ABSENT)
    after_expiry = workshop(at("2026-03-02"))
    factories.attend(s, after_expiry, e2)
    # A cancelled workshop never counts.
    factories.attend(s, workshop(at("2025-03-26"), cancelled=True), e2)

    factories.submission(s, l1, status=SubmissionStatus.DECIDED, decision=Decision.READY.value)
    factories.submission(s, l2)
    factories.submission(s, l3, status=SubmissionStatus.WITHDRAWN)

    factories.assessment(s, l1, "D1.1", Voice.ANIMATOR, Level.ACQUIRED, at("2025-03-01"))
    factories.assessment(s, l1, "D1.1", Voice.ANIMATOR, Level.NOT_YET, at("2025-03-08"))  # revised: not valid
    factories.assessment(s, l1, "D1.2", Voice.ANIMATOR, Level.ACQUIRED, at("2025-03-08"))
    factories.assessment(s, l2, "D1.2", Voice.ASSESSOR, Level.ACQUIRED, at("2025-04-08"))
    factories.assessment(s, l2, "D1.3", Voice.SELF, Level.ACQUIRED, at("2025-04-08"))  # self: not counted
    return Data(caf, cg, cahors, figeac, animator, t1, t2, t3, t4, t5, shared, after_expiry, workshops)


def scheme(session: Session) -> Any:
    return load_scheme_config(session, "ticket-net-lot")


def only(found: list[Any], label: str) -> Any:
    return next(f for f in found if f.label == label)


# --- Periods -------------------------------------------------------------------------------------


def test_periods_months_and_quarters(request_ctx: None) -> None:
    march = parse_period("2025-03")
    assert (march.code, march.start, march.end) == ("2025-03", dt.date(2025, 3, 1), dt.date(2025, 4, 1))
    q4 = parse_period("2025-q4")
    assert (q4.code, q4.start, q4.end) == ("2025-Q4", dt.date(2025, 10, 1), dt.date(2026, 1, 1))
    assert parse_period("2026-T2").code == "2026-Q2"
    # Local midnight, in UTC: 1 March 2025 00:00 in Paris is 28 February 23:00 UTC.
    assert march.start_utc == dt.datetime(2025, 2, 28, 23, tzinfo=dt.UTC)


@pytest.mark.parametrize("text", ["", "2025", "2025-13", "2025-Q5", "25-03", "2025-3", "mars 2025"])
def test_bad_periods_are_refused_in_french(request_ctx: None, text: str) -> None:
    with pytest.raises(BadPeriod, match="Période invalide"):
        parse_period(text)


# --- The dashboard -------------------------------------------------------------------------------


def test_overall_figures_and_funnel(db_session: Session, data: Data) -> None:
    found = services.figures(db_session, TODAY, scheme(db_session), PaymentRule.PRO_RATA, kinds=("all",))
    overall = found["all"][0]
    assert overall.counts == {TicketStatus.ISSUED: 1, TicketStatus.REGISTERED: 1, TicketStatus.IN_PROGRESS: 0,
                              TicketStatus.COMPLETED: 1, TicketStatus.EXPIRED: 1, TicketStatus.CANCELLED: 1}
    assert dict(overall.steps) == {"issued": 5, "registered": 3, "first_session": 2, "all_sessions": 1,
                                   "file_sent": 2, "ready": 1}
    # Hours used: the first ticket counts its 20 hours (not 22), the second 4 sessions of 2 hours.
    assert overall.minutes_used == 1200 + 480
    assert overall.average_hours == pytest.approx(1680 / 60 / 3)
    # Owed to the EPMs: 150 EUR for the first ticket (capped), 3 valid sessions of 15 EUR for the second.
    assert overall.paid_cents == 15000 + 4500
    assert overall.beneficiaries == 4


def test_cost_per_completed_ticket(db_session: Session, data: Data, request_ctx: None) -> None:
    board = services.dashboard(db_session, TODAY, NOW, scheme(db_session), PaymentRule.PRO_RATA, "aucun")
    # (EPM payments 195 EUR + 4 tickets not cancelled x 50 EUR of other shares) / 1 completed ticket.
    assert board.other_share_cents == 5000
    assert board.cost_per_completed_cents == 19500 + 4 * 5000


def test_figures_by_prescriber_epm_public_month_and_year(db_session: Session, data: Data,
                                                         request_ctx: None) -> None:
    board = services.dashboard(db_session, TODAY, NOW, scheme(db_session), PaymentRule.PRO_RATA, "aucun")
    caf = only(board.by_prescriber, "CAF du Lot")
    assert (caf.total, caf.completed, caf.counts[TicketStatus.EXPIRED], caf.counts[TicketStatus.CANCELLED]) == (
        3, 1, 1, 1)
    cg = only(board.by_prescriber, "Conseil Général")
    assert (cg.counts[TicketStatus.ISSUED], cg.counts[TicketStatus.REGISTERED]) == (1, 1)

    cahors, figeac, none = only(board.by_epm, "EPM Cahors"), only(board.by_epm, "EPM Figeac"), board.by_epm[-1]
    assert (cahors.total, cahors.minutes_used, figeac.total) == (2, 1680, 1)
    assert (none.label, none.key, none.total) == ("aucun", None, 2)  # never registered: the issued and the cancelled

    seniors = only(board.by_public, "Séniors : retraités ou futurs retraités")
    minima = only(board.by_public, "Allocataires de minima sociaux éloignés de l'emploi")
    assert seniors.total == 4 and minima.total == 1

    assert [(f.label, f.total) for f in board.by_month] == [("2025-01", 1), ("2025-02", 1), ("2025-03", 1),
                                                            ("2026-01", 2)]
    assert [(f.label, f.beneficiaries, f.registered) for f in board.by_year] == [("2025", 2, 2), ("2026", 2, 1)]
    assert board.targets == {"target": 500, "low": 450, "high": 900}


def test_modules_chosen_and_held(db_session: Session, data: Data) -> None:
    rows = {m.number: m for m in services.modules_chosen_and_held(db_session, NOW)}
    assert (rows[1].chosen, rows[2].chosen, rows[4].chosen, rows[5].chosen) == (2, 1, 1, 0)
    # Every test workshop is of module 1; the cancelled one is not held.
    assert rows[1].held == data.workshops - 1 and rows[2].held == 0
    assert len(rows) == 20


def test_competences_validated_use_the_latest_animator_or_assessor_judgement(db_session: Session,
                                                                              data: Data) -> None:
    rows = {r.code: r for r in services.competences_validated(db_session)}
    assert (rows["D1.1"].learners, rows["D1.2"].learners, rows["D1.3"].learners) == (0, 2, 0)
    assert rows["D1.1"].domain == "D1" and len(rows) == 18


def test_prescriber_outcome(db_session: Session, data: Data) -> None:
    caf, cg = services.prescriber_outcomes(db_session, TODAY, scheme(db_session), PaymentRule.PRO_RATA,
                                           [data.caf, data.cg])
    f = caf.figures
    assert (f.total, f.completed, f.counts[TicketStatus.EXPIRED], f.registered) == (3, 1, 1, 2)
    assert f.minutes_used == 1680 and f.lost_minutes == 1200 - 480
    assert f.engaged_cents == 2 * 20000  # the cancelled ticket engages nothing
    assert f.used_cents == 20000 + 20000 * 480 // 1200
    assert (cg.figures.total, cg.figures.minutes_used) == (2, 0)
    empty = factories.organisation(db_session, OrgKind.PRESCRIBER)
    [nothing] = services.prescriber_outcomes(db_session, TODAY, scheme(db_session), PaymentRule.PRO_RATA, [empty])
    assert nothing.figures.total == 0 and nothing.figures.used_ratio == 0


# --- Payments ------------------------------------------------------------------------------------


def statement(session: Session, rule: PaymentRule, period: str, epm_id: int | None = None) -> payments.Statement:
    return payments.statement(session, scheme(session), rule, parse_period(period), epm_id)


def lines(found: payments.Statement) -> dict[str, tuple[int, int, int, int]]:
    return {line.reference: (line.sessions, line.amount_cents, line.sessions_to_date, line.amount_to_date_cents)
            for line in found.lines}


def test_pro_rata_pays_per_present_session(db_session: Session, data: Data) -> None:
    february = statement(db_session, PaymentRule.PRO_RATA, "2025-02")
    assert lines(february) == {data.t1.reference: (4, 6000, 4, 6000)}
    march = statement(db_session, PaymentRule.PRO_RATA, "2025-03")
    assert lines(march) == {data.t1.reference: (4, 6000, 8, 12000), data.t2.reference: (3, 4500, 3, 4500)}
    [cahors] = march.epms
    assert (cahors.name, cahors.tickets, cahors.sessions, cahors.amount_cents) == ("EPM Cahors", 2, 7, 10500)
    assert march.total_cents == 10500


def test_pro_rata_never_pays_more_than_the_epm_share_of_a_ticket(db_session: Session, data: Data) -> None:
    april = statement(db_session, PaymentRule.PRO_RATA, "2025-04")
    # Three sessions attended, but only the 9th and 10th are paid: 150 EUR in all for the ticket.
    assert lines(april) == {data.t1.reference: (3, 3000, 11, 15000)}
    year = payments.statement(db_session, scheme(db_session), PaymentRule.PRO_RATA,
                              payments.Period("2025", dt.date(2025, 1, 1), dt.date(2026, 1, 1)))
    assert lines(year)[data.t1.reference] == (11, 15000, 11, 15000)


def test_a_quarter_adds_up_its_months(db_session: Session, data: Data) -> None:
    quarter = statement(db_session, PaymentRule.PRO_RATA, "2025-Q1")
    assert lines(quarter) == {data.t1.reference: (8, 12000, 8, 12000), data.t2.reference: (3, 4500, 3, 4500)}
    assert quarter.total_cents == sum(statement(db_session, PaymentRule.PRO_RATA, f"2025-0{m}").total_cents
                                      for m in (1, 2, 3))


def test_full_amount_after_the_first_session(db_session: Session, data: Data) -> None:
    assert lines(statement(db_session, PaymentRule.FULL_AFTER_FIRST, "2025-02")) == {
        data.t1.reference: (4, 15000, 4, 15000)}
    assert lines(statement(db_session, PaymentRule.FULL_AFTER_FIRST, "2025-03")) == {
        data.t1.reference: (4, 0, 8, 15000), data.t2.reference: (3, 15000, 3, 15000)}
    assert statement(db_session, PaymentRule.FULL_AFTER_FIRST, "2025-04").total_cents == 0


def test_sessions_after_expiry_and_cancelled_workshops_are_never_paid(db_session: Session, data: Data) -> None:
    for rule in PaymentRule:
        assert statement(db_session, rule, "2026-03").epms == []
        assert data.t2.reference not in lines(statement(db_session, rule, "2025-Q2"))


def test_a_session_is_paid_to_the_epm_that_held_it(db_session: Session, data: Data) -> None:
    # Both learners move to Figeac for one more session in May: Figeac is paid for them, within the cap
    # (the first learner's ticket is already paid in full).
    db_session.execute(sa.update(Enrolment).values(active=False))
    may_session = factories.workshop(db_session, data.figeac, at("2025-05-05"))
    for ticket in (data.t1, data.t2):
        factories.attend(db_session, may_session, factories.enrolment(db_session, ticket, data.figeac))
    may = statement(db_session, PaymentRule.PRO_RATA, "2025-05")
    assert [(e.name, e.tickets, e.sessions, e.amount_cents) for e in may.epms] == [("EPM Figeac", 2, 2, 1500)]
    assert lines(may)[data.t2.reference] == (1, 1500, 4, 6000)
    assert statement(db_session, PaymentRule.PRO_RATA, "2025-05", data.cahors.id).epms == []


def test_one_epm_statement(db_session: Session, data: Data) -> None:
    assert statement(db_session, PaymentRule.PRO_RATA, "2025-03", data.figeac.id).epms == []
    only_cahors = statement(db_session, PaymentRule.PRO_RATA, "2025-03", data.cahors.id)
    assert only_cahors.total_cents == 10500 and len(only_cahors.lines) == 2


def test_the_rule_comes_from_the_configuration() -> None:
    assert payments.rule_from_config({}) is PaymentRule.PRO_RATA
    assert payments.rule_from_config({"PAYMENT_RULE": "full_after_first"}) is PaymentRule.FULL_AFTER_FIRST
    with pytest.raises(ConfigurationError, match="TICKETNET_PAYMENT_RULE"):
        payments.rule_from_config({"PAYMENT_RULE": "everything"})


def test_budget_against_the_annual_plan(db_session: Session, data: Data) -> None:
    lines_ = {line.key: line for line in payments.budget(db_session, scheme(db_session), PaymentRule.PRO_RATA, 2025)}
    assert (lines_["epm_remuneration"].planned_cents, lines_["epm_remuneration"].spent_cents) == (7500000, 19500)
    # Two tickets issued in 2025 and not cancelled: 14 + 14 + 22 EUR each.
    assert lines_["management_fees"].spent_cents == 2 * 1400
    assert lines_["pedagogical_coordination"].spent_cents == 2 * 1400
    assert lines_["communication"].spent_cents == 2 * 2200
    assert (lines_["total"].planned_cents, lines_["total"].spent_cents) == (10000000, 19500 + 2 * 5000)
    assert lines_["total"].ratio == pytest.approx(29500 / 10000000)


# --- Anomalies -----------------------------------------------------------------------------------


def test_anomalies_each_kind(db_session: Session, data: Data) -> None:
    total, [overlap] = anomalies.overlaps(db_session)
    assert total == 1 and overlap.ticket_id == data.t2.id and len(overlap.session_ids) == 2
    total, [full] = anomalies.over_capacity(db_session)
    assert (total, full.session_ids, full.figure, full.limit) == (1, (data.shared.id,), 2, 1)
    total, [beyond] = anomalies.beyond_hours(db_session)
    assert (total, beyond.ticket_id, beyond.figure, beyond.limit) == (1, data.t1.id, 1320, 1200)
    total, [expired] = anomalies.on_expired_tickets(db_session)
    assert (total, expired.ticket_id, expired.session_ids) == (1, data.t2.id, (data.after_expiry.id,))
    total, [burst] = anomalies.bulk_late(db_session, min_records=3)
    assert (total, burst.figure, burst.who) == (1, 3, "Julie Animatrice")
    assert burst.when == at("2025-05-20", 10)
    # Ten records are needed by default; two records farther apart than the window are not a burst.
    assert anomalies.bulk_late(db_session)[0] == 0
    assert anomalies.bulk_late(db_session, min_records=3, window_minutes=3)[0] == 0


def test_anomaly_lists_are_capped_but_counted(db_session: Session, data: Data) -> None:
    for _ in range(3):
        extra = factories.workshop(db_session, data.cahors, at("2025-09-01"), capacity=0)
        factories.attend(db_session, extra, factories.enrolment(db_session, factories.ticket(db_session),
                                                                data.figeac), AttendanceStatus.EXPECTED)
    total, shown = anomalies.over_capacity(db_session, limit=2)
    assert total == 4 and len(shown) == 2
    found = anomalies.find_all(db_session)
    assert found.totals == {"overlap": 1, "over_capacity": 4, "beyond_hours": 1, "expired": 1, "bulk_late": 0}


# --- Charts and files ----------------------------------------------------------------------------


def test_bar_chart_is_accessible_svg_without_inline_style() -> None:
    svg = str(charts.bar_chart("Tickets <par> EPM", [("Cahors & Lot", 10), ("Figeac", 5)], "Deux EPM"))
    assert svg.startswith('<svg class="chart"') and 'role="img"' in svg and "style=" not in svg
    assert "<title id=" in svg and "Tickets &lt;par&gt; EPM" in svg and "Cahors &amp; Lot" in svg
    widths = [float(w) for w in __import__("re").findall(r'class="chart-bar chart-bar-0"[^>]*width="([\d.]+)"', svg)]
    assert widths[0] == pytest.approx(2 * widths[1])  # proportional to the values


def test_grouped_bars_and_columns_with_references() -> None:
    svg = str(charts.bar_chart("Modules", [("Un", (4, 2))], series=("choisi", "tenu")))
    assert svg.count("chart-bar-1") == 2  # the legend and the bar
    columns = str(charts.column_chart("Par an", [("2025", 300), ("2026", 450)],
                                      references=[charts.Reference("objectif 500", 500)]))
    assert columns.count('class="chart-bar"') == 2 and "objectif 500" in columns and "chart-target" in columns


@pytest.mark.parametrize("value,expected", [(0, 1), (7, 10), (120, 200), (430, 500), (900, 1000), (1001, 2000)])
def test_nice_axis_maximum(value: float, expected: float) -> None:
    assert charts.nice_max(value) == expected


def test_csv_for_french_spreadsheets() -> None:
    content = csv_bytes(["EPM", "Montant (EUR)"], [["Cahors; centre", euros(123456, grouped=False)]])
    assert content.startswith(b"\xef\xbb\xbf")
    assert content.decode("utf-8-sig") == 'EPM;Montant (EUR)\r\n"Cahors; centre";1234,56\r\n'
    hours = csv_bytes(["Heures"], [[12.5], [3.0], [0.25], [7]]).decode("utf-8-sig")
    assert hours == "Heures\r\n12,5\r\n3\r\n0,25\r\n7\r\n"
    assert euros(123456) == "1\u202f234,56" and euros(5) == "0,05" and euros(-150) == "-1,50"


def test_column_labels_and_reference_labels_never_overlap() -> None:
    import re

    months = [(f"2025-{m:02d}", m) for m in range(1, 13)] + [(f"2026-{m:02d}", m) for m in range(1, 13)]
    svg = str(charts.column_chart("Mois", months, references=[
        charts.Reference("haute 900", 900), charts.Reference("objectif 500", 500), charts.Reference("basse 450", 450)]))
    label = r'<text class="chart-label" x="([\d.]+)" y="2\d\d" text-anchor="middle">'
    under_axis = [float(x) for x in re.findall(label, svg)]
    assert 2 <= len(under_axis) < len(months)
    assert min(b - a for a, b in zip(under_axis, under_axis[1:], strict=False)) >= 7 * 7 + 8
    notes = [float(y) for y in re.findall(r'<text class="chart-note" x="[\d.]+" y="([\d.]+)"', svg)]
    assert len(notes) == 3 and min(b - a for a, b in zip(notes, notes[1:], strict=False)) >= 16
