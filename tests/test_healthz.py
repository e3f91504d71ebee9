from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from portfolio import create_app


def test_healthz_ok(client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_healthz_and_pages_say_when_the_database_is_down(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://nobody@127.0.0.1:{_closed_port()}/nothing?connect_timeout=1"
    app = create_app({"TESTING": True, "DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path),
                      "PROPAGATE_EXCEPTIONS": False})
    client = app.test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "down"
    page = client.get("/moi")  # loading the signed-in user would need the database
    assert page.status_code in (302, 503)
    with client.session_transaction() as session:
        session["_user_id"] = "1:1"
        session["sid"] = "a-session-identifier"  # a signed-in session names its server-side record
    page = client.get("/moi")
    assert page.status_code == 503
    text = page.get_data(as_text=True)
    assert "momentanément indisponible" in text and "code d'erreur" in text
