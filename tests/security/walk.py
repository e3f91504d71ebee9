"""Helpers of the security suite: walking the URL map as each role, and reading a page's forms."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from portfolio.auth.models import Role, User
from tests import factories
from tests.test_routes import build_url, routes

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
EVIL = "https://evil.example/phish"
EVIL_TARGETS = (EVIL, "//evil.example/x", "/\\evil.example", "https:evil.example", "\\\\evil.example",
                "http://localhost@evil.example/", "/%2F%2Fevil.example", " //evil.example", "javascript:alert(1)")


def state_changing_rules(app: Flask) -> Iterator[tuple[Rule, str]]:
    for rule in routes(app):
        for method in sorted((rule.methods or set()) & STATE_CHANGING):
            yield rule, method


def get_rules(app: Flask) -> Iterator[Rule]:
    for rule in routes(app):
        if "GET" in (rule.methods or ()):
            yield rule


def everyone(db_session: Session) -> dict[Role, User]:
    return {role: factories.user(db_session, role) for role in Role}


def context(app: Flask, people: dict[Role, User], role: Role | None) -> dict[str, Any]:
    """The walk's context, as ``tests/test_routes.py`` builds it for its URL_VALUES."""
    return {"people": people, "role": role, "user": people[role] if role else None, "app": app}


def client_as(app: Flask, db_session: Session, user: User | None) -> Any:
    """A new browser, signed in as ``user`` (or anonymous)."""
    client = app.test_client()
    if user is not None:
        db_session.commit()
        response = client.post_form("/login", {"username": user.username, "password": factories.PASSWORD})
        assert response.status_code == 302, f"could not sign in as {user.username}"
    return client


def url_for_rule(app: Flask, rule: Rule, db_session: Session, ctx: dict[str, Any]) -> str:
    return build_url(app, rule, db_session, ctx)


def leaves_the_site(response: Any) -> str | None:
    """The off-site place a response sends the browser to, if any."""
    location = response.headers.get("Location")
    if not location:
        return None
    target = urlsplit(urljoin("http://localhost/somewhere/", location.strip()))
    if target.scheme not in ("http", "https") or target.hostname != "localhost":
        return location
    return None


class Forms(HTMLParser):
    """The forms of a page, with their inputs (name, type, value), selects and textareas."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "method": a.get("method", "get").lower(),
                               "enctype": a.get("enctype", ""), "inputs": []})
        elif not self.forms:
            return
        elif tag == "input" and a.get("name"):
            self.forms[-1]["inputs"].append((a["name"], a.get("type", "text").lower(), a.get("value", "")))
        elif tag == "textarea" and a.get("name"):
            self.forms[-1]["inputs"].append((a["name"], "textarea", ""))
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self.forms[-1]["inputs"].append((a["name"], "select", ""))
        elif tag == "option" and self._select:
            name, kind, value = self.forms[-1]["inputs"][-1]
            if not value and a.get("value"):
                self.forms[-1]["inputs"][-1] = (name, kind, a["value"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def forms_of(html: str) -> list[dict[str, Any]]:
    parser = Forms()
    parser.feed(html)
    return parser.forms
