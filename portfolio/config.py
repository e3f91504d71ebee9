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
SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name, not a secret)


class ConfigurationError(RuntimeError):
    """The configuration cannot work; the message says what to fix."""


# Secret keys that people copy from examples; never good enough for production.
KNOWN_WEAK_SECRETS = frozenset({
    "changeme", "change-me", "secret", "secret-key", "secretkey", "dev", "development", "test", "testing",
    "testing-secret-key", "password", "motdepasse", "ticketnet", "please-change-me", "replace-me",
})
MIN_SECRET_LENGTH = 32
MIN_SECRET_DISTINCT_CHARACTERS = 12
GENERATE_SECRET = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"  # noqa: S105 (a command)


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


def load_config(overrides: dict[str, Any] | None = None, enforce: bool = True) -> dict[str, Any]:
    """Build the Flask configuration: defaults, then the environment, then ``overrides``.

    In production mode, a configuration with ``production_problems`` raises ConfigurationError
    (unless ``enforce`` is false: ``ticketnet check`` lists the problems instead)."""
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
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "MAX_CONTENT_LENGTH": _env_int("MAX_UPLOAD_MB", 20) * 1024 * 1024,
        "PHOTO_MAX_MB": _env_int("PHOTO_MAX_MB", 10),
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
        # Sign-in limits (portfolio/auth/limits.py): every attempt per address; growing delays per account x
        # address after a few failures; failures per account from every address, beyond which only browsers
        # where the account signed in before go on.
        "LOGIN_LIMIT_PER_ADDRESS": os.environ.get(f"{ENV_PREFIX}LOGIN_LIMIT_PER_ADDRESS", "20 per minute"),
        "LOGIN_FREE_FAILURES": _env_int("LOGIN_FREE_FAILURES", 5),
        "LOGIN_DELAY_MAX_SECONDS": _env_int("LOGIN_DELAY_MAX_SECONDS", 900),
        "LOGIN_LIMIT_PER_ACCOUNT": os.environ.get(f"{ENV_PREFIX}LOGIN_LIMIT_PER_ACCOUNT", "100 per hour"),
        "DEVICE_COOKIE_NAME": "__Host-ticketnet_device" if production else "ticketnet_device",
        # Single sign-on (OpenID Connect) and the invitations that link an account to a provider.
        "OIDC_PROVIDERS": _oidc_providers(os.environ),
        "OIDC_TIMEOUT_SECONDS": 10,
        "SSO_INVITATION_DAYS": _env_int("SSO_INVITATION_DAYS", 14),
        # New staff members: how long their invitation link or access card works; the SMTP server that
        # sends the links (none: the link is shown once to the person who invites) and the sender.
        "STAFF_INVITATION_DAYS": _env_int("STAFF_INVITATION_DAYS", 7),
        "SMTP_URL": os.environ.get(f"{ENV_PREFIX}SMTP_URL", "").strip(),
        "MAIL_FROM": os.environ.get(f"{ENV_PREFIX}MAIL_FROM", "").strip() or "Ticket Net <ne-pas-repondre@localhost>",
        "SMTP_TIMEOUT_SECONDS": _env_int("SMTP_TIMEOUT_SECONDS", 10),
        "AUDIT_RETENTION_DAYS": _env_int("AUDIT_RETENTION_DAYS", 365),
        "SCHEME_CODE": "ticket-net-lot",
        # Behind a reverse proxy: how many proxies set X-Forwarded-For/-Proto/-Host/-Port/-Prefix (0: none).
        "PROXY_FIX": _env_proxy_fix(),
        # One log line per request; "json" for JSON lines, anything else for plain text.
        "LOG_FORMAT": os.environ.get(f"{ENV_PREFIX}LOG_FORMAT", "text").strip().lower(),
        # How the EPMs are paid for the tickets they serve (portfolio/stats/payments.py): pro_rata or
        # full_after_first.
        "PAYMENT_RULE": os.environ.get(f"{ENV_PREFIX}PAYMENT_RULE", "pro_rata"),
        # The dashboard's figures are kept this long between two computations (0: computed at each visit);
        # see portfolio/stats/kept.py and docs/statistics.md.
        "DASHBOARD_MAX_AGE_SECONDS": _env_int("DASHBOARD_MAX_AGE_SECONDS", 300),
        # The site's address, for links written outside a request (the readiness export's evidence links).
        "PUBLIC_URL": os.environ.get(f"{ENV_PREFIX}PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/"),
        # The API of partner systems: how long an access token lives; the public verification page's limit.
        "API_TOKEN_SECONDS": _env_int("API_TOKEN_SECONDS", 3600),
        "VERIFY_LIMIT": os.environ.get(f"{ENV_PREFIX}VERIFY_LIMIT", "30 per minute"),
        # Open Badges credentials (portfolio/credentials, docs/credentials.md): the folder of the issuers'
        # private keys. In development a missing key is generated there; in production keys are given
        # (files of this folder, or TICKETNET_CREDENTIAL_KEY_<ORGANISATION CODE> variables), never generated.
        "CREDENTIAL_KEY_DIR": os.environ.get(f"{ENV_PREFIX}CREDENTIAL_KEY_DIR") or (
            "" if production else str(instance / "credential-keys")),
        "CREDENTIAL_KEYS_GENERATE": _env_bool("CREDENTIAL_KEYS_GENERATE", not production),
    }
    config.update(overrides)
    config["TESTING"] = testing
    if config["SMTP_URL"]:
        from portfolio.mail import parse_smtp_url

        try:
            parse_smtp_url(config["SMTP_URL"])
        except ValueError as exc:
            raise ConfigurationError(f"{ENV_PREFIX}SMTP_URL: {exc}") from exc
    if production:
        plain = [name for name, p in config["OIDC_PROVIDERS"].items() if not p["discovery_url"].startswith("https://")]
        if plain:
            raise ConfigurationError(
                f"{ENV_PREFIX}OIDC_{plain[0].upper()}_DISCOVERY_URL must use https:// in production")

    if production:
        problems = production_problems(config) if enforce else []
        if problems:
            raise ConfigurationError(
                "Mode production refusé ; à corriger :\n" + "\n".join(f"- {problem}" for problem in problems))
    elif not config["SECRET_KEY"]:
        config["SECRET_KEY"] = "testing-secret-key" if testing else _development_secret_key(instance)
    return config


