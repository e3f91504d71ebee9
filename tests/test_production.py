"""The production guard (``ticketnet check`` and ``create_app``), and running behind a reverse proxy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import url_for

from portfolio import create_app
from portfolio.bootstrap import initialise
from portfolio.cli import main
from portfolio.config import ConfigurationError, production_problems
from portfolio.extensions import db
from tests.databases import is_postgres

STRONG_KEY = "Zq8-vL2xT0pR5wK9mN3bY7cH1dF6gJ4sUe"
POSTGRES = "postgresql+psycopg://ticketnet@db.invalid/ticketnet"
GOOD = {"ENV": "production", "SECRET_KEY": STRONG_KEY, "DATABASE_URL": POSTGRES, "DEBUG": False}


@pytest.fixture(autouse=True)
def _no_debug_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    for name in ("ENV", "SECRET_KEY", "DATABASE_URL", "DEBUG", "PROXY_FIX", "RATELIMIT_STORAGE_URI", "UPLOAD_DIR"):
        monkeypatch.delenv(f"TICKETNET_{name}", raising=False)


def test_a_good_production_configuration_has_no_problem() -> None:
    assert production_problems(GOOD) == []


@pytest.mark.parametrize("change,says", [
    ({"SECRET_KEY": None}, "TICKETNET_SECRET_KEY est absente"),
    ({"SECRET_KEY": ""}, "TICKETNET_SECRET_KEY est absente"),
    ({"SECRET_KEY": "court-mais-varié-123"}, "TICKETNET_SECRET_KEY est trop faible"),
    ({"SECRET_KEY": "s" * 64}, "TICKETNET_SECRET_KEY est trop faible"),
    ({"SECRET_KEY": "abcabcabcabcabcabcabcabcabcabcabcabc"}, "TICKETNET_SECRET_KEY est trop faible"),
    ({"SECRET_KEY": "changeme"}, "TICKETNET_SECRET_KEY est trop faible"),
    ({"DEBUG": True}, "le mode débogage est activé"),
    ({"DATABASE_URL": "sqlite:////var/lib/ticketnet/ticketnet.sqlite3"}, "la base de données est SQLite"),
])
def test_each_unsafe_setting_is_named_with_what_to_do(change: dict[str, Any], says: str) -> None:
    problems = production_problems({**GOOD, **change})
    assert len(problems) == 1 and problems[0].startswith(says)
    assert "TICKETNET_" in problems[0]  # says which variable to change


def test_flask_debug_in_the_environment_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASK_DEBUG", "1")
    assert [p.split(" :")[0] for p in production_problems(GOOD)] == ["le mode débogage est activé"]


def test_create_app_refuses_production_with_every_problem_listed(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as refused:
        create_app({"ENV": "production", "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "dev", "DEBUG": True})
    message = str(refused.value)
    assert "trop faible" in message and "débogage" in message and "SQLite" in message
    assert not any(tmp_path.iterdir())  # and it wrote nothing
    app = create_app({**GOOD, "INSTANCE_PATH": str(tmp_path)})  # builds without touching the database
    assert app.config["ENV"] == "production"
    assert db.state(app).engine.hide_parameters  # no SQL parameters (personal data) in logs or errors


def run_check(env: dict[str, str]) -> Any:
    return CliRunner().invoke(main, ["check"], env=env)


def test_check_refuses_production_and_says_what_to_fix(tmp_path: Path) -> None:
    result = run_check({"TICKETNET_ENV": "production", "TICKETNET_INSTANCE_PATH": str(tmp_path),
                        "TICKETNET_SECRET_KEY": "secret", "TICKETNET_DEBUG": "1"})
    assert result.exit_code == 1
    assert "Mode : production" in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("À corriger")]
    assert len(errors) == 3, result.output
    assert "TICKETNET_SECRET_KEY est trop faible" in result.output and "secrets.token_urlsafe" in result.output
    assert "TICKETNET_DEBUG" in result.output and "TICKETNET_DATABASE_URL" in result.output


def test_other_commands_refuse_to_start_in_a_bad_production_configuration(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["init"], env={"TICKETNET_ENV": "production",
                                                      "TICKETNET_INSTANCE_PATH": str(tmp_path)})
    assert result.exit_code == 1
    assert "Erreur de configuration" in result.output and "ticketnet check" in result.output
    assert not any(tmp_path.iterdir())


def test_check_in_development_passes_with_advice_for_production(database_url: str, tmp_path: Path,
                                                                 fresh_database_url: str) -> None:
    env = {"TICKETNET_INSTANCE_PATH": str(tmp_path), "TICKETNET_DATABASE_URL": fresh_database_url,
           "TICKETNET_SECRET_KEY": STRONG_KEY}
    not_migrated = run_check(env)
    assert not_migrated.exit_code == 1 and "lancez « ticketnet init »" in not_migrated.output
    app = create_app({"DATABASE_URL": fresh_database_url, "INSTANCE_PATH": str(tmp_path), "TESTING": True})
    initialise(app)
    db.state(app).engine.dispose()
    result = run_check(env)
    assert result.exit_code == 0, result.output
    assert "Mode : development" in result.output and "Tout est prêt" in result.output
    assert "pour la production, mettez TICKETNET_ENV=production" in result.output
    if not is_postgres(database_url):
        assert "en production, il faudra : la base de données est SQLite" in result.output
        return
    production = run_check({**env, "TICKETNET_ENV": "production"})
    assert production.exit_code == 0, production.output
    assert "TICKETNET_PROXY_FIX" in production.output and "redis://" in production.output  # advice only


def test_check_says_when_the_database_does_not_answer(tmp_path: Path) -> None:
    result = run_check({"TICKETNET_INSTANCE_PATH": str(tmp_path), "TICKETNET_SECRET_KEY": STRONG_KEY,
                        "TICKETNET_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2"})
    assert result.exit_code == 1 and "la base de données ne répond pas" in result.output


def test_check_says_when_the_upload_folder_cannot_be_written(tmp_path: Path, fresh_database_url: str) -> None:
    (tmp_path / "a-file").write_text("")
    result = run_check({"TICKETNET_INSTANCE_PATH": str(tmp_path), "TICKETNET_SECRET_KEY": STRONG_KEY,
                        "TICKETNET_DATABASE_URL": fresh_database_url,
                        "TICKETNET_UPLOAD_DIR": str(tmp_path / "a-file" / "uploads")})
    assert result.exit_code == 1 and "TICKETNET_UPLOAD_DIR" in result.output


@pytest.mark.parametrize("value,hops", [("1", 1), ("true", 1), ("2", 2), ("0", 0), ("", 0)])
def test_proxy_fix_setting(value: str, hops: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TICKETNET_PROXY_FIX", value)
    assert create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path)}).config["PROXY_FIX"] == hops


def test_proxy_fix_refuses_nonsense(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TICKETNET_PROXY_FIX", "nginx")
    with pytest.raises(ConfigurationError, match="TICKETNET_PROXY_FIX"):
        create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path)})


@pytest.mark.parametrize("proxy_fix", [0, 1])
def test_behind_a_proxy_urls_are_https_and_the_client_address_is_the_visitor(proxy_fix: int, tmp_path: Path) -> None:
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "PROXY_FIX": proxy_fix})
    seen = {}

    @app.route("/_essai/adresse")
    def where() -> str:
        from flask import request

        seen.update(remote=request.remote_addr, secure=request.is_secure, url=url_for("core.healthz", _external=True))
        return ""

    app.test_client().get("/_essai/adresse", environ_base={"REMOTE_ADDR": "10.0.0.2"}, headers={
        "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "ticketnet.lot.fr"})
    if proxy_fix:
        assert seen == {"remote": "203.0.113.7", "secure": True, "url": "https://ticketnet.lot.fr/healthz"}
    else:
        assert seen == {"remote": "10.0.0.2", "secure": False, "url": "http://localhost/healthz"}
