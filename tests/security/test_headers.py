"""Security headers on every response: pages, redirects, errors and static files, anonymously and
signed in; HSTS in production only."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from portfolio import create_app
from portfolio.auth.models import Role
from tests.conftest import production_overrides
from tests.security.walk import client_as, context, everyone, get_rules, url_for_rule


def csp_directives(response: Any) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in (part.strip() for part in policy.split(";")) if d}


def header_problems(url: str, response: Any) -> list[str]:
    problems = []
    csp = csp_directives(response)
    for directive, sources in csp.items():
        if any(s in ("'unsafe-inline'", "'unsafe-eval'", "*", "data:") for s in sources) and directive not in (
                "img-src",):
            problems.append(f"{url}: {directive} allows {sources}")
    expected = {"default-src": ["'self'"], "script-src": ["'self'"], "style-src": ["'self'"],
                "object-src": ["'none'"], "base-uri": ["'none'"], "frame-ancestors": ["'none'"]}
    for directive, sources in expected.items():
        if csp.get(directive) != sources:
            problems.append(f"{url}: {directive} is {csp.get(directive)}")
    if csp.get("form-action", [None])[0] != "'self'":
        problems.append(f"{url}: form-action is {csp.get('form-action')}")
    wanted = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY"}
    for name, value in wanted.items():
        if response.headers.get(name) != value:
            problems.append(f"{url}: {name} is {response.headers.get(name)!r}")
    if response.mimetype in ("text/html", "application/json") and response.headers.get("Cache-Control") != "no-store":
        problems.append(f"{url}: Cache-Control is {response.headers.get('Cache-Control')!r}")
    if response.mimetype == "text/html" and response.mimetype_params.get("charset") != "utf-8":
        problems.append(f"{url}: Content-Type is {response.headers.get('Content-Type')!r}")
    if "Access-Control-Allow-Origin" in response.headers:
        problems.append(f"{url}: CORS allowed for {response.headers['Access-Control-Allow-Origin']!r}")
    if "Strict-Transport-Security" in response.headers:
        problems.append(f"{url}: HSTS outside production")
    return problems


@pytest.mark.parametrize("role", [None, Role.BENEFICIARY, Role.COORDINATOR],
                         ids=lambda r: r.value if r else "anonymous")
def test_every_response_carries_the_security_headers(app: Flask, db_session: Session, role: Role | None) -> None:
    people = everyone(db_session)
    client = client_as(app, db_session, people[role] if role else None)
    ctx = context(app, people, role)
    problems = []
    urls = [url_for_rule(app, rule, db_session, ctx) for rule in get_rules(app)]
    for url in [*urls, "/static/css/site.css", "/static/js/session.js", "/nowhere"]:
        response = client.get(url)
        problems += header_problems(url, response)
        response.close()
    assert problems == []


def test_static_files_may_be_cached_but_not_sniffed(client: Any) -> None:
    response = client.get("/static/js/session.js")
    response.close()
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers.get("Cache-Control") != "no-store"


def test_hsts_in_production(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(production_overrides(tmp_path))
    response = app.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_forms_may_lead_only_to_the_configured_providers(tmp_path: Any) -> None:
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path),
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
                      "OIDC_PROVIDERS": {"epm": {"discovery_url": "https://sso.epm.example/realms/lot/.well-known/"
                                                                  "openid-configuration",
                                                 "client_id": "x", "client_secret": "y"}}})
    csp = csp_directives(app.test_client().get("/nowhere"))
    assert csp["form-action"] == ["'self'", "https://sso.epm.example"]
    assert csp["frame-ancestors"] == ["'none'"]


def test_the_client_address_comes_from_the_trusted_proxy_only(tmp_path: Any) -> None:
    """Per-address limits and the audit log see the client's address: taken from X-Forwarded-For only
    behind the number of proxies configured (TICKETNET_PROXY_FIX), never from the client's word."""
    from flask import request

    def seen_address(trusted: int) -> str:
        app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path), "PROXY_FIX": trusted,
                          "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"})
        app.add_url_rule("/address-seen", "address_seen", lambda: request.remote_addr or "")
        response = app.test_client().get("/address-seen", environ_base={"REMOTE_ADDR": "10.0.0.2"},
                                         headers={"X-Forwarded-For": "198.51.100.4"})
        return response.get_data(as_text=True)

    assert seen_address(0) == "10.0.0.2"
    assert seen_address(1) == "198.51.100.4"
