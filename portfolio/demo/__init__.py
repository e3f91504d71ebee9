"""Demo data: the organisations of the scheme and one account per role (``ticketnet demo``).

Running it again on a database that already holds the demo data changes nothing. Passwords are
derived from the instance's secret key unless one is given, so that they are stable from one run to
the next on the same machine, and unguessable from outside it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portfolio.auth import services as account_services
from portfolio.auth.models import Role, User
from portfolio.auth.passwords import hash_password, verify_password
from portfolio.catalogue.models import Module
from portfolio.orgs.models import Organisation, OrganisationCertification, OrgKind

# A short list of plain French words (no accents) for memorable demo passphrases.
WORDS = (
    "abeille balcon cerise colline dauphin etoile falaise figue grenier hirondelle jardin lavande "
    "marche moulin noisette olivier pigeon prairie quercy riviere sapin source tilleul truffe vallee "
    "verger village causse lot noyer"
).split()


@dataclass(frozen=True)
class OrgSpec:
    code: str
    kind: OrgKind
    name: str
    address: str
    postcode: str
    city: str
    phone: str = ""
    capacity: int | None = None
    opening_slots: str = ""
    modules: tuple[int, ...] = ()
    insee_code: str = ""
    certifications: tuple[str, ...] = ()


ORGANISATIONS: tuple[OrgSpec, ...] = (
    OrgSpec("coordination", OrgKind.COORDINATION, "Coordination Ticket Net (Bibliothèque départementale du Lot)",
            "Avenue Henri Martin", "46000", "Cahors", "05 65 00 00 01"),
    OrgSpec("epm-cahors", OrgKind.EPM, "EPM de Cahors – Médiathèque", "185 avenue Jean Jaurès", "46000", "Cahors",
            "05 65 00 00 10", capacity=6, opening_slots="mardi matin, jeudi soir, samedi matin",
            modules=(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 18), insee_code="46042"),
    OrgSpec("epm-figeac", OrgKind.EPM, "EPM de Figeac – Espace numérique", "2 boulevard Pasteur", "46100", "Figeac",
            "05 65 00 00 20", capacity=8, opening_slots="lundi soir, mercredi matin, samedi matin",
            modules=(1, 2, 3, 4, 5, 7, 9, 13, 14, 15, 16, 17), insee_code="46102"),
    OrgSpec("epm-gourdon", OrgKind.EPM, "EPM de Gourdon – Cyber-base", "Place de la Mairie", "46300", "Gourdon",
            "05 65 00 00 30", capacity=5, opening_slots="mardi soir, vendredi matin",
            modules=(1, 2, 3, 4, 5, 6, 7, 10, 18, 19, 20), insee_code="46127"),
    OrgSpec("cg46", OrgKind.PRESCRIBER, "Conseil Général du Lot", "Avenue de l'Europe", "46000", "Cahors",
            "05 65 00 00 40"),
    OrgSpec("caf46", OrgKind.PRESCRIBER, "Caisse d'Allocations Familiales du Lot", "304 rue Victor Hugo", "46000",
            "Cahors", "05 65 00 00 50"),
    OrgSpec("greta-quercy-rouergue", OrgKind.TRAINING_BODY, "GRETA Quercy-Rouergue", "Rue des Augustins",
            "46000", "Cahors", "05 65 00 00 60", certifications=("b2i-adultes-2010",)),
    OrgSpec("aformac-midi-pyrenees", OrgKind.TRAINING_BODY, "AFORMAC Midi-Pyrénées", "Avenue de la Gare",
            "46100", "Figeac", "05 65 00 00 70"),
)


@dataclass(frozen=True)
class AccountSpec:
    role: Role
    username: str
    first_name: str
    last_name: str
    organisation: str
    lead: bool = False  # an EPM's lead animator, who adds animators to it


ACCOUNTS: tuple[AccountSpec, ...] = (
    AccountSpec(Role.BENEFICIARY, "marie.dupont", "Marie", "Dupont", "epm-cahors"),
    AccountSpec(Role.ANIMATOR, "animateur.cahors", "Julien", "Martin", "epm-cahors", lead=True),
    AccountSpec(Role.PRESCRIBER, "prescripteur.cg46", "Sophie", "Bernard", "cg46"),
    AccountSpec(Role.ASSESSOR, "evaluateur.greta", "Nadia", "Roussel", "greta-quercy-rouergue"),
    AccountSpec(Role.COORDINATOR, "coordination", "Pierre", "Lacombe", "coordination"),
    AccountSpec(Role.ADMIN, "admin", "Claire", "Vidal", "coordination"),
)


@dataclass(frozen=True)
class DemoAccount:
    role: str
    username: str
    password: str | None  # None: the account exists with a password this run does not know
    organisation: str

    def as_dict(self) -> dict[str, str | None]:
        return {"role": self.role, "username": self.username, "password": self.password,
                "organisation": self.organisation}


def default_password(secret_key: str, username: str) -> str:
    digest = hmac.new(secret_key.encode(), f"demo:{username}".encode(), hashlib.sha256).digest()
    words = [WORDS[b % len(WORDS)] for b in digest[:3]]
    return "-".join(words) + f"-{int.from_bytes(digest[3:5], 'big') % 90 + 10}"


def demo_present(session: Session) -> bool:
    return session.scalar(sa.select(sa.func.count(User.id)).where(User.username == ACCOUNTS[0].username)) == 1


def ensure_organisations(session: Session) -> dict[str, Organisation]:
    existing = {o.code: o for o in session.scalars(sa.select(Organisation))}
    modules = {m.number: m for m in session.scalars(sa.select(Module))}
    for spec in ORGANISATIONS:
        if spec.code in existing:
            continue
        org = Organisation(
            code=spec.code, kind=spec.kind.value, name=spec.name, address=spec.address, postcode=spec.postcode,
            city=spec.city, phone=spec.phone, capacity=spec.capacity, opening_slots=spec.opening_slots,
            insee_code=spec.insee_code,
        )
        org.modules = [modules[n] for n in spec.modules if n in modules]
        org.certification_rows = [OrganisationCertification(framework_code=code) for code in spec.certifications]
        session.add(org)
        existing[spec.code] = org
    session.flush()
    return existing


def create_demo(
    session: Session, secret_key: str, password: str | None = None, today: dt.date | None = None
) -> list[DemoAccount]:
    """Create the demo organisations, accounts and stories if they are not there yet; list the accounts."""
    from portfolio.db import utcnow
    from portfolio.demo import stories
    from portfolio.demo.competences import create_competence_stories
    from portfolio.demo.credentials import create_credential_stories
    from portfolio.demo.sharing import create_sharing_stories
    from portfolio.timeutil import local_today

    created = not demo_present(session)
    organisations = ensure_organisations(session)
    accounts: list[DemoAccount] = []
    users: dict[str, User] = {}
    for spec in ACCOUNTS:
        wanted = password or default_password(secret_key, spec.username)
        user = account_services.find_user(session, spec.username)
        if user is None:
            user = account_services.create_user(session, spec.username, password_hash=hash_password(wanted),
                                        first_name=spec.first_name, last_name=spec.last_name)
            account_services.add_membership(session, user, organisations[spec.organisation], spec.role).lead = spec.lead
            known: str | None = wanted
        else:
            known = wanted if verify_password(user.password_hash, wanted) else None
        users[spec.username] = user
        accounts.append(DemoAccount(spec.role.value, spec.username, known, spec.organisation))
    session.flush()
    if created:
        stories.create_stories(session, organisations, users, today=today)
        create_competence_stories(session, organisations, users, today or local_today())
        create_sharing_stories(session, organisations, users, utcnow())
        create_credential_stories(session, utcnow())
    return accounts
