"""Logs: one line per request (method, route, status, duration, request id), nothing personal, JSON on
demand; the request id on the French error page is the one in the log line."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from portfolio import create_app
from portfolio.auth.models import Role
from portfolio.permissions import public
from portfolio.requestlog import REQUEST_LOGGER, JSONFormatter, TextFormatter
from tests import factories

CODE = re.compile(r"code d'erreur : ([A-Za-z0-9-]+)")


class Lines(logging.Handler):
    """Collects the request lines as the application's handler formats them."""

    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def lines(self) -> list[str]:
        return [self.format(record) for record in self.records]


@pytest.fixture
def request_lines() -> Iterator[Lines]:
    from portfolio.requestlog import _RequestIdFilter

    handler = Lines(JSONFormatter())
    handler.addFilter(_RequestIdFilter())
    logger = logging.getLogger(REQUEST_LOGGER)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def fields(lines: Lines) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines.lines]


def test_one_line_per_request_with_the_route_rule_and_no_values(client: Any, request_lines: Lines) -> None:
    client.get("/healthz?utm_source=marie.dupont")
    client.get("/nulle-part/marie.dupont")
    logged = fields(request_lines)
    assert len(logged) == 2
    first, second = logged
    assert {k: first[k] for k in ("method", "route", "status", "logger", "level")} == {
        "method": "GET", "route": "/healthz", "status": 200, "logger": "portfolio.request",
        "level": "info"}
    assert isinstance(first["duration_ms"], float) and first["duration_ms"] >= 0
    assert len(first["request_id"]) >= 6 and first["request_id"] != second["request_id"]
    assert (second["route"], second["status"]) == ("-", 404)
    assert "marie" not in "\n".join(request_lines.lines)


def test_no_password_username_or_journal_text_in_the_logs(client: Any, db_session: Any, caplog: Any) -> None:
    user = factories.user(db_session, Role.BENEFICIARY, username="jeanne.secret")
    db_session.commit()
    with caplog.at_level(logging.DEBUG):
        client.post_form("/login", {"username": user.username, "password": "mot-de-passe-tres-secret"})
        client.post_form("/login", {"username": user.username, "password": factories.PASSWORD})
        client.post_form("/langue", {"lang": "en", "next": "/moi?texte=Mon+journal+intime"})
    text = "\n".join(TextFormatter().format(record) for record in caplog.records)
    assert "POST /login 302" in text and "POST /login 200" in text
    for secret in ("jeanne", "mot-de-passe", factories.PASSWORD, "intime", "Prénom"):
        assert secret not in text


def test_error_page_code_is_the_request_id_of_the_log_line(app: Flask, request_lines: Lines) -> None:
    @app.route("/_essai/panne")
    @public
    def broken() -> str:
        raise RuntimeError("boom")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    for url, status in (("/_essai/panne", 500), ("/page-inconnue", 404)):
        response = client.get(url)
        assert response.status_code == status
        shown = CODE.search(response.get_data(as_text=True)).group(1)
        assert shown == response.headers["X-Request-ID"]
        line = [f for f in fields(request_lines) if f["status"] == status][-1]
        assert line["request_id"] == shown
    # Support may pass the caller's id through the proxy: it is kept when it is safe.
    response = client.get("/_essai/panne", headers={"X-Request-ID": "appel-2026-0042"})
    assert "appel-2026-0042" in response.get_data(as_text=True)
    assert fields(request_lines)[-1]["request_id"] == "appel-2026-0042"
    client.get("/_essai/panne", headers={"X-Request-ID": "<script>faux</script>"})
    assert re.fullmatch(r"[0-9a-f]{12}", fields(request_lines)[-1]["request_id"])


def test_a_refused_form_still_has_an_id_and_a_duration(client: Any, request_lines: Lines) -> None:
    response = client.post("/login", data={"username": "x", "password": "y"})  # no CSRF token
    assert response.status_code == 400
    line = fields(request_lines)[-1]
    assert line["request_id"] == response.headers["X-Request-ID"] and line["duration_ms"] is not None


def test_the_format_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from portfolio.requestlog import _Handler

    def handler_formatter() -> logging.Formatter | None:
        handlers = [h for h in logging.getLogger("portfolio").handlers if isinstance(h, _Handler)]
        assert len(handlers) == 1  # however many applications are built
        return handlers[0].formatter

    monkeypatch.setenv("TICKETNET_LOG_FORMAT", "json")
    create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path)})
    assert isinstance(handler_formatter(), JSONFormatter)
    monkeypatch.delenv("TICKETNET_LOG_FORMAT")
    create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path)})
    assert isinstance(handler_formatter(), TextFormatter)


def test_lines_reach_the_server_error_stream_as_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: Any) -> None:
    monkeypatch.setenv("TICKETNET_LOG_FORMAT", "json")
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path)})
    response = app.test_client().get("/healthz")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    assert [(line["route"], line["status"], line["request_id"]) for line in lines] == [
        ("/healthz", 200, response.headers["X-Request-ID"])]
    monkeypatch.delenv("TICKETNET_LOG_FORMAT")
    create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path)})  # back to text for the other tests


def test_json_lines_carry_exceptions() -> None:
    logger = logging.getLogger("portfolio")
    try:
        raise ValueError("inattendu")
    except ValueError:
        record = logger.makeRecord("portfolio", logging.ERROR, __file__, 1, "échec %s", ("x",), sys.exc_info())
    line = json.loads(JSONFormatter().format(record))
    assert line["message"] == "échec x" and "ValueError: inattendu" in line["exception"]
