"""Ticket Net e-portfolio: the Flask application.

``create_app()`` builds the application and has no side effects: it never migrates, prompts or touches
the network (the only file it may write is the development secret key, on a first development run).
In production mode it refuses a configuration that ``ticketnet check`` would refuse (ConfigurationError).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from flask import Flask

from portfolio.config import load_config

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent

# Feature packages, each with a ``views.py`` holding one Blueprint ``bp`` and, optionally,
# a ``cli.py`` holding click commands in ``commands``.
FEATURES: tuple[str, ...] = (
    "core",
    "auth",
    "home",
    "tickets",
    "enrolment",
    "catalogue",
    "journal",
    "showcase",
    "privacy",
    "assessment",
    "account",
    "sso",
    "stats",
    "imports",
    "sharing",
    "credentials",
    "api",
    "orgs",
    "staff",
)


def asset_dir(name: str) -> Path:
    """Find ``templates``, ``static`` or ``migrations``: beside the package in a source checkout
    (or an editable install), inside it once installed from a wheel."""
    for candidate in (PACKAGE_DIR / name, PROJECT_DIR / name):
        if candidate.is_dir():
            return candidate
    raise RuntimeError(f"cannot find the {name!r} directory of the ticketnet distribution")


def _add_command(app: Flask, command: Any) -> None:
    """Add a feature's click command; groups of the same name (``export``...) are merged, so that several
    features can each contribute subcommands."""
    import click

    existing = app.cli.commands.get(command.name)
    if isinstance(existing, click.Group) and isinstance(command, click.Group):
        for sub in command.commands.values():
            existing.add_command(sub)
    else:
        app.cli.add_command(command)


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    config = load_config(overrides)
    app = Flask(
        __name__,
        instance_path=config["INSTANCE_PATH"],
        template_folder=str(asset_dir("templates")),
        static_folder=str(asset_dir("static")),
    )
    app.config.update(config)

    import portfolio.models  # noqa: F401  (every model mapped before the first query)
    from portfolio import assets, requestlog, web
    from portfolio.extensions import babel, csrf, db, limiter, login_manager
    from portfolio.i18n import init_app as init_i18n
    from portfolio.i18n import select_locale

    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(PACKAGE_DIR / "translations"),
    )
    init_i18n(app)
    web.init_app(app)
    assets.init_app(app)
    requestlog.init_app(app)
    if app.config["PROXY_FIX"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_FIX"]
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops)

    from portfolio import cli

    cli.init_app(app)
    for feature in FEATURES:
        views = importlib.import_module(f"portfolio.{feature}.views")
        app.register_blueprint(views.bp)
        try:
            feature_cli = importlib.import_module(f"portfolio.{feature}.cli")
        except ModuleNotFoundError as exc:
            if exc.name != f"portfolio.{feature}.cli":
                raise
        else:
            for command in feature_cli.commands:
                _add_command(app, command)
    return app
