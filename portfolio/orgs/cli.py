"""``ticketnet orgs``: organisations from the command line (the same rules as the admin pages)."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from portfolio.cli import fail
from portfolio.extensions import db
from portfolio.orgs import services
from portfolio.orgs.models import OrgKind


@click.group("orgs")
def orgs_group() -> None:
    """Organisations: EPMs, prescribers, training bodies, the coordination."""


def _fields(f: click.decorators.FC) -> click.decorators.FC:
    options = [
        click.option("--name", help="The organisation's name."),
        click.option("--address", help="Street and number."),
        click.option("--postcode", help="Five digits."),
        click.option("--city", "--commune", "city", help="The commune."),
        click.option("--insee", "insee_code", help="The commune's INSEE code (code officiel géographique)."),
        click.option("--siret", help="The SIRET number (14 digits)."),
        click.option("--phone"),
        click.option("--email"),
        click.option("--opening-hours", "opening_slots", help="Opening hours, as people read them."),
        click.option("--capacity", type=int, help="An EPM's workstations (places per workshop at most)."),
        click.option("--module", "modules", type=int, multiple=True,
                     help="A module the EPM offers, by number; repeat it (--module 1 --module 2 ...)."),
        click.option("--modules", "module_list", help="The modules an EPM offers, as a list: 1,2,3-12."),
        click.option("--lieu-id", help="Its id in the national 'lieux de médiation numérique' data."),
        click.option("--certifies", "certifications", multiple=True,
                     help="A certification a training body decides (a framework code, e.g. b2i-adultes-2010)."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _module_numbers(modules: tuple[int, ...], module_list: str | None) -> list[int]:
    numbers = list(modules)
    for part in (module_list or "").replace(" ", "").split(","):
        if not part:
            continue
        try:
            if "-" in part:
                first, last = (int(x) for x in part.split("-", 1))
                numbers.extend(range(first, last + 1))
            else:
                numbers.append(int(part))
        except ValueError:
            fail(f"--modules : « {part} » n'est pas un numéro de module ni une suite (1,2,5-9)")
    return numbers


@orgs_group.command("create")
@click.option("--kind", required=True, type=click.Choice([k.value for k in OrgKind]))
@click.option("--code", required=True, help="A short code of lower-case letters, digits and dashes (epm-figeac).")
@_fields
@with_appcontext
def create_command(kind: str, code: str, name: str | None, modules: tuple[int, ...], module_list: str | None,
                   certifications: tuple[str, ...], **fields: str | int | None) -> None:
    """Create an organisation; exit 1 with the reason when refused (a code already taken, a bad SIRET...)."""
    data = services.OrganisationData(kind=kind, code=code, name=name or "",
                                     modules=_module_numbers(modules, module_list),
                                     certifications=list(certifications),
                                     **{k: v for k, v in fields.items() if v is not None})  # type: ignore[arg-type]
    try:
        org = services.create(db.session, data, actor=None)
    except services.OrganisationRefused as refused:
        fail(str(refused))
        return
    db.session.commit()
    click.echo(f"Organisme créé : {org.code} — {org.name} ({services.KIND_LABELS[org.kind]})"
               + (f", {len(data.modules)} modules" if data.modules else ""))


@orgs_group.command("edit")
@click.argument("code")
@click.option("--new-code", help="Change the organisation's code.")
@_fields
@with_appcontext
def edit_command(code: str, new_code: str | None, name: str | None, modules: tuple[int, ...],
                 module_list: str | None, certifications: tuple[str, ...], **fields: str | int | None) -> None:
    """Change what is given of an organisation (the rest stays as it is)."""
    org = services.find(db.session, code)
    if org is None:
        fail(f"aucun organisme n'a le code « {code} »")
        return
    org = services.load(db.session, org.id)
    assert org is not None
    data = services.OrganisationData.of(org)
    if new_code:
        data.code = new_code
    if name:
        data.name = name
    for key, value in fields.items():
        if value is not None:
            setattr(data, key, value)
    if modules or module_list:
        data.modules = _module_numbers(modules, module_list)
    if certifications:
        data.certifications = list(certifications)
    try:
        services.update(db.session, org, data, actor=None, seen_version=org.version)
    except services.OrganisationRefused as refused:
        fail(str(refused))
        return
    db.session.commit()
    click.echo(f"Organisme modifié : {org.code} — {org.name}")


def _set_active(code: str, active: bool) -> None:
    org = services.find(db.session, code)
    if org is None:
        fail(f"aucun organisme n'a le code « {code} »")
        return
    changed = services.set_active(db.session, org, active, actor=None)
    db.session.commit()
    state = "actif" if active else "désactivé"
    click.echo(f"{org.name} : {state}" + ("" if changed else " (il l'était déjà)"))


@orgs_group.command("deactivate")
@click.argument("code")
@with_appcontext
def deactivate_command(code: str) -> None:
    """Deactivate an organisation: kept with everything that names it, offered for no new work."""
    _set_active(code, False)


@orgs_group.command("reactivate")
@click.argument("code")
@with_appcontext
def reactivate_command(code: str) -> None:
    """Make a deactivated organisation active again."""
    _set_active(code, True)


@orgs_group.command("list")
@click.option("--kind", type=click.Choice([k.value for k in OrgKind]))
@click.option("--json", "as_json", is_flag=True, help="A JSON list of objects (as orgs show --json).")
@with_appcontext
def list_command(kind: str | None, as_json: bool) -> None:
    """Every organisation, with its numbers of staff and learners."""
    rows = services.listing(db.session, kind)
    if as_json:
        loaded = {o.id: o for o in services.load_many(db.session, [r.organisation.id for r in rows])}
        click.echo(json.dumps([{**services.describe(loaded[r.organisation.id]), "staff": r.staff,
                                "learners": r.learners} for r in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("Aucun organisme : créez-en un avec « ticketnet orgs create ».")
    for row in rows:
        org = row.organisation
        click.echo(f"{org.code:<28} {org.kind:<14} {'actif' if org.active else 'désactivé':<10} "
                   f"{row.staff:>3} personnel {row.learners:>5} apprenants  {org.name}")


@orgs_group.command("show")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def show_command(code: str, as_json: bool) -> None:
    """Everything about one organisation."""
    found = services.find(db.session, code)
    if found is None:
        fail(f"aucun organisme n'a le code « {code} »")
        return
    org = services.load(db.session, found.id)
    assert org is not None
    described = services.describe(org)
    if as_json:
        click.echo(json.dumps(described, ensure_ascii=False, indent=2))
        return
    labels = {"code": "Code", "kind": "Type", "name": "Nom", "active": "Actif", "address": "Adresse",
              "postcode": "Code postal", "city": "Commune", "insee_code": "Code INSEE", "siret": "SIRET",
              "phone": "Téléphone", "email": "Courriel", "opening_hours": "Horaires", "capacity": "Postes",
              "lieu_id": "Identifiant lieu de médiation numérique", "modules": "Modules",
              "certifications": "Certifications"}
    for key, label in labels.items():
        value = described[key]
        if isinstance(value, bool):
            value = "oui" if value else "non"
        elif isinstance(value, list):
            value = ", ".join(map(str, value))
        if value not in ("", None):
            click.echo(f"{label} : {value}")
    for membership in services.staff_of(db.session, org.id):
        click.echo(f"  {membership.role:<12} {membership.user.username:<24} {membership.user.display_name}"
                   + (" (référent·e)" if membership.lead else "") + ("" if membership.user.active else " (désactivé)"))


commands = [orgs_group]
