"""``ticketnet admin create`` (the first administrator) and ``ticketnet accounts`` (staff accounts).

The commands act as the site's IT staff: they may do what an administrator may, and write the same
audit events (with no actor, and ``"via": "cli"``)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app, url_for
from flask.cli import with_appcontext

from portfolio.auth.models import Role
from portfolio.auth.services import find_user
from portfolio.cli import fail
from portfolio.extensions import db
from portfolio.orgs import services as orgs
from portfolio.orgs.models import OrgKind
from portfolio.staff import invitations, services

DEFAULT_COORDINATION = ("coordination", "Coordination Ticket Net")


def _password(password: str | None) -> str:
    if password is not None:
        return password
    return str(click.prompt("Mot de passe", hide_input=True,
                            confirmation_prompt="Le même mot de passe, encore une fois"))


def _coordination(code: str | None) -> orgs.Organisation:
    if code:
        found = orgs.find(db.session, code)
        if found is None:
            fail(f"aucun organisme n'a le code « {code} »")
        assert found is not None
        return found
    import sqlalchemy as sa

    existing = db.session.scalar(sa.select(orgs.Organisation).where(
        orgs.Organisation.kind == OrgKind.COORDINATION.value, orgs.Organisation.active.is_(True))
        .order_by(orgs.Organisation.id).limit(1))
    if existing is not None:
        return existing
    code, name = DEFAULT_COORDINATION
    try:
        return orgs.create(db.session, orgs.OrganisationData(kind=OrgKind.COORDINATION.value, code=code, name=name),
                           actor=None)
    except orgs.OrganisationRefused as refused:
        fail(f"{refused} (donnez --organisation CODE)")
        raise


@click.group("admin")
def admin_group() -> None:
    """The site's administrators."""


@admin_group.command("create")
@click.argument("username")
@click.option("--password", help="The password (asked twice on the terminal when not given).")
@click.option("--first-name", default="")
@click.option("--last-name", default="")
@click.option("--email")
@click.option("--organisation", "organisation_code",
              help="The coordination organisation (default: the first one; created if there is none).")
@with_appcontext
def admin_create(username: str, password: str | None, first_name: str, last_name: str, email: str | None,
                 organisation_code: str | None) -> None:
    """Create an administrator (the first one after ``ticketnet init``). Exit 1 when the username is taken
    or the password too weak for the site's policy."""
    session = db.session
    try:
        services.check_username(session, username)
        services.check_email(email)
    except services.StaffRefused as refused:
        fail(str(refused))
    chosen = _password(password)
    organisation = _coordination(organisation_code)
    try:
        account = services.create_account(session, username, first_name=first_name, last_name=last_name,
                                          email=email, password=chosen)
        services.grant(session, account, organisation, Role.ADMIN)
    except services.StaffRefused as refused:
        session.rollback()
        fail(str(refused))
        return
    session.commit()
    click.echo(f"Compte administrateur « {account.username} » créé ({organisation.name}). "
               "Connectez-vous sur /login, puis créez les organismes et les comptes du personnel sur /admin.")


@click.group("accounts")
def accounts_group() -> None:
    """Staff accounts: animators, prescribers, assessors, coordinators, administrators."""


@accounts_group.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice([r.value for r in services.STAFF_ROLES]))
@click.option("--organisation", "organisation_code", required=True, help="The organisation's code.")
@click.option("--lead", is_flag=True, help="An EPM's lead animator (adds animators to the EPM).")
@click.option("--password", help="A password; without it, invite the person (ticketnet accounts invite).")
@click.option("--first-name", default="")
@click.option("--last-name", default="")
@click.option("--email")
@with_appcontext
def accounts_create(username: str, role: str, organisation_code: str, lead: bool, password: str | None,
                    first_name: str, last_name: str, email: str | None) -> None:
    """Create a staff account with one role in one organisation."""
    session = db.session
    organisation = orgs.find(session, organisation_code)
    if organisation is None:
        fail(f"aucun organisme n'a le code « {organisation_code} »")
        return
    try:
        account = services.create_account(session, username, first_name=first_name, last_name=last_name,
                                          email=email, password=password)
        services.grant(session, account, organisation, Role(role), lead=lead)
    except services.StaffRefused as refused:
        session.rollback()
        fail(str(refused))
        return
    session.commit()
    click.echo(f"Compte « {account.username} » créé : {services.ROLE_LABELS[role]} à {organisation.name}.")
    if password is None:
        click.echo(f"Pas encore de mot de passe : « ticketnet accounts invite {account.username} » (un lien, "
                   "envoyé par courriel s'il a une adresse) ou « --card FICHIER.pdf » (une carte à imprimer).")


