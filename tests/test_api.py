"""The API of partner systems: OAuth2 client credentials (authlib), the organisation's files only, token
scopes checked, every read audited, secrets and tokens kept as digests, the OpenAPI document."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from portfolio.api import services
from portfolio.api.models import ApiClient, ApiToken, digest
from portfolio.audit.models import AuditEvent
from portfolio.auth.models import Role
from portfolio.sharing import submissions
from tests import factories
from tests.test_certification import candidate, training_body

NOW = factories.NOW


def register(session: Session, organisation_id: int, scopes: tuple[str, ...] = ("submissions:read",)) -> Any:
    coordinator = factories.user(session, Role.COORDINATOR)
    return services.register_client(session, organisation_id, "Logiciel du GRETA", list(scopes), coordinator,
                                    ["submissions:read", "submissions:evidence"])


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def token_for(client: Any, new: Any, scope: str | None = None) -> str:
    data = {"grant_type": "client_credentials"} | ({"scope": scope} if scope else {})
    response = client.post("/api/v1/oauth/token", data=data, headers=basic(new.client.client_id, new.secret))
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    return str(body["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def world(session: Session) -> dict[str, Any]:
    greta, assessor = training_body(session)
    other, _stranger = training_body(session)
    mine = submissions.send(session, candidate(session, "Dugreta")[0], greta.id, NOW)
    decided = submissions.send(session, candidate(session, "Decidee")[0], greta.id, NOW)
    submissions.decide(session, decided, assessor, "ready", "", NOW)
    theirs = submissions.send(session, candidate(session, "Dautre")[0], other.id, NOW)
    learner, _entry = candidate(session, "Retiree")
    withdrawn = submissions.send(session, learner, greta.id, NOW)
    submissions.withdraw(session, withdrawn, learner, NOW)
    return {"greta": greta, "other": other, "mine": mine, "decided": decided, "theirs": theirs,
            "withdrawn": withdrawn}


def test_secrets_and_tokens_are_kept_as_digests_only(client: Any, db_session: Session) -> None:
    greta, _assessor = training_body(db_session)
    new = register(db_session, greta.id)
    db_session.commit()
    row = db_session.get(ApiClient, new.client.id)
    assert row is not None and row.secret_hash == digest(new.secret) and new.secret not in row.secret_hash
    token = token_for(client, new)
    stored = db_session.scalars(sa.select(ApiToken)).one()
    assert stored.token_hash == digest(token) and stored.scope == "submissions:read"


def test_a_wrong_secret_or_unknown_client_gets_no_token(client: Any, db_session: Session) -> None:
    greta, _assessor = training_body(db_session)
    new = register(db_session, greta.id)
    db_session.commit()
    for headers in (basic(new.client.client_id, "wrong"), basic("tn-unknown", new.secret), {}):
        response = client.post("/api/v1/oauth/token", data={"grant_type": "client_credentials"}, headers=headers)
        assert response.status_code in (400, 401) and response.get_json()["error"] == "invalid_client"
    body = client.post("/api/v1/oauth/token", data={"grant_type": "password"},
                       headers=basic(new.client.client_id, new.secret))
    assert body.status_code == 400
    assert db_session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0


def test_only_the_organisations_files_are_listed_and_read(client: Any, db_session: Session) -> None:
    data = world(db_session)
    new = register(db_session, data["greta"].id)
    db_session.commit()
    token = token_for(client, new)
    listing = client.get("/api/v1/submissions", headers=bearer(token))
    assert listing.status_code == 200 and listing.headers["Cache-Control"] == "no-store"
    items = listing.get_json()["items"]
    assert sorted(i["id"] for i in items) == sorted([data["mine"].id, data["decided"].id])
    decided = next(i for i in items if i["id"] == data["decided"].id)
    assert decided["decision"] == "ready" and submissions.CODE_PATTERN.match(decided["verification_code"])
    assert decided["learner"] == {"first_name": "Odette", "last_name": "Decidee"} and decided["hours_attended"] == 4
    one = client.get(f"/api/v1/submissions/{data['mine'].id}", headers=bearer(token)).get_json()
    assert {d["code"] for d in one["domains"]} == {"D1", "D2", "D3", "D4", "D5"} and "snapshot" not in one
    for refused in (data["theirs"].id, data["withdrawn"].id, 999_999):
        response = client.get(f"/api/v1/submissions/{refused}", headers=bearer(token))
        assert response.status_code == 404 and response.is_json


def test_the_list_is_paged(client: Any, db_session: Session) -> None:
    data = world(db_session)
    new = register(db_session, data["greta"].id)
    db_session.commit()
    token = token_for(client, new)
    first = client.get("/api/v1/submissions?limit=1", headers=bearer(token)).get_json()
    assert len(first["items"]) == 1 and first["next"]
    second = client.get(first["next"], headers=bearer(token)).get_json()
    assert len(second["items"]) == 1 and second["items"][0]["id"] > first["items"][0]["id"]


def test_the_token_scope_is_checked(client: Any, db_session: Session) -> None:
    data = world(db_session)
    reader = register(db_session, data["greta"].id, ("submissions:read",))
    evidence_only = register(db_session, data["greta"].id, ("submissions:evidence",))
    both = register(db_session, data["greta"].id, ("submissions:read", "submissions:evidence"))
    db_session.commit()
    url = f"/api/v1/submissions/{data['mine'].id}"
    refused = client.get(url, headers=bearer(token_for(client, evidence_only)))
    assert refused.status_code == 403 and refused.get_json()["error"] == "insufficient_scope"
    assert "insufficient_scope" in refused.headers["WWW-Authenticate"]
    assert "snapshot" not in client.get(url, headers=bearer(token_for(client, reader))).get_json()
    full = client.get(url, headers=bearer(token_for(client, both))).get_json()
    assert full["snapshot"]["format"] == "ticketnet-evidence-file"
    # A token asked for a narrower scope gets that scope only.
    narrow = token_for(client, both, scope="submissions:read")
    assert "snapshot" not in client.get(url, headers=bearer(narrow)).get_json()


def test_no_bad_expired_or_revoked_token_gets_in(client: Any, db_session: Session, login_as: Any) -> None:
    data = world(db_session)
    new = register(db_session, data["greta"].id)
    db_session.commit()
    for headers in ({}, bearer("not-a-token"), {"Authorization": "Basic abc"}):
        response = client.get("/api/v1/submissions", headers=headers)
        assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    token = token_for(client, new)
    stored = db_session.scalars(sa.select(ApiToken)).one()
    stored.issued_at = NOW - dt.timedelta(hours=2)
    db_session.commit()
    assert client.get("/api/v1/submissions", headers=bearer(token)).get_json()["error"] == "invalid_token"
    fresh = token_for(client, new)
    assert client.post("/api/v1/oauth/revoke", data={"token": fresh},
                       headers=basic(new.client.client_id, new.secret)).status_code == 200
    assert client.get("/api/v1/submissions", headers=bearer(fresh)).status_code == 401
    again = token_for(client, new)
    services.revoke_client(db_session, services.load_client(db_session, new.client.id),
                           factories.user(db_session, Role.COORDINATOR), NOW)
    db_session.commit()
    assert client.get("/api/v1/submissions", headers=bearer(again)).status_code == 401
    refused = client.post("/api/v1/oauth/token", data={"grant_type": "client_credentials"},
                          headers=basic(new.client.client_id, new.secret))
    assert refused.status_code in (400, 401)
    login_as(Role.ASSESSOR)  # a browser session is no token
    assert client.get("/api/v1/submissions").status_code == 401


def test_every_api_read_is_audited(client: Any, db_session: Session) -> None:
    data = world(db_session)
    new = register(db_session, data["greta"].id)
    db_session.commit()
    token = token_for(client, new)
    client.get("/api/v1/submissions", headers=bearer(token))
    client.get(f"/api/v1/submissions/{data['mine'].id}", headers=bearer(token))
    events = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "api.submission_read")).all()
    assert sorted(e.subject_user_id for e in events) == sorted(
        [data["mine"].owner_id, data["decided"].owner_id, data["mine"].owner_id])
    assert {(e.actor_name, e.organisation_name) for e in events} == {("Logiciel du GRETA", data["greta"].name)}


def test_the_coordination_registers_and_revokes_clients(client: Any, login_as: Any, db_session: Session) -> None:
    greta, _assessor = training_body(db_session, name="GRETA Client")
    login_as(Role.COORDINATOR)
    refused = client.post_form("/coordination/logiciels-partenaires", {"organisation_id": greta.id, "name": ""})
    assert refused.status_code == 400
    created = client.post_form("/coordination/logiciels-partenaires", {
        "organisation_id": greta.id, "name": "Logiciel", "scopes": ["submissions:read"]})
    html = created.get_data(as_text=True)
    assert created.status_code == 200 and "Notez ce secret maintenant" in html
    row = db_session.scalars(sa.select(ApiClient)).one()
    secret = html.split("client_secret</dt><dd><code>")[1].split("<")[0]
    assert row.secret_hash == digest(secret) and secret not in client.get(
        "/coordination/logiciels-partenaires").get_data(as_text=True)
    assert client.post_form(f"/coordination/logiciels-partenaires/{row.id}/revoquer").status_code == 302
    db_session.refresh(row)
    assert row.revoked_at is not None


def test_the_openapi_document(client: Any, app: Flask) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert {"/api/v1/submissions", "/api/v1/submissions/{id}", "/api/v1/oauth/token"} <= set(document["paths"])
    flows = document["components"]["securitySchemes"]["partner"]["flows"]["clientCredentials"]
    assert flows["tokenUrl"].endswith("/api/v1/oauth/token") and "submissions:read" in flows["scopes"]
    # The paths of the document are the application's routes.
    rules = {rule.rule.replace("<int:submission_id>", "{id}") for rule in app.url_map.iter_rules()}
    assert set(document["paths"]) <= rules
