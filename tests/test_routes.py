"""Walk every route of the URL map, anonymously and as each role.

Every view must declare who may reach it (``@public``, ``@signed_in`` or ``@role_required``). A GET
must never answer 500; a signed-out visitor of a private page is sent to the sign-in page; a signed-in
person without the role gets 404, so that the page does not reveal that it exists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from portfolio.auth.models import Role, User
from portfolio.permissions import access_of
from tests import factories

# How to fill in a URL's arguments for the walk: argument name -> a function of the session and a
# context (``people``: one user per role; ``role`` and ``user``: who walks) returning a value the walker
# may see when its role allows the view. Features that add routes with arguments add them here.
URL_VALUES: dict[str, Callable[[Session, dict[str, Any]], Any]] = {
    "filename": lambda session, ctx: "css/site.css",
    # Coordination figures (portfolio/stats).
    "dataset": lambda session, ctx: "etats",
    "period": lambda session, ctx: _stats_sample(session)["period"],
    "epm_id": lambda session, ctx: _stats_sample(session)["epm_id"],
    "fmt": lambda session, ctx: "csv",
    "ticket_id": lambda session, ctx: _stats_sample(session)["ticket_id"],
    "session_id": lambda session, ctx: _stats_sample(session)["session_id"],
}


def _stats_sample(session: Session) -> dict[str, Any]:
    """One EPM paid for one present session this month (made once per walk)."""
    import datetime as dt

    from portfolio.orgs.models import OrgKind

    found = session.info.get("stats_sample")
    if found is None:
        epm = factories.organisation(session, OrgKind.EPM)
        ticket = factories.ticket(session)
        now = dt.datetime.now(dt.timezone.utc).replace(hour=10, minute=0)
        workshop = factories.workshop(session, epm, now)
        factories.attend(session, workshop, factories.enrolment(session, ticket, epm))
        found = session.info["stats_sample"] = {"period": f"{now:%Y-%m}", "epm_id": epm.id, "ticket_id": ticket.id,
                                                "session_id": workshop.id}
    return found


def routes(app: Flask) -> Iterator[Rule]:
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint != "static":
            yield rule


def build_url(app: Flask, rule: Rule, session: Session, ctx: dict[str, Any]) -> str:
    values = {}
    for argument in rule.arguments:
        if argument not in URL_VALUES:
            pytest.fail(f"{rule.rule}: add a sample value for <{argument}> to URL_VALUES in tests/test_routes.py")
        values[argument] = URL_VALUES[argument](session, ctx)
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def test_every_view_declares_its_access(app: Flask) -> None:
    missing = [rule.endpoint for rule in routes(app) if access_of(app.view_functions[rule.endpoint]) is None]
    assert missing == [], f"views without @public, @signed_in or @role_required: {missing}"


@pytest.fixture
def people(db_session: Session) -> dict[Role, User]:
    return {role: factories.user(db_session, role) for role in Role}


@pytest.mark.parametrize("role", [None, *Role], ids=lambda r: r.value if r else "anonymous")
def test_walk_every_get_route(app: Flask, client: Any, login_as: Any, people: dict[Role, User],
                              db_session: Session, role: Role | None) -> None:
    if role is not None:
        login_as(user=people[role])
    ctx = {"people": people, "role": role, "user": people[role] if role else None}
    problems = []
    for rule in routes(app):
        if "GET" not in (rule.methods or ()):
            continue
        url = build_url(app, rule, db_session, ctx)
        access = access_of(app.view_functions[rule.endpoint])
        response = client.get(url)
        status = response.status_code
        if status >= 500:
            problems.append(f"{url}: {status}")
        elif access.public:
            continue
        elif role is None:
            if not (status == 302 and "/login" in response.headers["Location"]):
                problems.append(f"{url}: anonymous got {status}, expected a redirect to /login")
        elif not access.allows(people[role]):
            if status != 404:
                problems.append(f"{url}: {role.value} may not see it but got {status}")
        elif status not in (200, 302):
            problems.append(f"{url}: {role.value} may see it but got {status}")
    assert problems == []
