"""OAuth2 for partner systems, with authlib's authorization server: the client credentials grant only.

The coordination registers a client for one organisation with some scopes (``SCOPES``); the partner
system exchanges its id and secret for a bearer token at ``POST /api/v1/oauth/token`` and calls the API
with it. Secrets and tokens are kept as SHA-256 digests. ``refuse_without_token`` is what
``portfolio.permissions.token_required`` runs before every API view.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from flask import Flask, current_app, g, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload
from werkzeug.local import LocalProxy

from portfolio.api.models import ApiClient, ApiToken, digest
from portfolio.db import utcnow
from portfolio.extensions import db

SCOPES = {
    "submissions:read": _l("Lire la liste des dossiers reçus par l'organisme, leur état, la décision et la "
                           "préparation à la certification"),
    "submissions:evidence": _l("Lire aussi le contenu des dossiers : compétences détaillées, preuves (textes du "
                               "journal) et ateliers"),
}
EXTENSION_KEY = "ticketnet.oauth"


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


def _query_client(client_id: str) -> ApiClient | None:
    return db.session.scalar(sa.select(ApiClient).where(ApiClient.client_id == client_id,
                                                        ApiClient.revoked_at.is_(None)))


def _save_token(token: dict[str, Any], oauth_request: Any) -> None:
    db.session.add(ApiToken(client_id=oauth_request.client.id, token_hash=digest(token["access_token"]),
                            scope=token.get("scope", ""), issued_at=utcnow(), expires_in=token["expires_in"]))
    db.session.flush()


class _Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def query_token(self, token_string: str, token_type_hint: str | None) -> ApiToken | None:
        return db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == digest(token_string)))

    def revoke_token(self, token: ApiToken, oauth_request: Any) -> None:
        token.revoked_at = utcnow()
        db.session.flush()


def init_app(app: Flask) -> None:
    server = AuthorizationServer()
    app.config.setdefault("OAUTH2_SCOPES_SUPPORTED", list(SCOPES))
    app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {"client_credentials": app.config["API_TOKEN_SECONDS"]}
    server.init_app(app, query_client=_query_client, save_token=_save_token)
    server.register_grant(ClientCredentialsGrant)
    server.register_endpoint(_Revocation)
    app.extensions[EXTENSION_KEY] = server


def server() -> AuthorizationServer:
    return current_app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]


class _Validator(BearerTokenValidator):
    def authenticate_token(self, token_string: str) -> ApiToken | None:
        return db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == digest(token_string))
                                 .options(joinedload(ApiToken.client).joinedload(ApiClient.organisation)))


_validator = _Validator()
ERROR_MESSAGES = {
    "missing_authorization": _l("Il faut un jeton d'accès (en-tête Authorization: Bearer …)."),
    "invalid_token": _l("Ce jeton d'accès n'est pas valable : il est inconnu, expiré ou révoqué."),
    "insufficient_scope": _l("Ce jeton d'accès ne permet pas cette lecture (portée insuffisante)."),
    "unsupported_token_type": _l("Il faut un jeton de type Bearer."),
}


def refuse_without_token(scopes: list[str]) -> Any:
    """None if the request carries a valid bearer token with ``scopes`` (then ``current_token`` is it);
    otherwise the JSON error answer of RFC 6750 (401, or 403 for an insufficient scope)."""
    from authlib.integrations.flask_oauth2.requests import FlaskJsonRequest
    from authlib.oauth2.rfc6749 import MissingAuthorizationError, UnsupportedTokenTypeError

    header = request.headers.get("Authorization", "")
    try:
        if not header:
            raise MissingAuthorizationError("bearer", "ticketnet")
        token_type, _sep, token_string = header.partition(" ")
        if token_type.lower() != "bearer" or not token_string.strip():
            raise UnsupportedTokenTypeError("bearer", "ticketnet")
        token = _validator.authenticate_token(token_string.strip())
        # One string: every scope is needed (authlib reads a list as "any of these").
        _validator.validate_token(token, [" ".join(scopes)] if scopes else [], FlaskJsonRequest(request))
    except OAuth2Error as error:
        message = ERROR_MESSAGES.get(error.error, error.description or error.error)
        # RFC 6750 §3: no error code when the request carried no credentials at all.
        challenge = 'Bearer realm="ticketnet"' + (
            "" if error.error == "missing_authorization" else f', error="{error.error}"')
        return {"error": error.error, "message": str(message)}, error.status_code, {"WWW-Authenticate": challenge}
    g.api_token = token
    return None


def _current_token() -> ApiToken | None:
    return g.get("api_token")


current_token: ApiToken = LocalProxy(_current_token)  # type: ignore[assignment]
