"""The role x route matrix of the state-changing routes (``tests/test_routes.py`` walks the GETs):
every POST, with a valid CSRF token, anonymously and as each role. Anonymous visitors of a private
route are sent to the sign-in page (a JSON endpoint answers 401); a role without access gets 404, so
that nothing is revealed; no request answers 403 or 500."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from portfolio.auth.models import Role
from portfolio.permissions import access_of
from tests.security.walk import client_as, context, everyone, state_changing_rules, url_for_rule


@pytest.mark.parametrize("role", [None, *Role], ids=lambda r: r.value if r else "anonymous")
def test_every_state_changing_route_for_every_role(app: Flask, db_session: Session, role: Role | None) -> None:
    people = everyone(db_session)
    ctx = context(app, people, role)
    problems, checked = [], 0
    for rule, method in state_changing_rules(app):
        access = access_of(app.view_functions[rule.endpoint])
        assert access is not None, f"{rule.endpoint} declares no access"
        url = url_for_rule(app, rule, db_session, ctx)
        # A new browser for each route: some routes end the session (sign out, sign out everywhere).
        client = client_as(app, db_session, people[role] if role else None)
        response = client.open(url, method=method, data={"csrf_token": client.csrf_token()})
        status, checked = response.status_code, checked + 1
        if status >= 500 or status == 403:
            problems.append(f"{method} {url}: {status}")
        elif access.public:
            continue
        elif role is None:
            if access.api and status != 401:
                problems.append(f"{method} {url}: anonymous got {status}, expected 401 (a JSON endpoint)")
            if not access.api and not (status == 302 and "/login" in response.headers["Location"]):
                problems.append(f"{method} {url}: anonymous got {status}, expected a redirect to /login")
        elif not access.allows(people[role]) and status != 404:
            problems.append(f"{method} {url}: {role.value} may not use it but got {status}")
    assert checked >= 10
    assert problems == []
