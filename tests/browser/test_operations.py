"""What a person sees when the database is unreachable: a French page, accessible, with the error code that
support finds in the logs."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from portfolio import create_app
from portfolio.auth.sessions import SESSION_ID
from portfolio.extensions import db
from tests.browser.conftest import LiveServer, assert_accessible


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_unavailable_page_is_french_accessible_and_gives_the_code(browser: Any, tmp_path: Path) -> None:
    unreachable = f"postgresql+psycopg://nobody@127.0.0.1:{_closed_port()}/ticketnet?connect_timeout=2"
    app = create_app({"TESTING": True, "PROPAGATE_EXCEPTIONS": False, "DATABASE_URL": unreachable,
                      "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "browser-test-secret-key"})
    # A signed-in visitor: loading their account needs the database.
    cookie = app.session_interface.get_signing_serializer(app).dumps(  # type: ignore[attr-defined]
        {"_user_id": "1:1", SESSION_ID: "a-session-identifier"})
    with LiveServer(app) as server:
        context = browser.new_context(base_url=server.url, locale="fr-FR")
        context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": server.url}])
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.on("console", lambda msg: problems.append(msg.text)
                if msg.type == "error" and "status of 503" not in msg.text else None)
        response = page.goto("/moi")
        assert response is not None and response.status == 503
        assert page.get_by_role("heading", level=1).inner_text() == "Le service est momentanément indisponible"
        code = response.headers["x-request-id"]
        assert page.get_by_text(f"donnez ce code d'erreur : {code}").is_visible()
        assert page.locator("html").get_attribute("lang") == "fr"
        assert_accessible(page)
        context.close()
    db.state(app).engine.dispose()
    assert problems == []
