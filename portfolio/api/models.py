"""OAuth2 clients of partner systems (registered by the coordination for one organisation) and the
access tokens issued to them. Secrets and tokens are stored as SHA-256 digests only: both are long
random strings, so a fast digest is enough (a password hash is for secrets people choose)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.db import Base, utcnow

if TYPE_CHECKING:
    from portfolio.orgs.models import Organisation


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiClient(Base):
    """A partner system of one organisation, allowed some scopes (authlib's ClientMixin)."""

    __tablename__ = "api_client"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(200))
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(sa.String(200))  # space-separated
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]

    organisation: Mapped[Organisation] = relationship(lazy="raise")

    @property
    def scopes(self) -> list[str]:
        return self.scope.split()

    # --- authlib's ClientMixin -------------------------------------------------------------------

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str) -> str:
        if not scope:
            return self.scope
        return " ".join(s for s in scope.split() if s in self.scopes)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return self.revoked_at is None and hmac.compare_digest(self.secret_hash, digest(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint in ("token", "revocation") and method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials" and self.revoked_at is None


class ApiToken(Base):
    """An access token (its digest), for one client, with the scopes granted; valid ``expires_in`` seconds."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("api_client.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    scope: Mapped[str] = mapped_column(sa.String(200))
    issued_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_in: Mapped[int]
    revoked_at: Mapped[dt.datetime | None]

    client: Mapped[ApiClient] = relationship(lazy="joined")

    # --- authlib's TokenMixin --------------------------------------------------------------------

    def check_client(self, client: ApiClient) -> bool:
        return self.client_id == client.id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return utcnow() >= self.issued_at + dt.timedelta(seconds=self.expires_in)

    def is_revoked(self) -> bool:
        return self.revoked_at is not None or self.client.revoked_at is not None

    def get_user(self) -> None:
        return None

    def get_client(self) -> ApiClient:
        return self.client
