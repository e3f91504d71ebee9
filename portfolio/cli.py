"""The ``ticketnet`` command: a Flask CLI group on ``create_app``.

Exit codes: 0 success; 1 refused input (the message names the file, line and reason); 2 usage error.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from portfolio.extensions import db


def _create_app() -> Flask:
    from portfolio import create_app
    from portfolio.config import ConfigurationError

    try:
        return create_app()
    except ConfigurationError as exc:
        click.echo(f"Erreur de configuration : {exc}\n(« ticketnet check » fait le point.)", err=True)
        sys.exit(1)


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False, load_dotenv=False,
             set_debug_flag=False)
def main() -> None:
    """Ticket Net e-portfolio: administration commands."""


@main.command("check", with_appcontext=False)
def check_command() -> None:
    """Check the configuration, the database and the upload folder; exit 1 if production would be unsafe."""
    from portfolio.checks import run_checks

    report = run_checks()
    click.echo(f"Mode : {report.mode}")
    if report.revision:
        click.echo(f"Base de données : révision {report.revision}")
    for note in report.notes:
        click.echo(f"Remarque : {note}")
    for error in report.errors:
        click.echo(f"À corriger : {error}", err=True)
    if not report.ok:
        sys.exit(1)
    click.echo("Tout est prêt.")


def init_app(app: Flask) -> None:
    from portfolio.audit.cli import purge_command
    from portfolio.backup.cli import commands as backup_commands

    for command in (init_command, demo_command, frameworks_group, db_group, purge_command, *backup_commands):
        app.cli.add_command(command)


def _app() -> Flask:
    return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]


def fail(message: str) -> None:
    """Refused input: print the reason and exit with status 1."""
    click.echo(f"Erreur : {message}", err=True)
    sys.exit(1)


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Migrate the database to head and load frameworks, modules and scheme figures (idempotent)."""
    from competences.loader import FrameworkDataError
    from portfolio.bootstrap import initialise

    try:
        report = initialise(_app())
    except FrameworkDataError as exc:
        fail(str(exc))
        return
    click.echo(f"Base de données : révision {report.revision_after}"
               + ("" if report.revision_before == report.revision_after else f" (avant : {report.revision_before})"))
    for result in report.loaded:
        click.echo(f"Référentiel {result.label} : {'chargé' if result.created else 'déjà présent'}")
    click.echo(f"Dispositif : {'chargé' if report.scheme_changed else 'déjà présent'}")
    click.echo(f"Modules : {report.modules_created} créés, {report.modules_updated} mis à jour")
    click.echo("Rien n'a changé." if not report.changed else "Initialisation terminée.")


@click.command("demo")
@click.option("--password", help="Use this password for every demo account (default: derived from the secret key).")
@click.option("--scale", type=click.IntRange(min=0), default=0, help="Add N beneficiaries with full histories.")
@click.option("--seed", type=int, default=46, show_default=True, help="Random seed for --scale.")
@click.option("--json", "as_json", is_flag=True, help="Print the accounts as a JSON list.")
@with_appcontext
def demo_command(password: str | None, scale: int, seed: int, as_json: bool) -> None:
    """Create demo organisations and one account per role, and print them with their passwords."""
    from portfolio.auth.passwords import hash_password
    from portfolio.catalogue.scheme import SchemeNotLoaded
    from portfolio.demo import create_demo, default_password
    from portfolio.demo.scale import add_scale
    from portfolio.timeutil import local_today

    if current_app.config["ENV"] == "production":
        fail("les données de démonstration sont refusées en mode production")
    session = db.session
    try:
        accounts = create_demo(session, current_app.config["SECRET_KEY"], password)
        session.commit()
    except SchemeNotLoaded:
        fail("la base n'est pas initialisée : lancez d'abord « ticketnet init »")
        return
    if scale:
        started = time.monotonic()
        scale_password = password or default_password(current_app.config["SECRET_KEY"], "scale")
        report = add_scale(session, scale, seed, local_today(), hash_password(scale_password),
                           progress=None if as_json else lambda done: click.echo(f"  {done} / {scale} apprenants",
                                                                                  err=True))
        session.commit()
        if not as_json:
            if report.skipped:
                click.echo(f"Jeu --scale de graine {seed} déjà présent : rien n'a changé.")
            else:
                total = sum(report.rows.values())
                per_table = ", ".join(f"{k} {v}" for k, v in report.rows.items())
                click.echo(f"{report.learners} apprenants dans {report.epms} EPM : {total} lignes en "
                           f"{time.monotonic() - started:.1f} s ({per_table})")
                click.echo(f"Comptes apprenant.s{seed}.N et animateur.s{seed}.N, mot de passe : {scale_password}")
    if as_json:
        click.echo(json.dumps([a.as_dict() for a in accounts], ensure_ascii=False, indent=2))
        return
    click.echo("Comptes de démonstration :")
    for account in accounts:
        shown = account.password or "(inchangé : mot de passe choisi lors d'une création précédente)"
        click.echo(f"  {account.role:<12} {account.username:<20} {shown:<32} {account.organisation}")


