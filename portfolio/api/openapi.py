"""The OpenAPI 3.1 document of the partner API, served at ``/api/v1/openapi.json``."""

from __future__ import annotations

from typing import Any

from portfolio.api.oauth import SCOPES


def _nullable(kind: str) -> dict[str, Any]:
    return {"type": [kind, "null"]}


SUMMARY = {
    "type": "object",
    "required": ["id", "url", "status", "sent_at", "learner", "ready"],
    "properties": {
        "id": {"type": "integer"},
        "url": {"type": "string", "format": "uri"},
        "status": {"type": "string", "enum": ["sent", "decided"]},
        "sent_at": {"type": "string", "format": "date-time"},
        "decision": {"type": ["string", "null"], "enum": ["ready", "to_complete", None]},
        "decided_at": {"type": ["string", "null"], "format": "date-time"},
        "verification_code": _nullable("string"),
        "learner": {"type": "object", "properties": {"first_name": {"type": "string"},
                                                     "last_name": {"type": "string"}}},
        "ticket_reference": _nullable("string"),
        "epm": {"type": ["object", "null"], "properties": {"code": {"type": "string"}, "name": {"type": "string"}}},
        "hours_attended": {"type": "number"},
        "ready": {"type": "boolean", "description": "Enough competences validated in each domain (B2i Adultes)."},
    },
}
ERROR = {"type": "object", "required": ["error"],
         "properties": {"error": {"type": "string"}, "message": {"type": "string"}}}


def document(base_url: str) -> dict[str, Any]:
    bearer = [{"partner": ["submissions:read"]}]
    errors = {
        "401": {"description": "No token, or a token unknown, expired or revoked.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "403": {"description": "The token lacks the scope `submissions:read`.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Ticket Net — API des organismes partenaires",
            "version": "1",
            "description": (
                "Evidence files (dossiers de preuves) that learners sent to your training body for the B2i Adultes "
                "certification. Only your organisation's files are ever returned; a file the learner withdrew "
                "disappears. Every read is written to the learner's audit log. Obtain a token with the OAuth2 "
                "client credentials grant (client registered by the coordination)."),
        },
        "servers": [{"url": base_url}],
        "components": {
            "securitySchemes": {"partner": {"type": "oauth2", "flows": {"clientCredentials": {
                "tokenUrl": f"{base_url}/api/v1/oauth/token",
                "scopes": {code: str(label) for code, label in SCOPES.items()}}}}},
            "schemas": {
                "Error": ERROR,
                "SubmissionSummary": SUMMARY,
                "Submission": {"allOf": [{"$ref": "#/components/schemas/SubmissionSummary"}, {
                    "type": "object",
                    "properties": {
                        "domains": {"type": "array", "items": {"type": "object", "properties": {
                            "code": {"type": "string"}, "title": {"type": "string"}, "validated": {"type": "integer"},
                            "required": {"type": "integer"}, "total": {"type": "integer"},
                            "met": {"type": "boolean"}}}},
                        "competences": {"type": "array", "items": {"type": "object", "properties": {
                            "code": {"type": "string"}, "title": {"type": "string"}, "domain": {"type": "string"},
                            "animator": {"type": ["string", "null"]}, "assessor": {"type": ["string", "null"]}}}},
                        "snapshot": {"type": "object", "description": (
                            "The evidence file exactly as sent (format ticketnet-evidence-file version 2: "
                            "competences with the three voices, the evidence entries the learner chose for it with "
                            "their visibility and the description of their photos, attendance). Only with the scope "
                            "`submissions:evidence`.")},
                    }}]},
            },
        },
        "paths": {
            "/api/v1/oauth/token": {"post": {
                "summary": "Obtain an access token (client credentials)",
                "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {
                    "type": "object", "required": ["grant_type"],
                    "properties": {"grant_type": {"const": "client_credentials"}, "scope": {"type": "string"}}}}}},
                "responses": {"200": {"description": "A bearer token (`access_token`, `expires_in`, `scope`)."},
                              "400": {"description": "Bad request (RFC 6749 §5.2)."},
                              "401": {"description": "Unknown client or wrong secret."}},
            }},
            "/api/v1/submissions": {"get": {
                "summary": "The files sent to your organisation, by id (waiting or decided)",
                "security": bearer,
                "parameters": [
                    {"name": "after", "in": "query", "schema": {"type": "integer"},
                     "description": "Continue after this id (the `next` link does it for you)."},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}],
                "responses": {"200": {"description": "A page of files.", "content": {"application/json": {
                    "schema": {"type": "object", "properties": {
                        "organisation": {"type": "object"},
                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/SubmissionSummary"}},
                        "next": {"type": ["string", "null"], "format": "uri"}}}}}}, **errors},
            }},
            "/api/v1/submissions/{id}": {"get": {
                "summary": "One file: readiness per domain, levels per competence (and the file itself with "
                           "`submissions:evidence`)",
                "security": bearer,
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "The file.", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Submission"}}}},
                    "404": {"description": "No such file for your organisation (or withdrawn by the learner).",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                    **errors},
            }},
        },
    }
