"""Issuing tickets, finding them by reference, expiry, cancelling, lists and the CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy.orm import Session

from portfolio.enrolment.models import AttendanceStatus
from portfolio.orgs.models import OrgKind
from portfolio.tickets import reference
from portfolio.tickets import services as tickets
from portfolio.tickets.models import TicketStatus
from portfolio.tickets.services import Holder, TicketRefused
from tests import factories

TODAY = dt.date(2026, 3, 15)


def holder(last: str = "Delmas", first: str = "Jean", **fields: object) -> Holder:
    values: dict[str, object] = {"last_name": last, "first_name": first, "birth_date": dt.date(1951, 3, 14),
                                 "commune": "Cahors", "public_category": "seniors"}
    values.update(fields)
    return Holder(**values)  # type: ignore[arg-type]


def issue(session: Session, *holders: Holder, prescriber=None, issued_on: dt.date = TODAY):  # type: ignore[no-untyped-def]
    prescriber = prescriber or factories.organisation(session, OrgKind.PRESCRIBER)
    return tickets.issue_tickets(session, factories.scheme(session), prescriber, list(holders or [holder()]),
                                 issued_on)


def test_issue_prints_the_scheme_terms_and_a_valid_reference(db_session: Session) -> None:
    scheme = factories.scheme(db_session)
    [ticket] = issue(db_session, holder(phone=" 06 12 34 56 78 "))
    assert reference.is_valid(ticket.reference) and ticket.reference.startswith("TN46-2026-")
    assert (ticket.value_cents, ticket.hours, ticket.sessions, ticket.session_minutes) == (
        scheme.value_cents, scheme.hours, scheme.sessions, scheme.session_minutes)
    assert ticket.issued_on == TODAY
    assert ticket.expires_on == dt.date(2027, 3, 14)  # valid 12 months from the issue date
    assert ticket.status == TicketStatus.ISSUED.value and ticket.phone == "06 12 34 56 78"


def test_a_batch_gets_consecutive_distinct_references(db_session: Session) -> None:
    batch = issue(db_session, holder("A"), holder("B"), holder("C"))
    serials = [reference.parse(t.reference).serial for t in batch]
    assert serials == list(range(serials[0], serials[0] + 3))
    [later] = issue(db_session, holder("D"))
    assert reference.parse(later.reference).serial == serials[-1] + 1
    [next_year] = issue(db_session, holder("E"), issued_on=dt.date(2027, 1, 2))
    assert next_year.reference.startswith("TN46-2027-")


def test_unknown_public_category_is_refused(db_session: Session) -> None:
    with pytest.raises(TicketRefused, match="Catégorie de public inconnue"):
        issue(db_session, holder(public_category="martiens"))


def test_only_a_prescriber_issues(db_session: Session) -> None:
    with pytest.raises(TicketRefused):
        issue(db_session, holder(), prescriber=factories.epm(db_session))


def test_expiry_is_computed_never_stored(db_session: Session) -> None:
    [ticket] = issue(db_session)
    assert ticket.effective_status(dt.date(2027, 3, 14)) is TicketStatus.ISSUED
    assert ticket.effective_status(dt.date(2027, 3, 15)) is TicketStatus.EXPIRED
    assert ticket.status == TicketStatus.ISSUED.value
    counts = tickets.status_counts(db_session, dt.date(2027, 3, 15), ticket.prescriber_id)
    assert counts[TicketStatus.EXPIRED] == 1


@pytest.mark.parametrize("typed,reason", [
    ("TN46-2026-00421-K", "n'a pas la forme"),
    ("hello", "n'a pas la forme"),
])
def test_find_by_reference_reasons(db_session: Session, typed: str, reason: str) -> None:
    with pytest.raises(TicketRefused, match=reason):
        tickets.find_by_reference(db_session, typed)


def test_find_by_reference_mistyped_unknown_and_found(db_session: Session) -> None:
    [ticket] = issue(db_session)
    wrong_letter = ticket.reference[:-1] + ("A" if ticket.reference[-1] != "A" else "B")
    with pytest.raises(TicketRefused, match="vérifiez le caractère de contrôle"):
        tickets.find_by_reference(db_session, wrong_letter)
    with pytest.raises(TicketRefused, match="Aucun ticket"):
        tickets.find_by_reference(db_session, reference.make_reference("46", 2026, 999_998))
    assert tickets.find_by_reference(db_session, ticket.reference.lower().replace("-", " ")) is ticket


def test_cancel_only_an_unused_ticket(db_session: Session) -> None:
    [unused, used] = issue(db_session, holder("A"), holder("B"))
    tickets.cancel_ticket(db_session, unused, TODAY)
    assert unused.effective_status(TODAY) is TicketStatus.CANCELLED and unused.cancelled_at is not None
    epm = factories.epm(db_session)
    enrolment = factories.enrolment(db_session, used, epm)
    workshop = factories.workshop(db_session, epm, dt.datetime(2026, 3, 16, 9, tzinfo=dt.UTC))
    factories.attend(db_session, workshop, enrolment, AttendanceStatus.PRESENT)
    with pytest.raises(TicketRefused, match="déjà servi"):
        tickets.cancel_ticket(db_session, used, TODAY)


def test_expiring_soon_for_prescriber_and_epm(db_session: Session) -> None:
    prescriber = factories.organisation(db_session, OrgKind.PRESCRIBER)
    soon = factories.ticket(db_session, prescriber, issued_on=dt.date(2025, 4, 1))  # last day 2026-03-31
    later = factories.ticket(db_session, prescriber, issued_on=dt.date(2025, 6, 1))
    gone = factories.ticket(db_session, prescriber, issued_on=dt.date(2025, 3, 1))  # expired 2026-02-28
    done = factories.ticket(db_session, prescriber, issued_on=dt.date(2025, 4, 2), status=TicketStatus.COMPLETED.value)
    rows = tickets.expiring_soon(db_session, TODAY, prescriber_ids=[prescriber.id])
    assert [r.ticket for r in rows] == [soon]
    assert later not in [r.ticket for r in rows] and gone not in [r.ticket for r in rows] and done
    epm = factories.epm(db_session)
    assert tickets.expiring_soon(db_session, TODAY, epm_ids=[epm.id]) == []
    factories.enrolment(db_session, soon, epm)
    assert [r.ticket for r in tickets.expiring_soon(db_session, TODAY, epm_ids=[epm.id])] == [soon]


def test_list_tickets_filters_and_counts_hours(db_session: Session) -> None:
    mine = factories.organisation(db_session, OrgKind.PRESCRIBER)
    other = factories.organisation(db_session, OrgKind.PRESCRIBER)
    [a, b] = issue(db_session, holder("Alpha"), holder("Bravo"), prescriber=mine)
    issue(db_session, holder("Charlie"), prescriber=other)
    epm = factories.epm(db_session)
    enrolment = factories.enrolment(db_session, a, epm)
    for day in (1, 8):
        workshop = factories.workshop(db_session, epm, dt.datetime(2026, 4, day, 9, tzinfo=dt.UTC))
        factories.attend(db_session, workshop, enrolment, AttendanceStatus.PRESENT)
    total, rows = tickets.list_tickets(db_session, TODAY, prescriber_ids=[mine.id])
    assert total == 2 and {r.ticket.last_name for r in rows} == {"Alpha", "Bravo"}
    by_name = {r.ticket.last_name: r for r in rows}
    assert by_name["Alpha"].used == tickets.Ledger(2, 240) and by_name["Alpha"].used.hours == 4
    assert tickets.list_tickets(db_session, TODAY, prescriber_ids=[mine.id], search="brav")[0] == 1
    total, rows = tickets.list_tickets(db_session, TODAY, prescriber_ids=[mine.id], status=TicketStatus.REGISTERED)
    assert [r.ticket for r in rows] == [a] and b


def test_export_csv(db_session: Session) -> None:
    mine = factories.organisation(db_session, OrgKind.PRESCRIBER, code="caf-test")
    [ticket] = issue(db_session, holder("Lafon", "Odile"), prescriber=mine)
    issue(db_session, holder("Other"))
    content = tickets.export_csv(db_session, TODAY, mine)
    assert content.startswith("\ufeffreference;prescripteur;nom;".encode())  # the site's one CSV writer
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 1
    assert rows[0]["reference"] == ticket.reference and rows[0]["nom"] == "Lafon"
    assert rows[0]["etat"] == "issued" and rows[0]["heures_utilisees"] == "0" and rows[0]["prescripteur"] == "caf-test"
    everything = list(csv.DictReader(io.StringIO(tickets.export_csv(db_session, TODAY).decode("utf-8-sig")),
                                     delimiter=";"))
    assert len(everything) >= 2
