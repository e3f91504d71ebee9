"""The OpenID Connect clients (authlib), one per provider configured in ``OIDC_PROVIDERS``.

The registry is kept per application (``app.extensions``), since the providers come from each
application's configuration. Nothing touches the network before a person uses a provider: the
discovery document is fetched on the first sign-in, then kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app

EXTENSION_KEY = "ticketnet.oidc"


@dataclass(frozen=True)
class Provider:
    name: str
    label: str
    discovery_url: str

    @property
    def origin(self) -> str:
        parts = urlsplit(self.discovery_url)
        return f"{parts.scheme}://{parts.netloc}"


def init_app(app: Flask) -> None:
    oauth = OAuth()
    oauth.init_app(app)
    # authlib keeps the registry on the OAuth object; this one belongs to this application only.
    for name, conf in app.config["OIDC_PROVIDERS"].items():
        oauth.register(
            name,
            client_id=conf["client_id"],
            client_secret=conf["client_secret"],
            server_metadata_url=conf["discovery_url"],
            client_kwargs={"scope": conf.get("scope") or "openid", "code_challenge_method": "S256",
                           "default_timeout": app.config["OIDC_TIMEOUT_SECONDS"]},
        )
    app.extensions[EXTENSION_KEY] = oauth


def providers() -> list[Provider]:
    return [Provider(name, conf.get("label") or name.title(), conf["discovery_url"])
            for name, conf in current_app.config["OIDC_PROVIDERS"].items()]


def provider(name: str) -> Provider | None:
    return next((p for p in providers() if p.name == name), None)


def client(name: str) -> Any:
    return current_app.extensions[EXTENSION_KEY].create_client(name)


def form_action_sources(app: Flask) -> list[str]:
    """The origins the browser may be sent to after a form (a sign-in or a sign-out through a
    provider starts with a POST answered by a redirect to the provider)."""
    return sorted({Provider(n, "", c["discovery_url"]).origin for n, c in app.config["OIDC_PROVIDERS"].items()})
