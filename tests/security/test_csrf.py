"""CSRF: every state-changing route of the URL map refuses a request without a valid token, for
every visitor; tokens are bound to their session; GET requests change nothing."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from portfolio.auth.models import Role
from portfolio.extensions import csrf
from portfolio.permissions import access_of
from tests.security.walk import client_as, context, everyone, get_rules, state_changing_rules, url_for_rule

# Endpoints allowed to change something without a CSRF token. The identity provider's return
# (sso.callback) is a GET protected by the OAuth state, PKCE and the nonce. The OAuth2 endpoints of the
# partner API are called by servers with the client's id and secret (HTTP Basic or in the body), never
# with a cookie: there is no session a forged request could ride on, so CSRF does not apply. The API's
# data endpoints are GETs carrying a bearer token (tests/test_api.py).
CSRF_EXEMPT: frozenset[str] = frozenset({"api.token", "api.revoke_token"})
# JSON endpoints that check the token themselves, after the session (``signed_in_api``): a signed-out
# caller gets 401 so that the page keeps what was typed, a role that may not use them 404, and a
# signed-in caller without a valid token 400, like every form.
CHECKS_ITS_OWN_TOKEN: frozenset[str] = frozenset({"journal.api_create", "journal.api_update"})
# The journal's editor checks the token itself (``portfolio.journal.rescue.keeps_unsent_text``) so that a text
# sent after the session ended is kept for its owner; without a valid token or keeper it answers 400 like every
# form (the walk below, and tests/test_journal_rescue.py).
KEEPS_UNSENT_TEXT: frozenset[str] = frozenset({"journal.new", "journal.edit"})
# GET endpoints allowed to write (the provider's return signs a person in).
GET_THAT_WRITES: frozenset[str] = frozenset({"sso.callback"})


def test_csrf_protection_covers_every_view(app: Flask) -> None:
    assert app.config.get("WTF_CSRF_ENABLED", True)
    assert set(app.config.get("WTF_CSRF_METHODS", {"POST", "PUT", "PATCH", "DELETE"})) >= {
        "POST", "PUT", "PATCH", "DELETE"}
    checked_by_hand = CHECKS_ITS_OWN_TOKEN | CSRF_EXEMPT | KEEPS_UNSENT_TEXT
    as_views = {f"portfolio.{e.split('.')[0]}.views.{e.split('.')[1]}" for e in checked_by_hand}
    assert set(csrf._exempt_views) <= as_views and not csrf._exempt_blueprints
    # That they do check it is proved by the walk below (a signed-in learner without a token gets 400).


@pytest.mark.parametrize("role", [None, *Role], ids=lambda r: r.value if r else "anonymous")
def test_every_state_changing_route_refuses_a_request_without_token(app: Flask, db_session: Session,
                                                                   role: Role | None) -> None:
    people = everyone(db_session)
    client = client_as(app, db_session, people[role] if role else None)
    ctx = context(app, people, role)
    checked, problems = 0, []
    for rule, method in state_changing_rules(app):
        if rule.endpoint in CSRF_EXEMPT:
            continue
        url = url_for_rule(app, rule, db_session, ctx)
        expected = 400
        if rule.endpoint in CHECKS_ITS_OWN_TOKEN:
            access = access_of(app.view_functions[rule.endpoint])
            expected = 401 if role is None else 400 if access.allows(people[role]) else 404
        for token in (None, "forged-token", "x" * 91):
            data = {"next": "/", "lang": "en"} | ({"csrf_token": token} if token else {})
            response = client.open(url, method=method, data=data)
            checked += 1
            refused = response.status_code == expected and (
                expected != 400 or "formulaire a expiré" in response.get_data(as_text=True))
            if not refused:
                problems.append(f"{method} {url} (token {token!r}): {response.status_code}")
    assert checked >= 3 * 10  # the walk found the application's forms
    assert problems == []


def test_a_token_from_another_session_is_refused(app: Flask, db_session: Session) -> None:
    people = everyone(db_session)
    victim = client_as(app, db_session, people[Role.BENEFICIARY])
    attacker = client_as(app, db_session, people[Role.ANIMATOR])
    stolen = attacker.csrf_token()
    response = victim.post("/compte/deconnecter-partout", data={"csrf_token": stolen})
    assert response.status_code == 400
    assert victim.get("/moi").status_code == 200
    response = victim.post("/session/prolonger", headers={"X-CSRFToken": stolen})
    assert response.status_code == 400


@pytest.mark.parametrize("role", [None, Role.BENEFICIARY, Role.ANIMATOR, Role.ADMIN],
                         ids=lambda r: r.value if r else "anonymous")
def test_get_requests_change_nothing(app: Flask, db_session: Session, engine: sa.Engine, role: Role | None) -> None:
    """CSRF tokens guard the other methods only, so a GET must not write (reads may be audited)."""
    people = everyone(db_session)
    client = client_as(app, db_session, people[role] if role else None)
    ctx = context(app, people, role)
    problems = []
    for rule in get_rules(app):
        if rule.endpoint in GET_THAT_WRITES:
            continue
        url = url_for_rule(app, rule, db_session, ctx)
        db_session.commit()
        writes: list[str] = []

        def spy(conn: Any, cursor: Any, statement: str, *args: Any, _writes: list[str] = writes) -> None:
            verb = statement.lstrip().split(" ", 1)[0].upper()
            if verb in ("INSERT", "UPDATE", "DELETE") and "audit_event" not in statement.split("(", 1)[0]:
                _writes.append(statement.split("\n", 1)[0][:80])

        sa.event.listen(engine, "before_cursor_execute", spy)
        try:
            client.get(url)
        finally:
            sa.event.remove(engine, "before_cursor_execute", spy)
        if writes:
            problems.append(f"GET {url} wrote: {writes}")
    assert problems == []