def _env_proxy_fix() -> int:
    value = os.environ.get(f"{ENV_PREFIX}PROXY_FIX", "").strip().lower()
    if value in ("true", "yes", "on"):
        return 1
    if value in ("", "false", "no", "off"):
        return 0
    try:
        return max(0, int(value))
    except ValueError as exc:
        raise ConfigurationError(
            f"{ENV_PREFIX}PROXY_FIX doit être le nombre de proxys devant l'application (0, 1, 2…), "
            f"pas {value!r}") from exc


def secret_key_weakness(key: str | None) -> str | None:
    """Why a secret key is not good enough for production, or None when it is."""
    if not key:
        return (f"{ENV_PREFIX}SECRET_KEY est absente : donnez-lui une valeur longue et aléatoire, gardée d'une "
                f"mise à jour à l'autre, par exemple la sortie de : {GENERATE_SECRET}")
    if key.strip().lower() in KNOWN_WEAK_SECRETS or len(key) < MIN_SECRET_LENGTH \
            or len(set(key)) < MIN_SECRET_DISTINCT_CHARACTERS:
        return (f"{ENV_PREFIX}SECRET_KEY est trop faible (il faut au moins {MIN_SECRET_LENGTH} caractères "
                f"aléatoires) : remplacez-la par la sortie de : {GENERATE_SECRET}")
    return None


def production_problems(config: dict[str, Any]) -> list[str]:
    """What stops this configuration from running in production, as sentences saying what to fix.

    Pure: reads the configuration and the environment, touches nothing. ``create_app`` refuses to build a
    production application while this list is not empty, and ``ticketnet check`` prints it."""
    problems = []
    weakness = secret_key_weakness(config.get("SECRET_KEY"))
    if weakness:
        problems.append(weakness)
    if config.get("DEBUG") or os.environ.get("FLASK_DEBUG", "").strip().lower() in ("1", "true", "yes", "on"):
        problems.append(f"le mode débogage est activé : retirez {ENV_PREFIX}DEBUG et FLASK_DEBUG de "
                        "l'environnement (le débogueur permettrait d'exécuter du code à distance)")
    if str(config.get("DATABASE_URL", "")).startswith("sqlite"):
        problems.append(f"la base de données est SQLite : mettez dans {ENV_PREFIX}DATABASE_URL l'adresse d'une "
                        "base PostgreSQL, par exemple postgresql+psycopg://ticketnet:MOT_DE_PASSE@localhost/ticketnet "
                        "(voir docs/deploy.md)")
    return problems
