"""Every CSV the site or the command line writes goes through one writer (portfolio/csvfile.py) and opens in a
spreadsheet without running anything: this module finds every CSV route of the URL map and every command that
writes CSV, feeds them people and organisations whose names are formulas, and reads each file back."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from competences.models import Level, Voice
from competences.services import record_assessment
from portfolio.auth.models import Role, User
from portfolio.csvfile import csv_bytes, safe_cell
from portfolio.orgs.models import OrgKind
from portfolio.sharing import submissions
from tests import factories

NOW = dt.datetime.now(dt.UTC).replace(hour=10, minute=0, second=0, microsecond=0)
PERIOD = f"{NOW:%Y-%m}"
# What a spreadsheet would run, or read as a formula: each starts differently.
LINK = '=HYPERLINK("https://evil.example/?vol";"Cliquez ici")'
PLUS = "+cmd|' /C calc'!A0"
MINUS = "-2+3+cmd|' /C notepad'!A0"
AT = "@SUM(1+9)*cmd|' /C calc'!A0"
TAB = "\t=1+1"
SPACED = "  =1+2"
HOSTILE = (LINK, PLUS, MINUS, AT, TAB, SPACED)
ROOT = Path(__file__).resolve().parents[1]


def dangerous(cell: str) -> bool:
    """Written here, not taken from the code under test: a cell whose first visible character makes a
    spreadsheet compute (=, +, -, @), or that starts with a tab or a carriage return, unless it is only a
    number (``-12,50``) or starts with the quote that keeps it text."""
    if not cell or cell.startswith("'"):
        return False
    if cell[0] in "\t\r\n":
        return True
    visible = cell.lstrip(" \u00a0\u202f")
    return visible[:1] in ("=", "+", "-", "@") and not re.fullmatch(r"[+-]?\d+([.,]\d+)?", visible)


def read(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "the CSV must start with a UTF-8 BOM"
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows and len(rows[0]) > 1, "the header must be separated by ';'"
    return rows


def kept_as_text(content: bytes) -> set[str]:
    """The hostile values found in cells written as text (with the leading quote)."""
    cells = [cell for row in read(content) for cell in row if cell.startswith("'")]
    return {value for value in HOSTILE if any(value.strip() in cell for cell in cells)}


def problems_in(name: str, content: bytes) -> list[str]:
    return [f"{name}: {cell!r}" for row in read(content) for cell in row if dangerous(cell)]


@pytest.fixture
def hostile_world(db_session: Session) -> dict[str, Any]:
    """A prescriber, an EPM, a training body, an animator and a learner whose names are formulas; the learner
    holds a ticket, attended workshops this month (so she is paid for) and sent her file."""
    prescriber = factories.organisation(db_session, OrgKind.PRESCRIBER, name=PLUS, code="caf-hostile")
    epm = factories.epm(db_session, name=LINK, code="epm-hostile")
    greta = factories.organisation(db_session, OrgKind.TRAINING_BODY, name=AT, code="greta-hostile")
    assessor = factories.user(db_session, Role.ASSESSOR, greta, first_name=MINUS, last_name=TAB)
    animator = factories.user(db_session, Role.ANIMATOR, epm, first_name=LINK, last_name=SPACED)
    learner = factories.user(db_session, Role.BENEFICIARY, epm, first_name=AT, last_name=LINK)
    ticket = factories.ticket(db_session, prescriber, last_name=LINK, first_name=MINUS, commune=AT)
    enrolment = factories.enrolment(db_session, ticket, epm, learner)
    for hours in (0, 3):
        workshop = factories.workshop(db_session, epm, NOW.replace(day=1) + dt.timedelta(hours=hours))
        factories.attend(db_session, workshop, enrolment)
    entry = factories.journal_entry(db_session, learner, title=PLUS, in_portfolio=True, visibility="consented")
    record_assessment(db_session, learner, factories.competence(db_session, "D1.1"), Voice.ANIMATOR,
                      Level.ACQUIRED, animator, evidence=[entry], at=NOW)
    submissions.send(db_session, learner, greta.id, NOW)
    db_session.commit()
    return {"prescriber": prescriber, "epm": epm, "greta": greta, "assessor": assessor, "learner": learner}


# --- Routes ------------------------------------------------------------------------------------------------


def csv_rules(app: Flask) -> list[Rule]:
    return [rule for rule in app.url_map.iter_rules() if "csv" in rule.rule]


def _choices(rule: Rule, argument: str) -> list[str]:
    converter = rule._converters[argument]  # type: ignore[attr-defined]
    return sorted(getattr(converter, "items", {})) or []


def urls_of(app: Flask, rule: Rule, world: dict[str, Any]) -> Iterator[str]:
    """Every CSV address of this rule: each dataset of an ``any`` converter, the CSV format only."""
    from flask import url_for

    fixed = {"period": PERIOD, "epm_id": world["epm"].id, "organisation_id": world["greta"].id}
    unknown = [a for a in rule.arguments if a not in fixed and a not in ("fmt", "dataset")]
    assert not unknown, f"{rule.rule}: tell tests/test_csv_exports.py which value to use for {unknown}"
    datasets = _choices(rule, "dataset") if "dataset" in rule.arguments else [None]
    for dataset in datasets:
        values = {k: v for k, v in fixed.items() if k in rule.arguments}
        if "fmt" in rule.arguments:
            assert "csv" in _choices(rule, "fmt")
            values["fmt"] = "csv"
        if dataset is not None:
            values["dataset"] = dataset
        with app.test_request_context():
            yield url_for(rule.endpoint, **values)


# Who downloads each CSV: the first part of its address says whose page it is.
READER_BY_PREFIX = {"/coordination/": Role.COORDINATOR, "/evaluation/": Role.ASSESSOR}


def test_every_csv_route_writes_formulas_as_text(app: Flask, client: Any, login_as: Any, db_session: Session,
                                                 hostile_world: dict[str, Any]) -> None:
    rules = csv_rules(app)
    assert len(rules) >= 4  # the dashboard's tables, the payments summary and statement, the readiness export
    readers: dict[Role, User] = {Role.COORDINATOR: factories.user(db_session, Role.COORDINATOR),
                                 Role.ASSESSOR: hostile_world["assessor"]}
    problems: list[str] = []
    seen_hostile: set[str] = set()
    downloads = 0
    for rule in rules:
        role = next((r for prefix, r in READER_BY_PREFIX.items() if rule.rule.startswith(prefix)), None)
        assert role is not None, f"{rule.rule}: add who downloads it to READER_BY_PREFIX"
        client.post_form("/logout")
        login_as(user=readers[role])
        for url in urls_of(app, rule, hostile_world):
            response = client.get(url)
            assert response.status_code == 200, url
            assert response.mimetype == "text/csv" and response.mimetype_params.get("charset") == "utf-8", url
            assert "attachment" in response.headers["Content-Disposition"], url
            problems += problems_in(url, response.data)
            seen_hostile |= kept_as_text(response.data)
            downloads += 1
    assert problems == []
    assert downloads >= 12
    # The names did reach the files (as text): the EPM, the holder, the learner, the animator, the prescriber.
    assert {LINK, MINUS, AT, PLUS, SPACED} <= seen_hostile, seen_hostile


# --- Commands ----------------------------------------------------------------------------------------------


def commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Command]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))
        else:
            yield " ".join((*path, name)), command


def writes_csv(command: click.Command) -> bool:
    """A command offers a CSV format, or says that it writes CSV."""
    offers = any(isinstance(p.type, click.Choice) and "csv" in p.type.choices for p in command.params)
    return offers or "CSV" in (command.help or "")


READS_CSV_ONLY = {"import tickets"}  # reads a prescriber's spreadsheet; writes none
COMMAND_ARGUMENTS = {
    "export payments": ["--period", PERIOD, "--format", "csv"],
    "export readiness": ["--org", "greta-hostile", "--format", "csv"],
    "tickets export": [],
}


def test_every_csv_command_writes_formulas_as_text(app: Flask, runner: Any, hostile_world: dict[str, Any],
                                                   tmp_path: Path) -> None:
    found = {name for name, command in commands(app.cli) if writes_csv(command)} - READS_CSV_ONLY
    assert found == set(COMMAND_ARGUMENTS), "a command writes CSV: add its arguments to COMMAND_ARGUMENTS"
    problems: list[str] = []
    seen_hostile: set[str] = set()
    for name, arguments in COMMAND_ARGUMENTS.items():
        target = tmp_path / f"{name.replace(' ', '-')}.csv"
        result = runner.invoke(args=[*name.split(), *arguments, "-o", str(target)])
        assert result.exit_code == 0, (name, result.output)
        problems += problems_in(name, target.read_bytes())
        seen_hostile |= kept_as_text(target.read_bytes())
    assert problems == []
    assert {LINK, MINUS, AT} <= seen_hostile, seen_hostile


# --- The writer, and nobody else -----------------------------------------------------------------------------


def test_the_writer_keeps_numbers_and_quotes_formulas() -> None:
    assert [safe_cell(v) for v in (12, -3, 1.5, None, "-12,50", "+33612345678", "Marie-Claire", "a=b")] == [
        12, -3, "1,5", "", "-12,50", "+33612345678", "Marie-Claire", "a=b"]
    assert [safe_cell(v) for v in HOSTILE] == ["'" + v for v in HOSTILE]
    content = csv_bytes(["Nom", "Montant"], [[LINK, "-12,50"], ["Durand; Jean\nfils", 3]])
    assert content == ('\ufeffNom;Montant\r\n"\'=HYPERLINK(""https://evil.example/?vol"";""Cliquez ici"")";-12,50'
                       '\r\n"Durand; Jean\nfils";3\r\n').encode()


def test_no_other_module_writes_csv() -> None:
    writers = re.compile(r"csv\.(writer|DictWriter)\(")
    found = [str(path.relative_to(ROOT)) for folder in ("portfolio", "importers", "competences")
             for path in sorted((ROOT / folder).rglob("*.py")) if writers.search(path.read_text(encoding="utf-8"))]
    assert found == ["portfolio/csvfile.py"]
