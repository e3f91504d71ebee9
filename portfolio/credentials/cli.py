"""``ticketnet credentials list|export|revoke|sign-pending`` and ``ticketnet credentials keys ...``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from portfolio.extensions import db


@click.group("credentials")
def credentials_group() -> None:
    """Open Badges 3.0 credentials (badges) and their issuers' keys."""


def _row(credential: object, username: str | None) -> dict[str, object]:
    from portfolio.credentials.models import Credential

    assert isinstance(credential, Credential)
    return {"id": credential.id, "public_id": credential.public_id, "username": username, "kind": credential.kind,
            "status": credential.status, "title": credential.title, "issuer": credential.organisation.code,
            "awarded_at": credential.awarded_at.isoformat(),
            "issued_at": credential.issued_at.isoformat() if credential.issued_at else None,
            "revoked_at": credential.revoked_at.isoformat() if credential.revoked_at else None,
            "revocation_reason": credential.revocation_reason}


@credentials_group.command("list")
@click.argument("username", required=False)
@click.option("--json", "as_json", is_flag=True, help="A JSON list of objects (id, username, kind, status...).")
@with_appcontext
def list_credentials(username: str | None, as_json: bool) -> None:
    """Every credential, or those of USERNAME."""
    from portfolio.cli import fail
    from portfolio.credentials import services

    if username is not None:
        from portfolio.auth.models import User

        if db.session.scalar(sa.select(User.id).where(User.username == username)) is None:
            fail(f"compte inconnu : {username}")
            return
    rows = [_row(c, name) for c, name in services.listing(db.session, username)]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(f"{row['id']:>5}  {row['status']:<8} {row['kind']:<14} {row['username'] or '—':<24} "
                   f"{row['issuer']:<24} {row['title']}")


def _credential(credential_id: int) -> object:
    from sqlalchemy.orm import joinedload

    from portfolio.cli import fail
    from portfolio.credentials.models import Credential

    found = db.session.scalar(sa.select(Credential).where(Credential.id == credential_id)
                              .options(joinedload(Credential.organisation)))
    if found is None:
        fail(f"badge inconnu : {credential_id}")
    return found


@credentials_group.command("export")
@click.argument("credential_id", type=int)
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="The file to write.")
@click.option("--format", "fmt", type=click.Choice(["json", "png", "svg"]), default=None,
              help="json (the default), or a baked png / svg image; guessed from the file's extension.")
@with_appcontext
def export_credential(credential_id: int, output: Path, fmt: str | None) -> None:
    """The signed credential ID, as JSON or baked into a PNG / SVG image."""
    from portfolio.cli import fail
    from portfolio.credentials.models import Credential
    from portfolio.credentials.services import baked

    credential = _credential(credential_id)
    assert isinstance(credential, Credential)
    if credential.document is None:
        fail(f"le badge {credential_id} n'est pas signé (sa clé manque, ou le compte a été supprimé)")
        return
    fmt = fmt or (output.suffix.lstrip(".").lower() if output.suffix.lower() in (".png", ".svg") else "json")
    body, _mimetype = baked(credential, fmt)
    if isinstance(body, str):
        output.write_text(body, encoding="utf-8")
    else:
        output.write_bytes(body)
    click.echo(f"{output} : badge {credential_id} ({fmt})")


@credentials_group.command("revoke")
@click.argument("credential_id", type=int)
@click.option("--reason", type=click.Choice(["issuer", "decision_withdrawn", "ticket_fraud"]), default="issuer",
              show_default=True)
@with_appcontext
def revoke_credential(credential_id: int, reason: str) -> None:
    """Revoke the credential ID: its bit is set in its issuer's status list."""
    from portfolio.credentials import services
    from portfolio.credentials.models import Credential, RevocationReason
    from portfolio.db import utcnow

    credential = _credential(credential_id)
    assert isinstance(credential, Credential)
    if services.revoke(db.session, credential, RevocationReason(reason), utcnow()):
        db.session.commit()
        click.echo(f"badge {credential_id} révoqué")
    else:
        click.echo(f"badge {credential_id} déjà révoqué")