@click.group("frameworks")
def frameworks_group() -> None:
    """Competence frameworks."""


@frameworks_group.command("list")
@with_appcontext
def frameworks_list() -> None:
    """Each framework with its numbers of domains, competences and capacities."""
    from competences.loader import framework_counts

    rows = framework_counts(db.session)
    if not rows:
        click.echo("Aucun référentiel : lancez « ticketnet init ».")
    for row in rows:
        click.echo(f"{row.framework.code}\t{row.domains} domaines\t{row.competences} compétences\t"
                   f"{row.capacities} capacités\t{row.framework.version}")


@frameworks_group.command("show")
@click.argument("code")
@with_appcontext
def frameworks_show(code: str) -> None:
    """The domains, competences and capacities of the latest version of a framework."""
    import sqlalchemy as sa
    from sqlalchemy.orm import selectinload

    from competences.loader import latest_framework
    from competences.models import Competence, Framework, FrameworkDomain

    latest = latest_framework(db.session, code)
    if latest is None:
        fail(f"référentiel inconnu : {code}")
        return
    framework = db.session.scalars(
        sa.select(Framework).where(Framework.id == latest.id).options(
            selectinload(Framework.domains).selectinload(FrameworkDomain.competences)
            .selectinload(Competence.capacities))
    ).one()
    click.echo(f"{framework.code} — {framework.title}\nVersion : {framework.version}")
    rule = (framework.certification_rule or {}).get("min_validated_per_domain") or {}
    for domain in framework.domains:
        minimum = f" (à valider : {rule[domain.code]}/{len(domain.competences)})" if domain.code in rule else ""
        click.echo(f"\n{domain.code} {domain.title}{minimum}")
        for competence in domain.competences:
            click.echo(f"  {competence.code} {competence.title}")
            for capacity in competence.capacities:
                click.echo(f"    {capacity.code} {capacity.title}")


@frameworks_group.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def frameworks_import(files: tuple[Path, ...]) -> None:
    """Load framework, everyday-words or mapping files (the shape of competences/data/frameworks); all or nothing.

    A version already loaded with the same content changes nothing; a different content under a version
    already loaded is refused (exit 1): a framework in use is never changed in place, give it a new version.
    Everyday words load onto the framework's versions already there (a new content becomes the one shown).
    """
    from competences.loader import FrameworkDataError, load_files

    try:
        results = load_files(db.session, list(files))
    except FrameworkDataError as exc:
        db.session.rollback()
        fail(str(exc))
        return
    db.session.commit()
    for result in results:
        click.echo(f"Référentiel {result.label} : {'chargé' if result.created else 'déjà présent'}")


@click.group("db")
def db_group() -> None:
    """Database migrations (Alembic)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default: head)."""
    from portfolio import migrate

    migrate.upgrade(_app(), revision)
    click.echo(f"Révision : {migrate.current_revision(_app())}")


@db_group.command("current")
@with_appcontext
def db_current() -> None:
    """Print the database's revision and the code's head revision."""
    from portfolio import migrate

    app = _app()
    click.echo(f"base : {migrate.current_revision(app)}\ncode : {migrate.head_revision(app)}")


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate/--empty", default=True)
@click.option("--rev-id", help="The new revision's id (default: random).")
@with_appcontext
def db_revision(message: str, autogenerate: bool, rev_id: str | None) -> None:
    """Write a new migration (compared with the models unless --empty)."""
    from alembic import command

    from portfolio import migrate

    command.revision(migrate.alembic_config(_app()), message=message, autogenerate=autogenerate, rev_id=rev_id)


@db_group.command("check")
@with_appcontext
def db_check() -> None:
    """Exit 1 if the models and the migrations disagree (on a database migrated to head)."""
    from alembic import command
    from alembic.util import AutogenerateDiffsDetected, CommandError

    from portfolio import migrate

    try:
        command.check(migrate.alembic_config(_app()))
    except AutogenerateDiffsDetected as exc:
        fail(f"les modèles et les migrations diffèrent ; écrivez une migration : {exc}")
    except CommandError as exc:
        fail(f"{exc} (lancez d'abord « ticketnet init »)")
    click.echo("Les modèles et les migrations concordent.")
