"""Logs hold no personal data, and characters the database cannot store are refused in French.

- Every engine hides SQL parameters (``hide_parameters``): a database error shows the statement, never the
  journal text, names or birth dates it carried, in its message and in the log.
- A NUL character or a lone surrogate, in a form field, a query parameter, the address or a JSON body, gets
  a French 400 naming the field, and nothing is written; a spreadsheet of tickets reports the line.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from importers.apply_tickets import check_tickets
from importers.tickets import parse_ticket_file
from portfolio.auth.models import Role
from portfolio.extensions import db
from portfolio.journal.models import JournalEntry
from portfolio.permissions import public
from tests import factories

SECRET = "Ma fille est placée en foyer depuis mars"


def test_a_database_error_shows_the_statement_not_the_values(app: Flask) -> None:
    with app.app_context():
        connection = db.engine.connect()
        try:
            with pytest.raises(sa.exc.IntegrityError) as failed:
                connection.execute(sa.insert(JournalEntry).values(
                    owner_id=-42, title=SECRET, body_md=SECRET, body_html=SECRET, entry_date=dt.date(1961, 3, 14)))
        finally:
            connection.close()
    message = str(failed.value)
    assert "INSERT INTO journal_entry" in message
    assert "hidden" in message and SECRET not in message and "1961" not in message


def test_a_failing_request_logs_no_values(app: Flask, db_session: Session, caplog: Any) -> None:
    @app.route("/_essai/ecriture-impossible")
    @public
    def failing() -> str:
        db.session.execute(sa.insert(JournalEntry).values(
            owner_id=-42, title=SECRET, body_md=SECRET, body_html="", entry_date=dt.date(1961, 3, 14)))
        return "jamais"

    app.config["PROPAGATE_EXCEPTIONS"] = False
    with caplog.at_level(logging.DEBUG):
        response = app.test_client().get("/_essai/ecriture-impossible")
    assert response.status_code == 500
    logged = "\n".join(f"{record.getMessage()} {record.exc_text or ''}" for record in caplog.records)
    assert "unexpected error" in logged and "IntegrityError" in "".join(
        str(r.exc_info[1]) if r.exc_info else "" for r in caplog.records) + logged
    for record in caplog.records:
        text = record.getMessage() + (str(record.exc_info[1]) if record.exc_info else "")
        assert SECRET not in text and "1961-03-14" not in text


# --- Characters the database cannot store ---------------------------------------------------------------


def refused(response: Any, field: str, where: str = "Le champ « {field} »") -> None:
    assert response.status_code == 400
    text = html.unescape(response.get_data(as_text=True))
    assert where.format(field=field) in text and "caractère invisible" in text, text[:3000]
    assert "Rien n'a été enregistré" in text


@pytest.mark.parametrize("bad", ["avant\x00après", "\x00"])
def test_a_nul_character_in_the_journal_editor_is_refused_naming_the_field(
        client: Any, login_as: Any, db_session: Session, bad: str) -> None:
    learner = login_as(Role.BENEFICIARY)
    response = client.post_form("/journal/nouveau", {"title": bad, "body_md": "Bonjour", "action": "publish",
                                                      "visibility": "private"})
    refused(response, "Titre")
    body = client.post_form("/journal/nouveau", {"title": "Titre", "body_md": f"Mon texte{bad}",
                                                 "action": "draft", "visibility": "private"})
    refused(body, "Ce que j'ai fait, ce que j'ai appris")
    db_session.expire_all()
    assert db_session.scalar(sa.select(sa.func.count(JournalEntry.id)).where(
        JournalEntry.owner_id == learner.id)) == 0


def test_the_autosave_answers_json_naming_the_field(client: Any, login_as: Any) -> None:
    login_as(Role.BENEFICIARY)
    token = client.csrf_token()
    response = client.post("/journal/enregistrer", data={"csrf_token": token, "title": "T", "tags": "a\x00b",
                                                         "action": "autosave"},
                           headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert "« Mots-clés »" in response.get_json()["message"]


def test_the_sign_in_form_a_query_and_an_address_are_refused_too(client: Any) -> None:
    refused(client.post_form("/login", {"username": "jeanne\x00", "password": "x"}), "Identifiant")
    in_address = "L'adresse de la page contient un caractère invisible qui ne peut pas être enregistré (dans « {field}"
    refused(client.get("/verifier?code=TN%00"), "code", in_address)
    refused(client.get("/invitation/abc%00def"), "token", in_address)


def test_a_lone_surrogate_in_a_json_body_is_refused(app: Flask, client: Any) -> None:
    seen = []

    @app.route("/_essai/json", methods=["POST"])
    @public
    def echo() -> str:
        seen.append(True)
        return "ok"

    body = json.dumps({"note": "\ud83d"})  # half an emoji: no UTF-8 form
    response = client.post("/_essai/json", data=body, content_type="application/json",
                           headers={"Accept": "application/json"})
    assert response.status_code == 400 and "« note »" in response.get_json()["message"] and not seen


def test_a_spreadsheet_with_a_nul_character_reports_the_line(db_session: Session) -> None:
    rows = "Nom;Prénom;Date de naissance;Commune;Public\r\nDelmas;Jean;14/03/1951;Cahors;seniors\r\n" \
           "Lafon\x00;Odile;02/05/1960;Figeac;seniors\r\n"
    parsed = parse_ticket_file(rows.encode(), "liste.csv", factories.scheme(db_session).public_categories,
                               dt.date.today())
    check = check_tickets(db_session, parsed, dt.date.today())
    assert [p.line for p in check.problems] == [3]
    assert "caractère invisible" in check.problems[0].reason and "Lafon" in check.problems[0].reason
