"""Browser harness: Playwright for Python driving Debian's Chromium against a live server.

The live server runs the real application in a thread, on its own database (a fresh SQLite file or
a fresh PostgreSQL database) initialised by ``ticketnet init`` and filled by ``ticketnet demo``.
Without Chromium the browser tests are skipped, except under CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from portfolio import create_app
from portfolio.bootstrap import initialise
from portfolio.demo import create_demo
from portfolio.extensions import db
from tests.conftest import app_overrides
from tests.databases import fresh_database

CHROMIUM = os.environ.get("TICKETNET_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
DEMO_PASSWORD = "demo-password-for-browser-tests"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


class LiveServer:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    instance: Path = tmp_path_factory.mktemp("live")
    with fresh_database(database_url) as url:
        app = create_app(app_overrides(url, instance, PROPAGATE_EXCEPTIONS=False))
        initialise(app)
        with app.app_context():
            create_demo(db.session, app.config["SECRET_KEY"], DEMO_PASSWORD)
            db.session.commit()
        with LiveServer(app) as server:
            yield server
        db.state(app).engine.dispose()


@pytest.fixture(scope="session")
def walk(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A live server of its own, on the demo data plus the URL samples of every GET page for every role
    (``tests/browser/walk.py``): the pages each role may reach, and data nobody else's test counts on."""
    from tests.browser.walk import walk_server

    yield from walk_server(database_url, tmp_path_factory.mktemp("walk"))


@contextmanager
def opened_page(browser: Any, base_url: str, expected: str | None = None, **options: Any) -> Iterator[Any]:
    """A page in a new context on ``base_url`` (``options`` for ``new_context``: viewport, ...); any JavaScript or
    console error not matching ``expected`` fails the test when the page closes."""
    pattern = re.compile(expected) if expected else None
    context = browser.new_context(base_url=base_url, locale="fr-FR", **options)
    context.set_default_timeout(15_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    opened.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        yield opened
    finally:
        context.close()
    errors = [e for e in errors if pattern is None or not pattern.search(e)]
    assert errors == [], f"JavaScript errors or console errors (CSP violations included): {errors}"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        message = f"Chromium is missing at {CHROMIUM}: apt-get install -y chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, live_server: LiveServer, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A page in a new context (``page.context``). A test that causes network failures on purpose (offline,
    expired session) names the console messages it expects with ``@pytest.mark.expected_console_errors(regex)``;
    any other JavaScript or console error fails the test."""
    marker = request.node.get_closest_marker("expected_console_errors")
    expected = re.compile(marker.args[0]) if marker else None
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    context.set_default_timeout(10_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    opened.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield opened
    context.close()
    errors = [e for e in errors if expected is None or not expected.search(e)]
    assert errors == [], f"JavaScript errors or console errors (CSP violations included): {errors}"


def assert_accessible(page: Any) -> None:
    """No axe-core violation on the current page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def sign_in(page: Any, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter", exact=True).click()


def user_id(live_server: Any, username: str) -> int:
    """The id of a demo account on the live server's database (for pages addressed by a person's id)."""
    from portfolio.auth.services import find_user
    from portfolio.extensions import db

    with live_server.app.app_context():
        user = find_user(db.session, username)
        assert user is not None, username
        return user.id
