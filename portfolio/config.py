"""Configuration, read from the environment (``TICKETNET_*``) with safe development defaults.

Nothing secret has a default in production mode (``TICKETNET_ENV=production``).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ENV_PREFIX = "TICKETNET_"
SECRET_KEY_FILE = "secret_key"


class ConfigurationError(RuntimeError):
    """The configuration cannot work; the message says what to fix."""


def instance_path() -> Path:
    """Where the instance data lives (SQLite database, secret key, uploads): ``./instance`` by default."""
    return Path(os.environ.get(f"{ENV_PREFIX}INSTANCE_PATH", Path.cwd() / "instance")).resolve()


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(ENV_PREFIX + name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(ENV_PREFIX + name)
    if value is None or not value.strip():
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigurationError(f"{ENV_PREFIX}{name} must be a whole number, not {value!r}") from exc


def _oidc_providers(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """OpenID Connect providers, one per ``TICKETNET_OIDC_<NAME>_DISCOVERY_URL``, each with its
    ``_CLIENT_ID`` and ``_CLIENT_SECRET`` (required), ``_LABEL`` (the button's text) and ``_SCOPE``."""
    providers: dict[str, dict[str, str]] = {}
    pattern = re.compile(rf"^{ENV_PREFIX}OIDC_([A-Z0-9]+)_DISCOVERY_URL$")
    for key in sorted(environ):
        match = pattern.match(key)
        if not match or not environ[key].strip():
            continue
        name = match.group(1)
        prefix = f"{ENV_PREFIX}OIDC_{name}_"
        missing = [part for part in ("CLIENT_ID", "CLIENT_SECRET") if not environ.get(prefix + part, "").strip()]
        if missing:
            wanted = " and ".join(prefix + m for m in missing)
            raise ConfigurationError(f"{prefix}DISCOVERY_URL is set: set {wanted} too")
        providers[name.lower()] = {
            "discovery_url": environ[key].strip(),
            "client_id": environ[prefix + "CLIENT_ID"].strip(),
            "client_secret": environ[prefix + "CLIENT_SECRET"].strip(),
            "label": environ.get(prefix + "LABEL", "").strip() or name.title(),
            "scope": environ.get(prefix + "SCOPE", "").strip() or "openid",
        }
    return providers


def _default_database_url(instance: Path) -> str:
    return f"sqlite:///{instance / 'ticketnet.sqlite3'}"


def _development_secret_key(instance: Path) -> str:
    """Read the development key from ``instance/secret_key``, creating it on the first run."""
    path = instance / SECRET_KEY_FILE
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the Flask configuration: defaults, then the environment, then ``overrides``."""
    overrides = dict(overrides or {})
    instance = Path(overrides.get("INSTANCE_PATH") or instance_path())
    env = overrides.get("ENV") or os.environ.get(f"{ENV_PREFIX}ENV", "development")
    production = env == "production"
    testing = bool(overrides.get("TESTING"))

    config: dict[str, Any] = {
        "ENV": env,
        "INSTANCE_PATH": str(instance),
        "DEBUG": _env_bool("DEBUG", False),
        "DATABASE_URL": os.environ.get(f"{ENV_PREFIX}DATABASE_URL") or _default_database_url(instance),
        "DATABASE_OPTIONS": {},
        "UPLOAD_DIR": os.environ.get(f"{ENV_PREFIX}UPLOAD_DIR") or str(instance / "uploads"),
        "SECRET_KEY": os.environ.get(f"{ENV_PREFIX}SECRET_KEY"),
        # Sessions: the cookie is only sent over HTTPS in production (with the __Host- prefix, which
        # browsers accept only from a secure origin, for the whole site, without a Domain attribute);
        # idle sessions end after a while, announced in advance on the page.
        "SESSION_COOKIE_NAME": "__Host-ticketnet_session" if production else "ticketnet_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "PERMANENT_SESSION_LIFETIME": dt.timedelta(minutes=_env_int("SESSION_MINUTES", 30)),
        "SESSION_REFRESH_EACH_REQUEST": True,
        "SESSION_WARNING_SECONDS": _env_int("SESSION_WARNING_SECONDS", 120),
        "SESSION_MAX_HOURS": _env_int("SESSION_MAX_HOURS", 12),  # signed out after this, even when active
        "RECENT_AUTH_MINUTES": _env_int("RECENT_AUTH_MINUTES", 10),  # sensitive actions ask again after this
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # How many reverse proxies in front set X-Forwarded-For / -Proto (the client's address is
        # what per-address limits and the audit log see).
        "TRUSTED_PROXIES": _env_int("TRUSTED_PROXIES", 0),
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "MAX_CONTENT_LENGTH": _env_int("MAX_UPLOAD_MB", 20) * 1024 * 1024,
        # Internationalisation: French first, English second.
        "LANGUAGES": ("fr", "en"),
        "BABEL_DEFAULT_LOCALE": "fr",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
        # Forms.
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session does
        # Rate limits: counters must be shared between workers in production (Redis).
        "RATELIMIT_STORAGE_URI": os.environ.get(f"{ENV_PREFIX}RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": False,
        "RATELIMIT_ENABLED": _env_bool("RATELIMIT_ENABLED", True),
        # Sign-in limits: every attempt per address; failed attempts per account.
        "LOGIN_LIMIT_PER_ADDRESS": os.environ.get(f"{ENV_PREFIX}LOGIN_LIMIT_PER_ADDRESS", "20 per minute"),
        "LOGIN_LIMIT_PER_ACCOUNT": os.environ.get(f"{ENV_PREFIX}LOGIN_LIMIT_PER_ACCOUNT", "10 per 15 minutes"),
        # Single sign-on (OpenID Connect) and the invitations that link an account to a provider.
        "OIDC_PROVIDERS": _oidc_providers(os.environ),
        "OIDC_TIMEOUT_SECONDS": 10,
        "SSO_INVITATION_DAYS": _env_int("SSO_INVITATION_DAYS", 14),
        "AUDIT_RETENTION_DAYS": _env_int("AUDIT_RETENTION_DAYS", 365),
        "SCHEME_CODE": "ticket-net-lot",
    }
    config.update(overrides)
    config["TESTING"] = testing
    if production:
        plain = [name for name, p in config["OIDC_PROVIDERS"].items() if not p["discovery_url"].startswith("https://")]
        if plain:
            raise ConfigurationError(f"{ENV_PREFIX}OIDC_{plain[0].upper()}_DISCOVERY_URL must use https:// in production")

    if not config["SECRET_KEY"]:
        if production:
            raise ConfigurationError(
                f"{ENV_PREFIX}SECRET_KEY is required in production mode: set it to a long random value, "
                "for example the output of: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        config["SECRET_KEY"] = "testing-secret-key" if testing else _development_secret_key(instance)
    return config
