"""``ticketnet check``: is this installation ready to serve, and what should be fixed?

Errors stop production: the configuration rules that ``create_app`` enforces in production mode
(``config.production_problems``), a database that does not answer or is not migrated, an upload folder
that cannot be written. Notes are advice that does not stop anything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from portfolio.config import ENV_PREFIX, ConfigurationError, load_config, production_problems


@dataclass
class CheckReport:
    mode: str
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    revision: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def _writable(folder: Path) -> bool:
    """Whether files can be written in ``folder``, or in the nearest existing folder that would hold it."""
    candidate = folder
    while not candidate.exists() and candidate != candidate.parent:
        candidate = candidate.parent
    return candidate.is_dir() and os.access(candidate, os.W_OK | os.X_OK)


def run_checks(overrides: dict[str, Any] | None = None) -> CheckReport:
    try:
        config = load_config(overrides, enforce=False)
    except ConfigurationError as exc:
        return CheckReport("?", errors=[str(exc)])
    production = config["ENV"] == "production"
    report = CheckReport(config["ENV"])
    rules = production_problems(config)
    if production:
        report.errors += rules
        if config["RATELIMIT_STORAGE_URI"].startswith("memory"):
            report.notes.append(
                f"{ENV_PREFIX}RATELIMIT_STORAGE_URI vaut memory:// : chaque processus compte les essais de "
                "connexion à part ; avec plusieurs workers ou serveurs, mettez redis://HÔTE:6379/0")
        if not config["PROXY_FIX"]:
            report.notes.append(
                f"{ENV_PREFIX}PROXY_FIX n'est pas réglé : derrière un proxy inverse (nginx, Caddy), mettez "
                f"{ENV_PREFIX}PROXY_FIX=1, sinon toutes les visites semblent venir du proxy")
    if not config["SMTP_URL"]:
        report.notes.append(
            f"{ENV_PREFIX}SMTP_URL n'est pas réglé : aucun courriel ne part ; le lien d'invitation d'un nouveau "
            "membre du personnel est montré une fois à la personne qui l'invite")
    elif production and config["SMTP_URL"].startswith("smtp://") and not _loopback_smtp(config["SMTP_URL"]):
        report.notes.append(
            f"{ENV_PREFIX}SMTP_URL commence par smtp:// : les liens d'invitation voyagent en clair jusqu'à ce "
            "serveur ; préférez smtp+starttls:// ou smtps://")
    if not production:
        report.notes.append(f"mode {config['ENV']} : pour la production, mettez {ENV_PREFIX}ENV=production")
        report.notes += [f"en production, il faudra : {rule}" for rule in rules]
    if not _writable(Path(config["UPLOAD_DIR"])):
        report.errors.append(f"le dossier des fichiers {config['UPLOAD_DIR']} ({ENV_PREFIX}UPLOAD_DIR) n'est pas "
                             "accessible en écriture pour ce compte")
    from portfolio.credentials import keys as credential_keys

    for name in credential_keys.unreadable(config):
        report.notes.append(f"{name} ne contient pas de clé Ed25519 lisible : les badges de son organisme "
                            "attendront une clé (docs/credentials.md)")
    if production and rules:
        return report  # the application cannot be built; the database is checked once the rules pass
    _check_database(overrides, report)
    return report


def _check_database(overrides: dict[str, Any] | None, report: CheckReport) -> None:
    from portfolio import create_app, migrate
    from portfolio.extensions import db

    app = create_app(overrides)
    try:
        report.revision = migrate.current_revision(app)
        head = migrate.head_revision(app)
    except SQLAlchemyError as exc:
        report.errors.append(f"la base de données ne répond pas ({getattr(exc, 'orig', exc)}) : vérifiez "
                             f"{ENV_PREFIX}DATABASE_URL et que le serveur tourne")
        return
    finally:
        db.state(app).engine.dispose()
    if report.revision != head:
        report.errors.append(f"la base est à la révision {report.revision or '(vide)'} et cette version à {head} : "
                             "lancez « ticketnet init »")
        return
    from portfolio.staff.services import active_admin_count

    with app.app_context():
        admins = active_admin_count(db.session)
    db.state(app).engine.dispose()
    if not admins:
        report.notes.append("aucun administrateur : personne ne peut encore se connecter ; créez le premier avec "
                            "« ticketnet admin create IDENTIFIANT »")


def _loopback_smtp(url: str) -> bool:
    from portfolio.mail import parse_smtp_url

    return parse_smtp_url(url).host in ("localhost", "127.0.0.1", "::1")
