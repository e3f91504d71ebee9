"""Configuration, read from the environment (``TICKETNET_*``) with safe development defaults.

Nothing secret has a default in production mode (``TICKETNET_ENV=production``).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
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
        # Sessions: the cookie is only sent over HTTPS in production; idle sessions end after a while.
        "SESSION_COOKIE_NAME": "ticketnet_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "PERMANENT_SESSION_LIFETIME": dt.timedelta(minutes=_env_int("SESSION_MINUTES", 30)),
        "SESSION_REFRESH_EACH_REQUEST": True,
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
        "AUDIT_RETENTION_DAYS": _env_int("AUDIT_RETENTION_DAYS", 365),
        "SCHEME_CODE": "ticket-net-lot",
        # How the EPMs are paid for the tickets they serve (portfolio/stats/payments.py): pro_rata or
        # full_after_first.
        "PAYMENT_RULE": os.environ.get(f"{ENV_PREFIX}PAYMENT_RULE", "pro_rata"),
    }
    config.update(overrides)
    config["TESTING"] = testing

    if not config["SECRET_KEY"]:
        if production:
            raise ConfigurationError(
                f"{ENV_PREFIX}SECRET_KEY is required in production mode: set it to a long random value, "
                "for example the output of: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        config["SECRET_KEY"] = "testing-secret-key" if testing else _development_secret_key(instance)
    return config
