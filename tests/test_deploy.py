"""docs/deploy.md and its example files work as written: gunicorn with the example configuration, the
nightly backup script, Redis as the shared store of sign-in counters, and every setting documented."""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from portfolio import PROJECT_DIR, create_app
from portfolio.bootstrap import initialise
from portfolio.extensions import db
from tests import conftest
from tests.conftest import app_overrides
from tests.databases import is_postgres

DEPLOY = PROJECT_DIR / "docs" / "deploy"
BIN = Path(sys.executable).parent
STRONG_KEY = "Zq8-vL2xT0pR5wK9mN3bY7cH1dF6gJ4sUe"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def site_environment(url: str, instance: Path, production: bool) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("TICKETNET_", "FLASK_"))}
    env.update({"TICKETNET_DATABASE_URL": url, "TICKETNET_INSTANCE_PATH": str(instance),
                "TICKETNET_SECRET_KEY": STRONG_KEY, "TICKETNET_LOG_FORMAT": "json", "PATH": f"{BIN}:{env['PATH']}"})
    if production:
        env.update({"TICKETNET_ENV": "production", "TICKETNET_PROXY_FIX": "1"})
    return env


@pytest.fixture
def initialised(fresh_database_url: str, tmp_path: Path) -> str:
    app = create_app(app_overrides(fresh_database_url, tmp_path / "setup"))
    initialise(app)
    db.state(app).engine.dispose()
    return fresh_database_url


def test_gunicorn_serves_with_the_example_configuration(initialised: str, tmp_path: Path) -> None:
    """Production mode on PostgreSQL (development on SQLite, which production refuses)."""
    port = free_port()
    env = site_environment(initialised, tmp_path / "instance", production=is_postgres(initialised))
    env.update({"TICKETNET_BIND": f"127.0.0.1:{port}", "TICKETNET_WORKERS": "2", "TICKETNET_THREADS": "2"})
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as output:
        server = subprocess.Popen([str(BIN / "gunicorn"), "-c", str(DEPLOY / "gunicorn.conf.py"),  # noqa: S603
                                   "portfolio:create_app()"], env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            body = None
            for attempt in range(150):
                probe_id = f"sonde-supervision-{attempt}"
                try:
                    request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={
                        "X-Request-ID": probe_id, "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
                    with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 - local server
                        body = json.load(response)
                        headers = response.headers
                    break
                except OSError:
                    assert server.poll() is None, log.read_text()
                    time.sleep(0.2)
            assert body == {"status": "ok", "database": "ok"}, log.read_text()
            assert headers["X-Request-ID"] == probe_id
            if is_postgres(initialised):
                assert "Strict-Transport-Security" in headers  # production mode
        finally:
            server.terminate()
            server.wait(timeout=30)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    probes = [line for line in lines if line.get("request_id") == probe_id]
    assert [(p["method"], p["route"], p["status"]) for p in probes] == [("GET", "/healthz", 200)]
    assert "203.0.113.9" not in log.read_text()  # no visitor address in the logs


def run_backup_script(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["/bin/sh", str(DEPLOY / "ticketnet-backup.sh")], env=env,  # noqa: S603
                          capture_output=True, text=True, timeout=300, check=False)


def test_the_nightly_backup_script_writes_checks_and_prunes(initialised: str, tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    old = backups / "ticketnet-2020-01-01-023000.zip"
    old.write_bytes(b"old")
    os.utime(old, (time.time() - 40 * 86400,) * 2)
    recent = backups / "ticketnet-2020-01-02-023000.zip"
    recent.write_bytes(b"recent")
    env = site_environment(initialised, tmp_path / "instance", production=False)
    env.update({"BACKUP_DIR": str(backups), "KEEP_DAYS": "30", "TICKETNET": str(BIN / "ticketnet")})
    result = run_backup_script(env)
    assert result.returncode == 0, result.stderr
    written = Path(result.stdout.strip())
    assert written.parent == backups and re.fullmatch(r"ticketnet-\d{4}-\d\d-\d\d-\d{6}\.zip", written.name)
    with zipfile.ZipFile(written) as archive:
        assert json.loads(archive.read("manifest.json"))["format"] == "ticketnet-backup"
    assert not old.exists() and recent.exists()


def test_the_script_fails_loudly_when_the_backup_fails(tmp_path: Path) -> None:
    env = site_environment(f"sqlite:///{tmp_path}/empty.sqlite3", tmp_path / "instance", production=False)
    env.update({"BACKUP_DIR": str(tmp_path), "TICKETNET": str(BIN / "ticketnet")})
    result = run_backup_script(env)
    assert result.returncode == 1 and "pas initialisée" in result.stderr
    assert list(tmp_path.glob("*.zip")) == []


def redis_url() -> str:
    url = os.environ.get("TICKETNET_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        import redis
    except ImportError:
        pytest.skip("the redis client is not installed (pip install '.[redis]')")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if os.environ.get("CI"):
            pytest.fail(f"Redis does not answer at {url}")
        pytest.skip(f"Redis does not answer at {url}")
    return url


def test_sign_in_attempts_are_counted_across_workers_in_redis(initialised: str, tmp_path: Path) -> None:
    """Two applications (two gunicorn workers) share the counters: the limit holds across them."""
    url = redis_url()
    prefix = f"ticketnet-test-{secrets.token_hex(4)}"
    workers = []
    for n in range(2):
        app = create_app(app_overrides(initialised, tmp_path / f"w{n}", RATELIMIT_ENABLED=True,
                                       RATELIMIT_STORAGE_URI=url, RATELIMIT_KEY_PREFIX=prefix))
        app.test_client_class = conftest.TestClient
        workers.append(app.test_client())
    # A different name each time: only the per-address limit (20 a minute) counts, not the per-account one.
    statuses = [workers[n % 2].post_form("/login", {"username": f"personne{n}", "password": "faux"}).status_code
                for n in range(21)]
    assert statuses[:20] == [200] * 20 and statuses[20] == 429
    for client in workers:
        db.state(client.application).engine.dispose()


def config_variables() -> set[str]:
    source = (PROJECT_DIR / "portfolio" / "config.py").read_text()
    names = set(re.findall(r'\{ENV_PREFIX\}([A-Z_]+)', source))
    names |= set(re.findall(r'_env_(?:int|bool)\("([A-Z_]+)"', source))
    return {f"TICKETNET_{name}" for name in names}


def test_deploy_guide_documents_every_setting_and_file() -> None:
    guide = (PROJECT_DIR / "docs" / "deploy.md").read_text()
    assert {"TICKETNET_DATABASE_URL", "TICKETNET_PROXY_FIX", "TICKETNET_LOG_FORMAT"} <= config_variables()
    assert [name for name in sorted(config_variables()) if f"`{name}`" not in guide] == []
    assert [path.name for path in sorted(DEPLOY.iterdir()) if path.name not in guide] == []
    assert "docs/deploy.md" in (PROJECT_DIR / "README.md").read_text()
    for command in ("ticketnet backup", "ticketnet restore", "ticketnet check", "ticketnet init"):
        assert command in guide
