"""``ticketnet import tickets|leap2a|wordpress|feed|framework FILE ...``.

Exit codes: 0 done; 1 refused input, each problem printed as ``FILE, ligne N : raison``; 2 usage error.
"""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from importers.errors import ImportRefused
from portfolio.cli import fail
from portfolio.extensions import db

FILE = click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)


@click.group("import")
def import_group() -> None:
    """Import files: prescribers' tickets, journals from elsewhere, competence frameworks."""


def _read(path: Path, limit: int) -> bytes:
    if path.stat().st_size > limit:
        fail(f"{path} : fichier trop lourd ({limit // (1024 * 1024)} Mo au plus)")
    return path.read_bytes()


def _refused(path: Path, refused: ImportRefused) -> None:
    where = f", ligne {refused.line}" if refused.line else ""
    fail(f"{path}{where} : {refused.message}")


@import_group.command("tickets")
@click.argument("file", type=FILE)
@click.option("--prescriber", "prescriber_code", required=True, help="The code of the issuing prescriber.")
@click.option("--public", "default_category", help="Public category (code) for the rows that name none.")
@click.option("--dry-run", is_flag=True, help="Check the file and list every problem; write nothing.")
@click.option("--valid-only", is_flag=True, help="Issue the valid rows even when other rows have problems.")
@with_appcontext
def tickets_command(file: Path, prescriber_code: str, default_category: str | None, dry_run: bool,
                    valid_only: bool) -> None:
    """Issue one ticket per row of a CSV or XLSX FILE: all of them, or nothing when a row has a problem."""
    from importers.apply_tickets import check_tickets, import_tickets
    from importers.tickets import MAX_BYTES, parse_ticket_file
    from portfolio.catalogue.scheme import current_scheme
    from portfolio.orgs.models import Organisation, OrgKind
    from portfolio.timeutil import local_today

    prescriber = db.session.scalar(sa.select(Organisation).where(
        Organisation.code == prescriber_code, Organisation.kind == OrgKind.PRESCRIBER.value))
    if prescriber is None:
        raise click.BadParameter(f"prescripteur inconnu : {prescriber_code}", param_hint="--prescriber")
    scheme = current_scheme(db.session)
    if default_category and default_category not in scheme.public_categories:
        raise click.BadParameter(f"public inconnu : {default_category} (codes : "
                                 f"{', '.join(scheme.public_categories)})", param_hint="--public")
    today = local_today()
    click.echo(f"Lecture de {file}…", err=True)
    try:
        parsed = parse_ticket_file(_read(file, MAX_BYTES), file.name, scheme.public_categories, today,
                                   default_category)
    except ImportRefused as refused:
        _refused(file, refused)
        return
    check = check_tickets(db.session, parsed, today)
    click.echo(f"{file} : {parsed.data_rows} lignes lues ({parsed.kind}"
               f"{', ' + parsed.encoding if parsed.encoding else ''}), {len(check.importable)} valides, "
               f"{len(check.problems)} avec un problème.")
    for problem in check.problems:
        click.echo(f"{file}, ligne {problem.line} : {problem.reason}", err=True)
    if dry_run:
        click.echo("Essai à blanc : rien n'a été écrit.")
        if check.problems and not valid_only:
            raise SystemExit(1)
        return
    if check.problems and not valid_only:
        fail(f"{file} : aucun ticket n'a été émis. Corrigez les lignes ci-dessus, ou ajoutez --valid-only pour "
             "n'émettre que les lignes valides.")
    with click.progressbar(length=len(check.importable), label="Émission des tickets") as bar:
        try:
            references = import_tickets(db.session, scheme, prescriber, check, today, valid_only=valid_only,
                                        progress=bar.update)
        except ImportRefused as refused:
            db.session.rollback()
            _refused(file, refused)
            return
    db.session.commit()
    click.echo(f"{len(references)} tickets émis pour {prescriber.name} : {references[0]} à {references[-1]}.")


def _journal_command(kind: str) -> click.Command:
    @click.command(kind)
    @click.argument("file", type=FILE)
    @click.option("--owner", required=True, help="The username of the learner whose journal receives the posts.")
    @click.option("--dry-run", is_flag=True, help="Say what would be imported; write nothing.")
    @with_appcontext
    def command(file: Path, owner: str, dry_run: bool) -> None:
        from importers.apply_journal import check_image_budget, import_journal
        from importers.journal import MAX_ARCHIVE_BYTES
        from portfolio.auth.models import User
        from portfolio.imports.services import parse_journal
        from portfolio.timeutil import local_today

        user = db.session.scalar(sa.select(User).where(User.username == owner.strip().lower()))
        if user is None:
            raise click.BadParameter(f"compte inconnu : {owner}", param_hint="--owner")
        try:
            parsed = parse_journal(_read(file, MAX_ARCHIVE_BYTES), file.name, kind)
        except ImportRefused as refused:
            _refused(file, refused)
            return
        try:
            check_image_budget(parsed)
        except ImportRefused as refused:
            _refused(file, refused)
            return
        with click.progressbar(length=len(parsed.entries), label="Import des articles") as bar:
            result = import_journal(db.session, user, parsed, local_today(), progress=bar.update)
        for entry in result.imported:
            tags = f" [{', '.join(entry.tags)}]" if entry.tags else ""
            photos = f" ({entry.photos} photo{'s' if entry.photos > 1 else ''})" if entry.photos else ""
            draft = " (brouillon)" if entry.draft else ""
            click.echo(f"+ {entry.entry_date.isoformat()} {entry.title}{tags}{photos}{draft}")
        for skipped in result.skipped:
            click.echo(f"- {skipped.what} « {skipped.title} » : {skipped.reason}")
        if dry_run:
            db.session.rollback()
            click.echo(f"Essai à blanc : {len(result.imported)} articles seraient importés ; rien n'a été écrit.")
            return
        db.session.commit()
        click.echo(f"{len(result.imported)} articles importés dans le journal de {user.username}, "
                   f"{len(result.skipped)} éléments laissés de côté.")

    command.help = {
        "leap2a": "Import a Mahara LEAP2A export (XML, or ZIP with its files) into a learner's journal.",
        "wordpress": "Import the posts of a WordPress export (WXR) into a learner's journal.",
        "feed": "Import the items of an RSS or Atom feed (e.g. a Blogger export) into a learner's journal.",
    }[kind]
    return command


for _kind in ("leap2a", "wordpress", "feed"):
    import_group.add_command(_journal_command(_kind))


@import_group.command("framework")
@click.argument("file", type=FILE)
@with_appcontext
def framework_command(file: Path) -> None:
    """Load a competence framework FILE (YAML, the shape of competences/data/frameworks/) as a new version."""
    from importers.framework import MAX_BYTES, apply_framework, parse_framework

    try:
        parsed = parse_framework(_read(file, MAX_BYTES))
        result = apply_framework(db.session, parsed)
    except ImportRefused as refused:
        db.session.rollback()
        _refused(file, refused)
        return
    db.session.commit()
    state = "chargé" if result.created else "déjà présent, rien n'a changé"
    click.echo(f"Référentiel {result.label} : {state} ({parsed.domains} domaines, {parsed.competences} "
               f"compétences, {parsed.capacities} capacités).")


commands = [import_group]
