"""The prescriber's pages, the printed ticket and the ``ticketnet tickets`` commands."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pypdf import PdfReader
from sqlalchemy.orm import Session

from portfolio.auth.models import Role
from portfolio.orgs.models import OrgKind
from portfolio.tickets import reference
from portfolio.tickets.models import Ticket, TicketStatus
from tests import factories


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def prescriber_org(session: Session, name: str = "CAF du Lot") -> Any:
    return factories.organisation(session, OrgKind.PRESCRIBER, name=name)


FORM = {"last_name": "Delmas", "first_name": "Jean", "birth_date": "1951-03-14", "commune": "Cahors",
        "public_category": "seniors", "phone": "05 65 00 00 00", "email": ""}


def test_prescriber_issues_one_ticket_and_prints_it(client: Any, login_as: Any, db_session: Session) -> None:
    org = prescriber_org(db_session)
    factories.epm(db_session, name="EPM de Souillac", address="3 rue du Quercy", postcode="46200", city="Souillac")
    login_as(Role.PRESCRIBER, organisation_=org)
    response = client.post_form("/tickets/emettre", {**FORM, "prescriber": org.id})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Tickets émis" in page and "1 ticket émis. Imprimez-le" in page
    ticket = db_session.scalar(sa.select(Ticket).where(Ticket.prescriber_id == org.id))
    assert ticket is not None and reference.is_valid(ticket.reference) and ticket.issued_by_id is not None
    assert ticket.reference in page

    pdf = client.get(f"/tickets/imprimer?id={ticket.id}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    for expected in (ticket.reference, "Jean Delmas", "200 €", "20 heures", "EPM de Souillac",
                     "3 rue du Quercy, 46200 Souillac", "CAF du Lot"):
        assert expected in text, expected
    assert ticket.expires_on.year == dt.date.today().year + 1


def test_bad_input_is_kept_and_explained_in_french(client: Any, login_as: Any, db_session: Session) -> None:
    org = prescriber_org(db_session)
    login_as(Role.PRESCRIBER, organisation_=org)
    page = client.post_form("/tickets/emettre", {**FORM, "prescriber": org.id, "birth_date": "",
                                                 "email": "pas-une-adresse"}).get_data(as_text=True)
    assert "Écrivez la date de naissance" in page and "adresse électronique n'est pas complète" in html.unescape(page)
    assert 'value="Delmas"' in page and 'value="pas-une-adresse"' in page
    assert db_session.scalar(sa.select(sa.func.count(Ticket.id)).where(Ticket.prescriber_id == org.id)) == 0


def test_batch_is_all_or_nothing(client: Any, login_as: Any, db_session: Session) -> None:
    org = prescriber_org(db_session)
    login_as(Role.PRESCRIBER, organisation_=org)
    lines = "Delmas ; Jean ; 14/03/1951 ; Cahors\nBenali;Fatima;31/02/1984;Figeac\nPons ; Annie ; 17/09/1947 ; Gramat"
    page = client.post_form("/tickets/emettre-plusieurs", {"prescriber": org.id, "public_category": "seniors",
                                                           "people": lines}).get_data(as_text=True)
    assert "Ligne 2 : « 31/02/1984 » n'est pas une date de naissance" in html.unescape(page)
    assert "Benali;Fatima;31/02/1984;Figeac" in page
    assert db_session.scalar(sa.select(sa.func.count(Ticket.id)).where(Ticket.prescriber_id == org.id)) == 0
    fixed = lines.replace("31/02/1984", "28/02/1984")
    page = client.post_form("/tickets/emettre-plusieurs", {"prescriber": org.id, "public_category": "seniors",
                                                           "people": fixed}).get_data(as_text=True)
    issued = db_session.scalars(sa.select(Ticket).where(Ticket.prescriber_id == org.id).order_by(Ticket.id)).all()
    assert [t.last_name for t in issued] == ["Delmas", "Benali", "Pons"]
    assert "Imprimer les 3 tickets" in page
    pdf = client.get("/tickets/imprimer?" + "&".join(f"id={t.id}" for t in issued))
    reader = PdfReader(io.BytesIO(pdf.data))
    assert len(reader.pages) == 3
    text = pdf_text(pdf.data)
    assert all(t.reference in text and t.first_name in text for t in issued)


def test_a_prescriber_sees_only_its_own_tickets(client: Any, login_as: Any, db_session: Session) -> None:
    mine, theirs = prescriber_org(db_session), prescriber_org(db_session, "MSA")
    my_ticket = factories.ticket(db_session, mine, last_name="Mienne")
    their_ticket = factories.ticket(db_session, theirs, last_name="Autre")
    login_as(Role.PRESCRIBER, organisation_=mine)
    page = client.get("/tickets").get_data(as_text=True)
    assert "Mienne" in page and "Autre" not in page
    assert client.get(f"/tickets/{my_ticket.id}").status_code == 200
    assert client.get(f"/tickets/{their_ticket.id}").status_code == 404
    assert client.get(f"/tickets/imprimer?id={their_ticket.id}").status_code == 404
    assert client.get(f"/tickets/imprimer?id={my_ticket.id}&id={their_ticket.id}").status_code == 404
    assert client.post_form(f"/tickets/{their_ticket.id}/annuler").status_code == 404


def test_prescriber_follows_hours_never_the_journal(client: Any, login_as: Any, db_session: Session) -> None:
    from portfolio.enrolment.models import AttendanceStatus
    from portfolio.journal.models import EntryStatus, JournalEntry

    org = prescriber_org(db_session)
    ticket = factories.ticket(db_session, org)
    epm = factories.epm(db_session)
    learner = factories.user(db_session, Role.BENEFICIARY, epm)
    enrolment = factories.enrolment(db_session, ticket, epm, learner)
    workshop = factories.workshop(db_session, epm, factories.NOW - dt.timedelta(days=2))
    factories.attend(db_session, workshop, enrolment, AttendanceStatus.PRESENT)
    db_session.add(JournalEntry(owner_id=learner.id, title="Secret du journal", body_md="x", body_html="<p>x</p>",
                                entry_date=dt.date.today(), status=EntryStatus.PUBLISHED.value))
    db_session.flush()
    login_as(Role.PRESCRIBER, organisation_=org)
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "2 h sur 20" in page and "1 sur 10" in page and "Inscrit dans un EPM" in page
    assert "Secret du journal" not in page


def test_cancel_from_the_ticket_page(client: Any, login_as: Any, db_session: Session) -> None:
    org = prescriber_org(db_session)
    ticket = factories.ticket(db_session, org)
    login_as(Role.PRESCRIBER, organisation_=org)
    response = client.post_form(f"/tickets/{ticket.id}/annuler", follow_redirects=True)
    assert "est annulé" in response.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Ticket, ticket.id).status == TicketStatus.CANCELLED.value


def test_list_filters_and_query_count(client: Any, login_as: Any, db_session: Session, count_queries: Any) -> None:
    org = prescriber_org(db_session)
    for _ in range(3):
        factories.ticket(db_session, org)
    factories.ticket(db_session, org, issued_on=dt.date.today() - dt.timedelta(days=400))
    login_as(Role.PRESCRIBER, organisation_=org)
    assert "1 ticket" in client.get("/tickets?etat=expired").get_data(as_text=True)
    with count_queries() as few:
        client.get("/tickets")
    for _ in range(10):
        factories.ticket(db_session, org)
    db_session.commit()
    with count_queries() as many:
        assert "14 tickets" in client.get("/tickets").get_data(as_text=True)
    assert few.count == many.count <= 8


def test_coordinator_sees_every_ticket(client: Any, login_as: Any, db_session: Session) -> None:
    ticket = factories.ticket(db_session, prescriber_org(db_session), last_name="Quelconque")
    login_as(Role.COORDINATOR)
    assert "Quelconque" in client.get("/tickets").get_data(as_text=True)
    assert client.get(f"/tickets/{ticket.id}").status_code == 200


def test_prescriber_home_lists_tickets_expiring_soon(client: Any, login_as: Any, db_session: Session) -> None:
    org = prescriber_org(db_session)
    today = dt.date.today()
    soon = factories.ticket(db_session, org, last_name="Bientôt", issued_on=today - dt.timedelta(days=350))
    factories.ticket(db_session, org, last_name="Tranquille")
    login_as(Role.PRESCRIBER, organisation_=org)
    page = client.get("/prescripteur").get_data(as_text=True)
    assert "expirent dans les 30 jours" in page and soon.reference in page and "Tranquille" not in page


# --- Command line -----------------------------------------------------------------------------------


def test_tickets_check_command(runner: Any, app: Any, db_session: Session) -> None:
    ticket = factories.ticket(db_session)
    db_session.commit()
    ok = runner.invoke(args=["tickets", "check", ticket.reference.lower()])
    assert ok.exit_code == 0, ok.output
    assert ticket.reference in ok.output and "issued" in ok.output and "Émis" in ok.output
    mistyped = ticket.reference[:-1] + ("A" if ticket.reference[-1] != "A" else "B")
    bad = runner.invoke(args=["tickets", "check", mistyped])
    assert bad.exit_code == 1 and "caractère de contrôle" in bad.output
    unknown = runner.invoke(args=["tickets", "check", reference.make_reference("46", 2020, 123)])
    assert unknown.exit_code == 1 and "Aucun ticket" in unknown.output
    assert runner.invoke(args=["tickets", "check"]).exit_code == 2


def test_tickets_export_command(runner: Any, db_session: Session, tmp_path: Path) -> None:
    org = factories.organisation(db_session, OrgKind.PRESCRIBER, code="msa-test")
    ticket = factories.ticket(db_session, org, last_name="Exporté")
    factories.ticket(db_session)
    db_session.commit()
    target = tmp_path / "tickets.csv"
    result = runner.invoke(args=["tickets", "export", "--prescriber", "msa-test", "-o", str(target)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert [(r["reference"], r["nom"], r["etat"]) for r in rows] == [(ticket.reference, "Exporté", "issued")]
    assert "1 tickets écrits" in result.output
    unknown = runner.invoke(args=["tickets", "export", "--prescriber", "nope", "-o", str(target)])
    assert unknown.exit_code == 1 and "prescripteur inconnu" in unknown.output
    everything = runner.invoke(args=["tickets", "export", "-o", str(tmp_path / "all.csv")])
    everything_rows = csv.DictReader(io.StringIO((tmp_path / "all.csv").read_text("utf-8-sig")), delimiter=";")
    assert everything.exit_code == 0 and len(list(everything_rows)) >= 2


def test_nobody_gets_a_second_ticket_still_in_use(client: Any, login_as: Any, db_session: Session) -> None:
    org = prescriber_org(db_session)
    factories.ticket(db_session, prescriber_org(db_session, "MSA"), last_name="DELMAS", first_name="jean",
                     birth_date=dt.date(1951, 3, 14))  # issued elsewhere, written differently
    login_as(Role.PRESCRIBER, organisation_=org)
    page = html.unescape(client.post_form("/tickets/emettre", {**FORM, "prescriber": org.id}).get_data(as_text=True))
    assert "Jean Delmas (né·e le 14/03/1951) a déjà un Ticket Net en cours de validité" in page
    assert 'value="Delmas"' in page  # what was typed is kept
    lines = "Pons ; Annie ; 17/09/1947 ; Gramat\nDelmas ; Jean ; 14/03/1951 ; Cahors"
    page = html.unescape(client.post_form("/tickets/emettre-plusieurs", {
        "prescriber": org.id, "public_category": "seniors", "people": lines}).get_data(as_text=True))
    assert "Jean Delmas (né·e le 14/03/1951) a déjà un Ticket Net" in page
    assert db_session.scalar(sa.select(sa.func.count(Ticket.id)).where(Ticket.prescriber_id == org.id)) == 0