@credentials_group.command("sign-pending")
@with_appcontext
def sign_pending() -> None:
    """Sign the credentials that waited for their issuer's key."""
    from portfolio.credentials import services
    from portfolio.db import utcnow

    count = services.sign_pending(db.session, services.Site.current(), utcnow())
    db.session.commit()
    click.echo(f"{count} badge(s) signé(s)")


@credentials_group.group("keys")
def keys_group() -> None:
    """The issuers' Ed25519 keys."""


def _organisation(code: str) -> object:
    from portfolio.cli import fail
    from portfolio.orgs.models import Organisation

    found = db.session.scalar(sa.select(Organisation).where(Organisation.code == code))
    if found is None:
        fail(f"organisme inconnu : {code}")
    return found


@keys_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def list_keys(as_json: bool) -> None:
    """Every issuer key: organisation, public key, current or retired, and whether this process holds it."""
    from flask import current_app

    from portfolio.credentials import keys as keystore
    from portfolio.credentials.models import IssuerKey
    from portfolio.orgs.models import Organisation

    held = keystore.private_keys(current_app.config)
    rows = [{"organisation": code, "public_key": k.public_key, "created_at": k.created_at.isoformat(),
             "retired_at": k.retired_at.isoformat() if k.retired_at else None, "private_key_here": k.public_key in held}
            for k, code in db.session.execute(sa.select(IssuerKey, Organisation.code).join(
                Organisation, Organisation.id == IssuerKey.organisation_id).order_by(Organisation.code, IssuerKey.id))]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        state = "retirée " + str(row["retired_at"])[:10] if row["retired_at"] else "actuelle"
        here = "" if row["private_key_here"] else "  (clé privée absente ici)"
        click.echo(f"{row['organisation']:<26} {row['public_key']}  {state}{here}")


@keys_group.command("generate")
@click.argument("code")
@with_appcontext
def generate_key(code: str) -> None:
    """A new key for the organisation CODE, written into the key folder; the previous one (if any) is retired but
    stays listed, so that what it signed stays valid. Pending credentials of the organisation are then signed."""
    from portfolio.cli import fail
    from portfolio.credentials import keys as keystore
    from portfolio.credentials import services
    from portfolio.db import utcnow
    from portfolio.orgs.models import Organisation

    organisation = _organisation(code)
    assert isinstance(organisation, Organisation)
    site = services.Site.current()
    try:
        key, path = services.generate_key(db.session, site, organisation, utcnow())
    except keystore.KeyUnavailable as exc:
        fail(str(exc))
        return
    signed = services.sign_pending(db.session, site, utcnow(), organisation.id)
    db.session.commit()
    click.echo(f"{code} : nouvelle clé {key.public_key} ({path}) ; {signed} badge(s) en attente signé(s)")


@keys_group.command("register")
@click.argument("code")
@click.option("--file", "key_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A PEM (PKCS#8) Ed25519 private key; otherwise the TICKETNET_CREDENTIAL_KEY_<CODE> variable.")
@with_appcontext
def register_key(code: str, key_file: Path | None) -> None:
    """Make a key given by file or by environment the organisation's current key (a rotation if it had one). The
    private key itself stays where it is: put the file in the key folder, or keep the variable set."""
    from portfolio.cli import fail
    from portfolio.credentials import keys as keystore
    from portfolio.credentials import proofs, services
    from portfolio.db import utcnow
    from portfolio.orgs.models import Organisation

    organisation = _organisation(code)
    assert isinstance(organisation, Organisation)
    text = key_file.read_text() if key_file is not None else os.environ.get(keystore.env_name(code), "")
    if not text.strip():
        fail(f"donnez --file ou la variable {keystore.env_name(code)}")
        return
    try:
        private = proofs.private_key_from_text(text)
        key = services.register_key(db.session, organisation, proofs.public_multibase(private.public_key()), utcnow())
    except (proofs.KeyProblem, services.CredentialError) as exc:
        fail(f"clé refusée : {exc}")
        return
    signed = services.sign_pending(db.session, services.Site.current(), utcnow(), organisation.id)
    db.session.commit()
    click.echo(f"{code} : clé {key.public_key} enregistrée ; {signed} badge(s) en attente signé(s)")


commands = [credentials_group]
