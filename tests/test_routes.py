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


def _account_the_walker_manages(session: Session, ctx: dict[str, Any]) -> int:
    """An account whose sign-in the walking role may manage when allowed (an animator: a learner of its EPM)."""
    if ctx["role"] is Role.ANIMATOR:
        epm = ctx["user"].organisations_for(Role.ANIMATOR)[0]
        return factories.user(session, Role.BENEFICIARY, organisation_=epm).id
    return int(ctx["people"][Role.BENEFICIARY].id)


def _identity_of_the_walker(session: Session, ctx: dict[str, Any]) -> int:
    from portfolio.sso.models import ExternalIdentity

    owner = ctx["user"] or ctx["people"][Role.BENEFICIARY]
    identity = ExternalIdentity(user_id=owner.id, provider="test", issuer="https://idp.example",
                                subject=f"walker-{owner.id}-{factories._n()}")
    session.add(identity)
    session.flush()
    return identity.id


def _session_of_the_walker(session: Session, ctx: dict[str, Any]) -> int:
    from portfolio.account.models import SignedInSession

    owner = ctx["user"] or ctx["people"][Role.BENEFICIARY]
    row = SignedInSession(user_id=owner.id, token_hash=f"{factories._n():064d}")
    session.add(row)
    session.flush()
    return row.id


# How to fill in a URL's arguments for the walk: argument name -> a function of the session and a
# context (``people``: one user per role; ``role`` and ``user``: who walks) returning a value the walker
# may see when its role allows the view. Features that add routes with arguments add them here.
URL_VALUES: dict[str, Callable[[Session, dict[str, Any]], Any]] = {
    "filename": lambda session, ctx: "css/site.css",
    "account_id": _account_the_walker_manages,
    "identity_id": _identity_of_the_walker,
    "provider": lambda session, ctx: "test",
    "token": lambda session, ctx: "an-invitation-token-that-does-not-exist",
    "session_id": _session_of_the_walker,
}


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