@accounts_group.command("grant")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice([r.value for r in services.STAFF_ROLES]))
@click.option("--organisation", "organisation_code", required=True)
@click.option("--lead", is_flag=True)
@with_appcontext
def accounts_grant(username: str, role: str, organisation_code: str, lead: bool) -> None:
    """Give an existing account a role in one more organisation."""
    session = db.session
    account = find_user(session, username)
    organisation = orgs.find(session, organisation_code)
    if account is None or organisation is None:
        fail(f"aucun compte « {username} »" if account is None else f"aucun organisme « {organisation_code} »")
        return
    try:
        services.grant(session, account, organisation, Role(role), lead=lead)
    except services.StaffRefused as refused:
        session.rollback()
        fail(str(refused))
        return
    session.commit()
    click.echo(f"{account.username} : {services.ROLE_LABELS[role]} à {organisation.name}.")


@accounts_group.command("invite")
@click.argument("username")
@click.option("--email", help="Send the link to this address (default: the account's own, if any).")
@click.option("--card", "card_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a printable access card (PDF) to this file instead of a link.")
@click.option("--show", is_flag=True, help="Print the link instead of sending it by e-mail.")
@with_appcontext
def accounts_invite(username: str, email: str | None, card_path: Path | None, show: bool) -> None:
    """A new way in for a staff account: a one-time link (by e-mail through TICKETNET_SMTP_URL, or printed
    here) or an access card. Older links and cards stop working, and so does the password."""
    session = db.session
    account = find_user(session, username)
    if account is None:
        fail(f"aucun compte « {username} »")
        return
    days = current_app.config["STAFF_INVITATION_DAYS"]
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        try:
            if card_path is not None:
                _card, code = services.new_access_card(session, account, actor=None, days=days)
                card_path.write_bytes(invitations.access_card_pdf(account, code, days))
                session.commit()
                click.echo(f"Carte d'accès de {account.username} écrite dans {card_path} (valable {days} jours).")
                return
            send_to = None if show else (email or account.email)
            invitation, token = services.invite_by_link(session, account, actor=None, days=days, email=send_to)
            link = url_for("staff.accept", token=token, _external=True)
            sent = send_to is not None and invitations.send_invitation(session, invitation, account, link, None)
        except services.StaffRefused as refused:
            session.rollback()
            fail(str(refused))
            return
    session.commit()
    if sent:
        click.echo(f"Invitation envoyée à {send_to} (valable {days} jours).")
    else:
        click.echo(f"Lien d'invitation de {account.username} (valable {days} jours, une seule fois) :\n{link}")


def _set_active(username: str, active: bool) -> None:
    session = db.session
    account = find_user(session, username)
    if account is None:
        fail(f"aucun compte « {username} »")
        return
    try:
        changed = services.set_active(session, account, active, actor=None)
    except services.StaffRefused as refused:
        session.rollback()
        fail(str(refused))
        return
    session.commit()
    state = "actif" if active else "désactivé : ses sessions sont fermées"
    click.echo(f"{account.username} : {state}" + ("" if changed else " (il l'était déjà)"))


@accounts_group.command("deactivate")
@click.argument("username")
@with_appcontext
def accounts_deactivate(username: str) -> None:
    """Deactivate an account: every session of it ends at once; nothing it did is deleted."""
    _set_active(username, False)


@accounts_group.command("reactivate")
@click.argument("username")
@with_appcontext
def accounts_reactivate(username: str) -> None:
    """Make a deactivated account active again (it signs in with its password, or a new invitation)."""
    _set_active(username, True)


@accounts_group.command("list")
@click.option("--organisation", "organisation_code", help="Only the staff of this organisation.")
@click.option("--json", "as_json", is_flag=True, help="A JSON list of objects.")
@with_appcontext
def accounts_list(organisation_code: str | None, as_json: bool) -> None:
    """The staff accounts, with their roles and how they sign in."""
    session = db.session
    organisation_id = None
    if organisation_code:
        organisation = orgs.find(session, organisation_code)
        if organisation is None:
            fail(f"aucun organisme n'a le code « {organisation_code} »")
            return
        organisation_id = organisation.id
    rows = services.with_states(session, services.staff_accounts(session, None, organisation_id=organisation_id,
                                                                 limit=100_000))
    described = [services.describe(row) for row in rows]
    if as_json:
        click.echo(json.dumps(described, ensure_ascii=False, indent=2))
        return
    if not described:
        click.echo("Aucun compte du personnel.")
    for item in described:
        roles = ", ".join(f"{r['role']}@{r['organisation']}" + ("(référent)" if r["lead"] else "")
                          for r in item["roles"])
        click.echo(f"{item['username']:<24} {'actif' if item['active'] else 'désactivé':<10} {item['sign_in']:<11} "
                   f"{item['name']:<28} {roles}")


commands = [admin_group, accounts_group]
