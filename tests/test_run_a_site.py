"""A real site from an empty database, through the commands: ``ticketnet init`` and ``ticketnet admin create``,
then the organisations and the staff (``ticketnet orgs``, ``ticketnet accounts``: one invited by e-mail through a
real SMTP server on loopback, one by a printed card); the people then sign in for the first time on the site,
the prescriber issues a ticket, and the animator registers it and prints the workshop group's login cards.
(``tests/browser/test_run_a_site.py`` walks the same journey in the browser, from the admin pages.)"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from portfolio import create_app
from portfolio.checks import run_checks
from portfolio.extensions import db
from portfolio.timeutil import local_today
from tests import conftest
from tests.conftest import app_overrides
from tests.mailbox import Mailbox

PASSWORDS = {"anne.lacaze": "causse noyer truffe lot", "claire.vidal": "figeac pont vieux celé",
             "paul.cabrol": "caf lot quercy safran"}


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def code_of(text: str) -> str:
    match = re.search(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b", text)
    assert match, text
    return match.group(1)


def test_a_site_from_an_empty_database_through_the_commands(fresh_database_url: str, tmp_path: Path) -> None:
    steps: list[str] = []
    with Mailbox() as mailbox:
        overrides = app_overrides(fresh_database_url, tmp_path, SMTP_URL=mailbox.url, PUBLIC_URL="http://localhost")
        app = create_app(overrides)
        app.test_client_class = conftest.TestClient
        runner = app.test_cli_runner()

        def run(*args: str) -> str:
            result = runner.invoke(args=list(args))
            assert result.exit_code == 0, f"ticketnet {' '.join(args)}: {result.output}"
            steps.append("ticketnet " + " ".join(args[:2]))
            return result.output

        try:
            run("init")
            assert any("aucun administrateur" in note for note in run_checks(overrides).notes)  # ticketnet check
            run("admin", "create", "anne.lacaze", "--password", PASSWORDS["anne.lacaze"], "--first-name", "Anne",
                "--last-name", "Lacaze")
            assert not any("aucun administrateur" in note for note in run_checks(overrides).notes)
            run("orgs", "create", "--kind", "epm", "--code", "epm-figeac", "--name", "EPM de Figeac", "--postcode",
                "46100", "--commune", "Figeac", "--insee", "46102", "--siret", "21460102400018", "--capacity", "8",
                "--opening-hours", "mardi 9 h – 12 h, jeudi 17 h – 20 h", "--modules", "1-12")
            run("orgs", "create", "--kind", "prescriber", "--code", "caf46", "--name", "CAF du Lot")
            run("accounts", "create", "claire.vidal", "--role", "animator", "--organisation", "epm-figeac", "--lead",
                "--first-name", "Claire", "--last-name", "Vidal", "--email", "claire.vidal@figeac.fr")
            assert "Invitation envoyée à claire.vidal@figeac.fr" in run("accounts", "invite", "claire.vidal")
            run("accounts", "create", "paul.cabrol", "--role", "prescriber", "--organisation", "caf46",
                "--first-name", "Paul", "--last-name", "Cabrol")
            card_file = tmp_path / "carte-paul.pdf"
            run("accounts", "invite", "paul.cabrol", "--card", str(card_file))
            assert mailbox.recipients == [["claire.vidal@figeac.fr"]]
            link = re.search(r"http://localhost(/acces/[\w-]+)", mailbox.body()).group(1)
            web = app.test_client()

            # The animator follows the link of her e-mail and chooses her password.
            chosen = web.post_form(link, {"new_password": PASSWORDS["claire.vidal"],
                                          "confirm_password": PASSWORDS["claire.vidal"]})
            assert chosen.headers["Location"] == "/epm"
            steps.append("animator: first sign-in through the e-mailed link")
            web.post_form("/logout")

            # The prescriber types the code of his card.
            step = web.post_form("/premiere-connexion", {"username": "paul.cabrol",
                                                         "code": code_of(pdf_text(card_file.read_bytes()))})
            assert step.headers["Location"] == "/premiere-connexion/mot-de-passe"
            done = web.post_form("/premiere-connexion/mot-de-passe", {"password": PASSWORDS["paul.cabrol"],
                                                                      "confirm": PASSWORDS["paul.cabrol"]})
            assert done.headers["Location"] == "/prescripteur"
            steps.append("prescriber: first sign-in with the printed card")
            issued = web.post_form("/tickets/emettre", {
                "last_name": "Delpech", "first_name": "Odile", "birth_date": "02/03/1950", "commune": "Capdenac",
                "public_category": "seniors", "prescriber": _org_id(app, "caf46")})
            reference = re.search(r"TN46-\d{4}-\d{6}-[A-Z]", issued.get_data(as_text=True)).group(0)
            steps.append("prescriber: issues a ticket")
            web.post_form("/logout")

            # The animator registers the ticket, holds the interview, plans a workshop, books Odile, prints the
            # group's login cards.
            signed = web.post_form("/login", {"username": "claire.vidal", "password": PASSWORDS["claire.vidal"]})
            assert signed.headers["Location"] == "/epm"
            epm_id = _org_id(app, "epm-figeac")
            registered = web.post_form("/epm/inscrire", {"epm": epm_id, "reference": reference,
                                                         "last_name": "Delpech", "birth_date": "02/03/1950"})
            assert registered.status_code == 302, registered.get_data(as_text=True)[:3000]
            enrolment_id = int(registered.headers["Location"].rsplit("/", 1)[1])
            steps.append("animator: registers the ticket")
            modules = _module_ids(app, range(1, 11))
            interview = web.post_form(f"/epm/apprenants/{enrolment_id}/entretien", {
                "held_on": local_today().isoformat(), "projects": "Écrire à mes petits-enfants", "modules": modules})
            assert interview.status_code == 302
            planned = web.post_form("/epm/ateliers/nouveau", {"epm": epm_id, "module": modules[0],
                                                              "day": local_today().isoformat(), "start": "23:00",
                                                              "capacity": "5"})
            assert planned.status_code == 302, planned.get_data(as_text=True)[:3000]
            workshop_url = planned.headers["Location"]
            assert web.post_form(workshop_url + "/reserver", {"enrolment": enrolment_id}).status_code == 302
            page = web.get(workshop_url + "/cartes").get_data(as_text=True)
            learner, state = re.search(r'name="state-(\d+)" value="([\w-]+)"', page).groups()
            assert state == "none"
            printed = web.post_form(workshop_url + "/cartes", {"learner": learner, f"state-{learner}": state})
            assert printed.mimetype == "application/pdf"
            text = pdf_text(printed.data)
            assert "odile.delpech" in text and "EPM de Figeac" in text and code_of(text)
            steps.append("animator: prints the group's login cards")
        finally:
            db.state(app).engine.dispose()
    assert len(steps) == 13, steps  # 8 commands, then 5 steps of the people on the site


def _org_id(app: Any, code: str) -> int:
    from portfolio.orgs.services import find

    with app.app_context():
        org = find(db.session, code)
        assert org is not None
        return org.id


def _module_ids(app: Any, numbers: range) -> list[int]:
    import sqlalchemy as sa

    from portfolio.catalogue.models import Module

    with app.app_context():
        return list(db.session.scalars(sa.select(Module.id).where(Module.number.in_(numbers)).order_by(Module.number)))
