"""Open redirects: no page sends the browser to another site, whatever ``next=`` (or a Referer)
says; only a path of this site is followed."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from portfolio.auth.models import Role
from tests import factories
from tests.security.walk import (
    EVIL_TARGETS,
    client_as,
    context,
    everyone,
    get_rules,
    leaves_the_site,
    state_changing_rules,
    url_for_rule,
)


@pytest.mark.parametrize("role", [None, Role.BENEFICIARY, Role.ANIMATOR, Role.ADMIN],
                         ids=lambda r: r.value if r else "anonymous")
def test_no_route_redirects_off_site(app: Flask, db_session: Session, role: Role | None) -> None:
    people = everyone(db_session)
    ctx = context(app, people, role)
    problems = []
    client = client_as(app, db_session, people[role] if role else None)
    for rule in get_rules(app):
        url = url_for_rule(app, rule, db_session, ctx)
        for target in EVIL_TARGETS[:3]:
            response = client.get(url, query_string={"next": target}, headers={"Referer": target})
            if leaves_the_site(response):
                problems.append(f"GET {url}?next={target} -> {response.headers['Location']}")
    for rule, method in state_changing_rules(app):
        url = url_for_rule(app, rule, db_session, ctx)
        client = client_as(app, db_session, people[role] if role else None)
        token = client.csrf_token()
        for target in EVIL_TARGETS[:3]:
            response = client.open(url, method=method, query_string={"next": target},
                                   data={"csrf_token": token, "next": target},
                                   headers={"Referer": target})
            if leaves_the_site(response):
                problems.append(f"{method} {url} next={target} -> {response.headers['Location']}")
    assert problems == []


@pytest.mark.parametrize("target", EVIL_TARGETS)
def test_sign_in_follows_next_only_on_site(client: Any, db_session: Session, target: str) -> None:
    user = factories.user(db_session, Role.BENEFICIARY)
    db_session.commit()
    response = client.post_form("/login", {"username": user.username, "password": factories.PASSWORD},
                                query_string={"next": target})
    assert response.status_code == 302 and not leaves_the_site(response)
    assert response.headers["Location"] in ("/moi", target)  # a path of this site is followed as it is


@pytest.mark.parametrize("target", EVIL_TARGETS)
def test_language_switch_and_confirmation_follow_next_only_on_site(client: Any, login_as: Any, target: str) -> None:
    login_as(Role.BENEFICIARY)
    response = client.post_form("/langue", {"lang": "fr", "next": target})
    assert not leaves_the_site(response)
    response = client.post_form("/compte/confirmer", {"password": factories.PASSWORD}, query_string={"next": target})
    assert response.status_code == 302 and not leaves_the_site(response)


def test_a_path_on_the_site_is_followed(client: Any, login_as: Any) -> None:
    login_as(Role.BENEFICIARY)
    response = client.post_form("/compte/confirmer", {"password": factories.PASSWORD},
                                query_string={"next": "/compte/mot-de-passe"})
    assert response.headers["Location"] == "/compte/mot-de-passe"


@pytest.mark.parametrize("location,off_site", [
    ("/moi", False), ("http://localhost/moi", False), ("https://evil.example/", True), ("//evil.example", True),
    ("javascript:alert(1)", True), ("http://localhost@evil.example/", True),
])
def test_the_checker_itself(location: str, off_site: bool) -> None:
    class Response:
        headers = {"Location": location}

    assert bool(leaves_the_site(Response())) is off_site
