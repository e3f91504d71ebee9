"""Every reachable page of every role, in a browser: a live server of its own, on the demo data plus the URL
samples of ``tests/test_routes.py``.

The pages come from the URL map: a GET route whose arguments have a sample in ``URL_VALUES`` is visited by
every role its access rule allows (``permissions.access_of``), signed in as that role's demo account, and
anonymously when it is public. A new route is therefore walked as soon as it exists; a route with a new
URL argument fails ``tests/test_routes.py`` until its sample is added there, and is then walked here too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from portfolio import create_app
from portfolio.auth.models import Role, User
from portfolio.bootstrap import initialise
from portfolio.demo import ACCOUNTS, create_demo
from portfolio.extensions import db
from portfolio.permissions import access_of
from tests import factories
from tests.browser.conftest import DEMO_PASSWORD, LiveServer
from tests.conftest import app_overrides
from tests.databases import fresh_database
from tests.test_routes import build_url, routes

# What is not a page: files (a route whose last part has an extension: .pdf, .csv, .<fmt>), the API, the
# health check and photos, wherever they are served (the journal's, an evidence file's: images, not HTML;
# Chromium's own image viewer would break the page's CSP).
NOT_PAGES = ("/api/", "/static/", "/healthz")


def is_page(rule: str) -> bool:
    return not rule.startswith(NOT_PAGES) and "/photos/" not in rule and "." not in rule.rsplit("/", 1)[-1]
DEMO_ACCOUNT = {spec.role: spec.username for spec in ACCOUNTS}


@dataclass(frozen=True)
class Visit:
    role: Role | None  # None: signed out
    url: str

    @property
    def who(self) -> str:
        return self.role.value if self.role else "anonymous"


@dataclass
class Walk:
    server: LiveServer
    visits: list[Visit]

    def by_role(self) -> dict[Role | None, list[str]]:
        grouped: dict[Role | None, list[str]] = {}
        for visit in self.visits:
            grouped.setdefault(visit.role, []).append(visit.url)
        return grouped


def plan_visits(app: Any) -> list[Visit]:
    """Fill in every GET route for every role that may see it, with samples written in the walk's database."""
    visits: list[Visit] = []
    with app.app_context():
        session = db.session
        demo = {role: session.scalar(sa.select(User).where(User.username == DEMO_ACCOUNT[role])) for role in Role}
        for role in (None, *Role):
            # As in tests/test_routes.py, one person per role; the walker is the demo account of its role, so
            # that its pages show the demo's data, and the others are new (samples never clash with the demo's).
            people = {r: demo[r] if r is role else factories.user(session, r) for r in Role}
            ctx: dict[str, Any] = {"people": people, "role": role, "user": people[role] if role else None, "app": app}
            for rule in routes(app):
                if "GET" not in (rule.methods or ()) or not is_page(rule.rule):
                    continue
                access = access_of(app.view_functions[rule.endpoint])
                if access.token_scopes is not None:
                    continue
                allowed = access.public if role is None else access.public or access.allows(demo[role])
                if allowed:
                    visits.append(Visit(role, build_url(app, rule, session, ctx)))
            session.commit()
    return visits


def walk_server(database_url: str, instance: Path) -> Iterator[Walk]:
    with fresh_database(database_url) as url:
        app = create_app(app_overrides(url, instance, PROPAGATE_EXCEPTIONS=False))
        initialise(app)
        with app.app_context():
            create_demo(db.session, app.config["SECRET_KEY"], DEMO_PASSWORD)
            db.session.commit()
        visits = plan_visits(app)
        with LiveServer(app) as server:
            yield Walk(server, visits)
        db.state(app).engine.dispose()
