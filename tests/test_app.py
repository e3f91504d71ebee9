from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from portfolio import asset_dir, create_app
from portfolio.config import SECRET_KEY_FILE, ConfigurationError


def test_create_app_has_no_side_effects(tmp_path: Path) -> None:
    database = tmp_path / "never.sqlite3"
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{database}", "INSTANCE_PATH": str(tmp_path / "i")})
    assert app.config["DATABASE_URL"].endswith("never.sqlite3")
    assert not database.exists()
    assert not (tmp_path / "i").exists()


def test_production_mode_requires_a_secret_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TICKETNET_SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="TICKETNET_SECRET_KEY"):
        create_app({"ENV": "production", "INSTANCE_PATH": str(tmp_path)})
    assert not (tmp_path / SECRET_KEY_FILE).exists()


def test_development_secret_key_is_generated_once_into_instance(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TICKETNET_SECRET_KEY", raising=False)
    first = create_app({"INSTANCE_PATH": str(tmp_path)})
    key_file = tmp_path / SECRET_KEY_FILE
    assert key_file.exists() and oct(key_file.stat().st_mode & 0o777) == "0o600"
    second = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(first.config["SECRET_KEY"]) >= 40


def test_configuration_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TICKETNET_DATABASE_URL", "sqlite:///elsewhere.sqlite3")
    monkeypatch.setenv("TICKETNET_SECRET_KEY", "k" * 50)
    monkeypatch.setenv("TICKETNET_UPLOAD_DIR", str(tmp_path / "photos"))
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["DATABASE_URL"] == "sqlite:///elsewhere.sqlite3"
    assert app.config["SECRET_KEY"] == "k" * 50
    assert app.config["UPLOAD_DIR"] == str(tmp_path / "photos")


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TICKETNET_DATABASE_URL", raising=False)
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path)})
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'ticketnet.sqlite3'}"


def test_production_cookies_are_secure(tmp_path: Path) -> None:
    app = create_app({"ENV": "production", "SECRET_KEY": "Zq8-vL2xT0pR5wK9mN3bY7cH1dF6gJ4s",
                      "INSTANCE_PATH": str(tmp_path), "DATABASE_URL": "postgresql+psycopg://ticketnet@db.invalid/ticketnet"})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


@pytest.mark.parametrize("name,marker", [
    ("templates", "base.html"), ("static", "css/site.css"), ("migrations", "env.py"),
])
def test_assets_are_found(name: str, marker: str) -> None:
    assert (asset_dir(name) / marker).is_file()


def test_security_headers(client: Any) -> None:
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert len(response.headers["X-Request-ID"]) >= 6


def test_no_inline_script_or_style_in_templates() -> None:
    import re

    offenders = []
    for path in asset_dir("templates").rglob("*.html"):
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\sstyle=", text) or re.search(
                r"\son[a-z]+=", text):
            offenders.append(path.name)
    assert offenders == []


def test_identity_providers_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TICKETNET_OIDC_EPM_DISCOVERY_URL", "https://sso.epm.example/.well-known/openid-configuration")
    monkeypatch.setenv("TICKETNET_OIDC_EPM_CLIENT_ID", "ticketnet")
    monkeypatch.setenv("TICKETNET_OIDC_EPM_CLIENT_SECRET", "s3cret")
    monkeypatch.setenv("TICKETNET_OIDC_EPM_LABEL", "Portail des EPM")
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path)})
    assert app.config["OIDC_PROVIDERS"] == {"epm": {
        "discovery_url": "https://sso.epm.example/.well-known/openid-configuration", "client_id": "ticketnet",
        "client_secret": "s3cret", "label": "Portail des EPM", "scope": "openid"}}
    monkeypatch.delenv("TICKETNET_OIDC_EPM_CLIENT_SECRET")
    with pytest.raises(ConfigurationError, match="TICKETNET_OIDC_EPM_CLIENT_SECRET"):
        create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path)})


def test_identity_providers_need_https_in_production(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TICKETNET_OIDC_EPM_DISCOVERY_URL", "http://sso.epm.example/.well-known/openid-configuration")
    monkeypatch.setenv("TICKETNET_OIDC_EPM_CLIENT_ID", "ticketnet")
    monkeypatch.setenv("TICKETNET_OIDC_EPM_CLIENT_SECRET", "s3cret")
    with pytest.raises(ConfigurationError, match="https"):
        create_app({"ENV": "production", "SECRET_KEY": "s" * 50, "INSTANCE_PATH": str(tmp_path)})
