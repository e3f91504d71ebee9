"""Coordination pages, files and command: through the test client and the CLI runner."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from portfolio import create_app
from portfolio.auth.models import Role
from portfolio.config import ConfigurationError
from portfolio.enrolment.models import AttendanceStatus
from portfolio.orgs.models import OrgKind
from portfolio.timeutil import local_today
from tests import factories
from tests.conftest import app_overrides

NOW = dt.datetime.now(dt.UTC).replace(hour=10, minute=0, second=0, microsecond=0)
PERIOD = f"{NOW:%Y-%m}"


def learners(session: Session, epm: Any, prescriber: Any, count: int, sessions: int) -> list[Any]:
    """``count`` tickets registered at ``epm``, each present at ``sessions`` workshops this month."""
    tickets = []
    for index in range(count):
        ticket = factories.ticket(session, prescriber, last_name=f"Apprenant{index}")
        enrolment = factories.enrolment(session, ticket, epm, factories.user(session, Role.BENEFICIARY, epm))
        for day in range(sessions):
            workshop = factories.workshop(session, epm, NOW.replace(day=1) + dt.timedelta(hours=day * 3))
            factories.attend(session, workshop, enrolment)
        tickets.append(ticket)
    return tickets


@pytest.fixture
def network(db_session: Session) -> dict[str, Any]:
    caf = factories.organisation(db_session, OrgKind.PRESCRIBER, name="CAF du Lot")
    other = factories.organisation(db_session, OrgKind.PRESCRIBER, name="Caisse voisine")
    epm = factories.organisation(db_session, OrgKind.EPM, name="EPM de Souillac", code="epm-souillac")
    tickets = learners(db_session, epm, caf, 2, 3)
    learners(db_session, epm, other, 1, 1)
    return {"caf": caf, "other": other, "epm": epm, "tickets": tickets}


def test_dashboard_shows_figures_charts_and_tables(client: Any, login_as: Any, network: dict[str, Any]) -> None:
    login_as(Role.COORDINATOR)
    page = client.get("/coordination/tableau-de-bord").get_data(as_text=True)
    assert "Tableau de bord du dispositif" in page
    assert page.count('<svg class="chart"') == 8 and page.count("<details") == 8
    assert "Du ticket à la certification" in page and "Première séance suivie" in page
    assert "EPM de Souillac" in page and "CAF du Lot" in page
    assert "objectif 500" in page and "basse 450" in page and "haute 900" in page
    assert "/coordination/tableau-de-bord/parcours.csv" in page
    assert 'href="/coordination/tableau-de-bord/competences"' in page


def test_dashboard_query_count_does_not_grow_with_the_data(client: Any, login_as: Any, db_session: Session,
                                                          count_queries: Any) -> None:
    login_as(Role.COORDINATOR)
    counts = []
    for size in (1, 6):
        epm = factories.organisation(db_session, OrgKind.EPM)
        prescriber = factories.organisation(db_session, OrgKind.PRESCRIBER)
        learners(db_session, epm, prescriber, size, size)
        with count_queries() as counter:
            assert client.get("/coordination/tableau-de-bord").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1]
    assert counts[0] <= 8, counts


def test_dataset_csv_for_french_spreadsheets(client: Any, login_as: Any, network: dict[str, Any]) -> None:
    login_as(Role.COORDINATOR)
    response = client.get("/coordination/tableau-de-bord/prescripteurs.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data.startswith(b"\xef\xbb\xbf")
    lines = response.data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Prescripteur;Total;Émis;")
    caf = next(line for line in lines if line.startswith("CAF du Lot;"))
    assert caf.split(";")[1] == "2"
    competences = client.get("/coordination/tableau-de-bord/competences.csv").data.decode("utf-8-sig")
    assert competences.splitlines()[0] == "Domaine;Compétence;Intitulé;Apprenants"
    assert client.get("/coordination/tableau-de-bord/inconnu.csv").status_code == 404


def test_competences_page(client: Any, login_as: Any) -> None:
    login_as(Role.COORDINATOR)
    page = client.get("/coordination/tableau-de-bord/competences").get_data(as_text=True)
    assert "Compétences validées" in page and "D1.1" in page and '<svg class="chart"' in page


def test_payments_page_lists_each_epm_and_the_budget(client: Any, login_as: Any, network: dict[str, Any]) -> None:
    login_as(Role.COORDINATOR)
    page = client.get(f"/coordination/paiements?periode={PERIOD}").get_data(as_text=True)
    assert f"Relevé de la période {PERIOD}" in page
    assert "EPM de Souillac" in page
    assert "105,00 €" in page  # 7 sessions of 15 EUR
    assert "75\u202f000,00 €" in page and "Rémunération des EPM" in page
    assert f"/coordination/paiements/{PERIOD}/epm/{network['epm'].id}.pdf" in page
    # The default period is the current month.
    assert f'value="{PERIOD}"' in client.get("/coordination/paiements").get_data(as_text=True)


def test_a_bad_period_is_explained_and_kept(client: Any, login_as: Any) -> None:
    login_as(Role.COORDINATOR)
    response = client.get("/coordination/paiements?periode=mars")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Période invalide : « mars »" in page and 'value="mars"' in page and 'aria-invalid="true"' in page
    assert client.get("/coordination/paiements/mars.csv").status_code == 404


def test_epm_statement_page_and_files(client: Any, login_as: Any, network: dict[str, Any]) -> None:
    login_as(Role.COORDINATOR)
    base = f"/coordination/paiements/{PERIOD}/epm/{network['epm'].id}"
    page = client.get(base).get_data(as_text=True)
    assert "Relevé : EPM de Souillac" in page and network["tickets"][0].reference in page
    csv_lines = client.get(base + ".csv").data.decode("utf-8-sig").splitlines()
    assert len(csv_lines) == 1 + 3
    assert any(line.startswith(f"{PERIOD};epm-souillac;EPM de Souillac;{network['tickets'][0].reference};")
               and line.endswith(";3;45,00;3;45,00") for line in csv_lines)
    pdf = client.get(base + ".pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF-")
    assert client.get(f"/coordination/paiements/{PERIOD}/epm/999999").status_code == 404


def test_summary_files(client: Any, login_as: Any, network: dict[str, Any]) -> None:
    login_as(Role.COORDINATOR)
    lines = client.get(f"/coordination/paiements/{PERIOD}.csv").data.decode("utf-8-sig").splitlines()
    assert lines[0] == "Période;Code EPM;EPM;Tickets;Séances suivies;Montant (EUR)"
    assert f"{PERIOD};epm-souillac;EPM de Souillac;3;7;105,00" in lines
    assert lines[-1].startswith(f"{PERIOD};;Total;")
    assert client.get(f"/coordination/paiements/{PERIOD}.pdf").data.startswith(b"%PDF-")


def test_statement_document_holds_the_names_and_amounts(app: Any, db_session: Session,
                                                        network: dict[str, Any]) -> None:
    from flask import render_template

    from portfolio.catalogue.scheme import load_scheme_config
    from portfolio.stats import payments
    from portfolio.stats.exports import euros
    from portfolio.stats.periods import parse_period

    with app.test_request_context():
        found = payments.statement(db_session, load_scheme_config(db_session, "ticket-net-lot"),
                                   payments.PaymentRule.PRO_RATA, parse_period(PERIOD))
        html = render_template("stats/payments_pdf.html", statement=found, euros=euros, generated_on=local_today())
    assert "Récapitulatif" in html and "EPM de Souillac" in html and network["tickets"][0].reference in html
    assert "105,00 €" in html and "au prorata des séances suivies" in html


def test_anomalies_page_links_to_the_ticket_and_the_session(client: Any, login_as: Any, db_session: Session,
                                                           network: dict[str, Any]) -> None:
    epm = network["epm"]
    full = factories.workshop(db_session, epm, NOW - dt.timedelta(days=1), capacity=1)
    for _ in range(2):
        enrolment = factories.enrolment(db_session, factories.ticket(db_session), epm)
        factories.attend(db_session, full, enrolment, AttendanceStatus.EXPECTED)
    login_as(Role.COORDINATOR)
    page = client.get("/coordination/anomalies").get_data(as_text=True)
    assert 'Séance au-delà de sa capacité <span class="count">(1)</span>' in page
    assert f'href="/coordination/anomalies/seances/{full.id}"' in page and "2 personnes pour 1 places" in page
    sheet = client.get(f"/coordination/anomalies/seances/{full.id}").get_data(as_text=True)
    assert "Émargement" in sheet and "Attendu·e" in sheet
    ticket = network["tickets"][0]
    record = client.get(f"/coordination/anomalies/tickets/{ticket.id}").get_data(as_text=True)
    assert ticket.reference in record and "Présent·e" in record
    assert client.get("/coordination/anomalies/tickets/999999").status_code == 404
    assert client.get("/coordination/anomalies/seances/999999").status_code == 404


def test_prescriber_sees_the_outcome_of_its_own_tickets_only(client: Any, login_as: Any,
                                                            network: dict[str, Any]) -> None:
    login_as(Role.PRESCRIBER, organisation_=network["caf"])
    page = client.get("/prescripteur/bilan").get_data(as_text=True)
    assert "CAF du Lot" in page and "Caisse voisine" not in page
    assert "12 h" in page and "12,0" not in page  # 2 tickets x 3 sessions of 2 hours
    assert "400,00 €" in page and "120,00 €" in page  # engaged; used: 12 h of 10 EUR
    assert "journal" not in page.lower().replace("le journal et les compétences des personnes restent privés", "")
    assert 'href="/prescripteur/bilan"' in client.get("/prescripteur").get_data(as_text=True)


def test_coordination_pages_are_the_coordinators(client: Any, login_as: Any) -> None:
    login_as(Role.PRESCRIBER)
    for url in ("/coordination/tableau-de-bord", "/coordination/paiements", "/coordination/anomalies",
                f"/coordination/paiements/{PERIOD}.csv"):
        assert client.get(url).status_code == 404
    client.post_form("/logout")
    login_as(Role.COORDINATOR)
    home = client.get("/coordination").get_data(as_text=True)
    assert 'href="/coordination/tableau-de-bord"' in home
    assert client.get("/prescripteur/bilan").status_code == 404


def test_a_wrong_payment_rule_stops_the_application(tmp_path: Path, database_url: str) -> None:
    with pytest.raises(ConfigurationError, match="TICKETNET_PAYMENT_RULE"):
        create_app(app_overrides(database_url, tmp_path, PAYMENT_RULE="tout"))


def test_export_payments_command(runner: Any, db_session: Session, network: dict[str, Any], tmp_path: Path) -> None:
    db_session.commit()
    target = tmp_path / "paiements.csv"
    result = runner.invoke(args=["export", "payments", "--period", PERIOD, "--format", "csv", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "3 tickets, 7 séances, 105.00 EUR" in result.output
    lines = target.read_bytes().decode("utf-8-sig").splitlines()
    assert len(lines) == 1 + 3 and lines[0].startswith("Période;Code EPM;EPM;Référence du ticket;")
    pdf = tmp_path / "paiements.pdf"
    result = runner.invoke(args=["export", "payments", "--period", PERIOD, "--format", "pdf", "--epm",
                                 "epm-souillac", "-o", str(pdf)])
    assert result.exit_code == 0 and pdf.read_bytes().startswith(b"%PDF-")


@pytest.mark.parametrize("args,message", [
    (["--period", "2026-13"], "Période invalide : « 2026-13 »"),
    (["--period", "2026-03", "--epm", "nulle-part"], "EPM inconnu : nulle-part"),
])
def test_export_payments_refuses_bad_input(runner: Any, tmp_path: Path, args: list[str], message: str) -> None:
    target = tmp_path / "out.csv"
    result = runner.invoke(args=["export", "payments", *args, "-o", str(target)])
    assert result.exit_code == 1 and message in result.output
    assert not target.exists()


def test_export_payments_usage_error(runner: Any, tmp_path: Path) -> None:
    result = runner.invoke(args=["export", "payments", "--period", "2026-03", "--format", "xls", "-o", "x"])
    assert result.exit_code == 2
