"""Organisations: the rules of creating, editing, deactivating and describing them, shared by the admin
pages and ``ticketnet orgs``. An organisation is never deleted (tickets, judgements and the audit log
name it): it is deactivated, which takes it out of the choices offered for new work.

Every change writes an audit event in the same transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from competences.models import Framework
from portfolio.audit import services as audit
from portfolio.auth.models import Membership, Role, User
from portfolio.catalogue.models import Module
from portfolio.orgs.models import Organisation, OrganisationCertification, OrgKind

KIND_LABELS = {
    OrgKind.EPM.value: _l("EPM"),
    OrgKind.PRESCRIBER.value: _l("Prescripteur"),
    OrgKind.TRAINING_BODY.value: _l("Organisme de formation"),
    OrgKind.COORDINATION.value: _l("Coordination"),
}

CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,59}$")
POSTCODE = re.compile(r"^\d{5}$")
# The official geographic code of a commune (as the "lieux de médiation numérique" schema states it).
INSEE = re.compile(r"^([013-9]\d|2[AB1-9])\d{3}$")
SIRET = re.compile(r"^\d{14}$")
PHONE = re.compile(r"^[0-9 +().-]+$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_CAPACITY = 99
# La Poste's establishments may break the Luhn rule: their digits add up to a multiple of 5 instead.
LA_POSTE_SIREN = "356000000"


class OrganisationRefused(ValueError):
    """The organisation cannot be saved as asked; the message says why, in French."""

    def __init__(self, message: object, field: str = "") -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message)


@dataclass
class OrganisationData:
    """What a person types about an organisation (the form, or the command's options)."""

    kind: str
    code: str
    name: str
    address: str = ""
    postcode: str = ""
    city: str = ""
    insee_code: str = ""
    siret: str = ""
    phone: str = ""
    email: str = ""
    opening_slots: str = ""
    capacity: int | None = None
    lieu_id: str = ""
    modules: list[int] = field(default_factory=list)  # module numbers, for an EPM
    certifications: list[str] = field(default_factory=list)  # framework codes, for a training body

    @classmethod
    def of(cls, org: Organisation) -> OrganisationData:
        return cls(kind=org.kind, code=org.code, name=org.name, address=org.address, postcode=org.postcode,
                   city=org.city, insee_code=org.insee_code, siret=org.siret, phone=org.phone, email=org.email,
                   opening_slots=org.opening_slots, capacity=org.capacity, lieu_id=org.lieu_id,
                   modules=[m.number for m in org.modules if m.retired_at is None],
                   certifications=list(org.certifications))


def siret_is_valid(siret: str) -> bool:
    """14 digits with a right Luhn key (La Poste's establishments: digits adding up to a multiple of 5)."""
    if not SIRET.match(siret):
        return False
    total = 0
    for position, digit in enumerate(reversed(siret)):
        value = int(digit) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    if total % 10 == 0:
        return True
    return siret.startswith(LA_POSTE_SIREN) and sum(int(d) for d in siret) % 5 == 0


def normalise_code(code: str) -> str:
    return (code or "").strip().lower()


def certification_choices(session: Session) -> list[tuple[str, str]]:
    """The certifications a training body may be allowed to decide: the frameworks loaded (code, title)."""
    rows = session.execute(sa.select(Framework.code, Framework.title).order_by(Framework.code, Framework.id)).all()
    return list({code: title for code, title in rows}.items())


def _clean(data: OrganisationData) -> OrganisationData:
    digits = re.sub(r"\s", "", data.siret or "")
    return OrganisationData(
        kind=data.kind, code=normalise_code(data.code), name=(data.name or "").strip(),
        address=(data.address or "").strip(), postcode=(data.postcode or "").strip(), city=(data.city or "").strip(),
        insee_code=(data.insee_code or "").strip().upper(), siret=digits, phone=(data.phone or "").strip(),
        email=(data.email or "").strip(), opening_slots=(data.opening_slots or "").strip(), capacity=data.capacity,
        lieu_id=(data.lieu_id or "").strip(), modules=sorted(set(data.modules or [])),
        certifications=sorted(set(data.certifications or [])),
    )


def check(session: Session, data: OrganisationData) -> OrganisationData:
    """The cleaned data, or ``OrganisationRefused`` naming the first problem (and its field)."""
    data = _clean(data)
    if data.kind not in KIND_LABELS:
        raise OrganisationRefused(_l("Type d'organisme inconnu : %(kind)s (epm, prescriber, training_body ou "
                                     "coordination).", kind=data.kind), "kind")
    if not CODE.match(data.code):
        raise OrganisationRefused(_l("Le code s'écrit en minuscules, chiffres et tirets, de 2 à 60 caractères "
                                     "(par exemple epm-figeac)."), "code")
    if not data.name or len(data.name) > 200:
        raise OrganisationRefused(_l("Écrivez le nom de l'organisme (200 caractères au plus)."), "name")
    for value, limit, name in ((data.address, 300, "address"), (data.city, 100, "city"),
                               (data.lieu_id, 100, "lieu_id"), (data.opening_slots, 2000, "opening_slots")):
        if len(value) > limit:
            raise OrganisationRefused(_l("Ce champ est trop long (%(max)s caractères au plus).", max=limit), name)
    if data.postcode and not POSTCODE.match(data.postcode):
        raise OrganisationRefused(_l("Le code postal s'écrit avec 5 chiffres (par exemple 46100)."), "postcode")
    if data.insee_code and not INSEE.match(data.insee_code):
        raise OrganisationRefused(_l("Le code INSEE de la commune s'écrit avec 5 caractères (par exemple 46102 "
                                     "pour Figeac) : ce n'est pas toujours le code postal."), "insee_code")
    if data.siret and not siret_is_valid(data.siret):
        raise OrganisationRefused(_l("Ce numéro SIRET n'est pas valable : il a 14 chiffres, et le dernier est une "
                                     "clé de contrôle. Vérifiez-le sur l'avis de situation SIRENE."), "siret")
    if data.phone and (len(data.phone) > 30 or not PHONE.match(data.phone)):
        raise OrganisationRefused(_l("Écrivez le numéro de téléphone avec des chiffres (par exemple 05 65 34 24 78)."),
                                  "phone")
    if data.email and (len(data.email) > 200 or not EMAIL.match(data.email)):
        raise OrganisationRefused(_l("Cette adresse électronique n'est pas complète."), "email")
    epm = data.kind == OrgKind.EPM.value
    if epm and (data.capacity is None or not 1 <= data.capacity <= MAX_CAPACITY):
        raise OrganisationRefused(_l("Écrivez le nombre de postes de l'EPM, de 1 à %(max)s.", max=MAX_CAPACITY),
                                  "capacity")
    if not epm and (data.capacity is not None or data.modules or data.lieu_id):
        raise OrganisationRefused(_l("Les postes, les modules et l'identifiant de lieu de médiation numérique "
                                     "concernent seulement un EPM."), "kind")
    if data.modules:
        known = set(session.scalars(sa.select(Module.number).where(
            Module.number.in_(data.modules), Module.retired_at.is_(None))))
        unknown = [n for n in data.modules if n not in known]
        if unknown:
            raise OrganisationRefused(_l("Module inconnu ou retiré du catalogue : %(numbers)s.",
                                         numbers=", ".join(map(str, unknown))), "modules")
    if data.certifications:
        if data.kind != OrgKind.TRAINING_BODY.value:
            raise OrganisationRefused(_l("Seul un organisme de formation décide de certifications."), "certifications")
        known_codes = {code for code, _title in certification_choices(session)}
        unknown_codes = [c for c in data.certifications if c not in known_codes]
        if unknown_codes:
            raise OrganisationRefused(_l("Certification inconnue : %(codes)s (les référentiels chargés : %(known)s).",
                                         codes=", ".join(unknown_codes), known=", ".join(sorted(known_codes))),
                                      "certifications")
    return data


def _code_taken(session: Session, code: str) -> OrganisationRefused:
    existing = session.scalar(sa.select(Organisation.name).where(Organisation.code == code))
    return OrganisationRefused(_l("Le code « %(code)s » est déjà pris (par « %(name)s ») : choisissez-en un autre.",
                                  code=code, name=existing or code), "code")


def _apply(session: Session, org: Organisation, data: OrganisationData) -> None:
    for name in ("kind", "code", "name", "address", "postcode", "city", "insee_code", "siret", "phone", "email",
                 "opening_slots", "capacity", "lieu_id"):
        setattr(org, name, getattr(data, name))
    org.modules = list(session.scalars(sa.select(Module).where(Module.number.in_(data.modules)).order_by(
        Module.number))) if data.modules else []
    org.certification_rows = [OrganisationCertification(framework_code=code) for code in data.certifications]


def _visible(data: OrganisationData) -> dict[str, Any]:
    return {k: v for k, v in vars(data).items() if v not in ("", None, [])}


def create(session: Session, data: OrganisationData, actor: User | None, ip: str = "") -> Organisation:
    """A new organisation. A code already taken (twice the same form, two people at once) is refused with
    a French message, by the check and then by the unique constraint."""
    data = check(session, data)
    if session.scalar(sa.select(sa.func.count(Organisation.id)).where(Organisation.code == data.code)):
        raise _code_taken(session, data.code)
    org = Organisation(kind=data.kind, code=data.code, name=data.name)
    _apply(session, org, data)
    try:
        with session.begin_nested():
            session.add(org)
            session.flush()
    except IntegrityError:
        raise _code_taken(session, data.code) from None
    audit.record(session, "org.created", actor=actor, organisation=org, target_type="organisation", target_id=org.id,
                 details={**_visible(data), "via": "web" if actor else "cli"}, ip=ip)
    return org


def update(session: Session, org: Organisation, data: OrganisationData, actor: User | None, seen_version: int,
           ip: str = "") -> Organisation:
    """Save an edit made on version ``seen_version``; refused if someone saved a newer one meanwhile."""
    data = check(session, data)
    if data.kind != org.kind:
        raise OrganisationRefused(_l("Le type d'un organisme ne change pas : créez-en un autre."), "kind")
    current = session.scalar(sa.select(Organisation.version).where(Organisation.id == org.id).with_for_update())
    if seen_version != current:
        raise OrganisationRefused(_l("Quelqu'un a modifié cet organisme pendant que vous le modifiiez : voici sa "
                                     "version actuelle. Refaites vos changements."), "version")
    if data.code != org.code and session.scalar(sa.select(sa.func.count(Organisation.id)).where(
            Organisation.code == data.code)):
        raise _code_taken(session, data.code)
    before = _visible(OrganisationData.of(org))
    _apply(session, org, data)
    after = _visible(data)
    changed = {k: [before.get(k), after.get(k)] for k in sorted(set(before) | set(after))
               if before.get(k) != after.get(k)}
    if not changed:
        return org
    org.version += 1
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise _code_taken(session, data.code) from None
    audit.record(session, "org.updated", actor=actor, organisation=org, target_type="organisation",
                 target_id=org.id, details={"changed": changed, "via": "web" if actor else "cli"}, ip=ip)
    return org


def set_active(session: Session, org: Organisation, active: bool, actor: User | None, ip: str = "") -> bool:
    """Deactivate (or reactivate) an organisation; False when it already was. A deactivated organisation
    is kept with everything that names it, and offered for no new work."""
    if org.active == active:
        return False
    org.active = active
    org.version += 1
    session.flush()
    audit.record(session, "org.reactivated" if active else "org.deactivated", actor=actor, organisation=org,
                 target_type="organisation", target_id=org.id, details={"via": "web" if actor else "cli"}, ip=ip)
    return True


def find(session: Session, code: str) -> Organisation | None:
    return session.scalar(sa.select(Organisation).where(Organisation.code == normalise_code(code)))


def load(session: Session, org_id: int) -> Organisation | None:
    """An organisation with its offer and certifications (three queries)."""
    return session.scalar(sa.select(Organisation).where(Organisation.id == org_id).options(
        selectinload(Organisation.modules), selectinload(Organisation.certification_rows)))


@dataclass(frozen=True)
class OrganisationRow:
    organisation: Organisation
    staff: int
    learners: int
    modules: int


def listing(session: Session, kind: str | None = None) -> list[OrganisationRow]:
    """Every organisation (of one kind) with its numbers of staff, learners and modules offered (two queries)."""
    from portfolio.orgs.models import epm_module_offer

    learners = sa.func.count(sa.distinct(sa.case((Membership.role == Role.BENEFICIARY.value, Membership.user_id))))
    staff = sa.func.count(sa.distinct(sa.case((Membership.role != Role.BENEFICIARY.value, Membership.user_id))))
    statement = (sa.select(Organisation, staff, learners)
                 .outerjoin(Membership, Membership.organisation_id == Organisation.id)
                 .group_by(Organisation.id).order_by(Organisation.kind, Organisation.name))
    if kind:
        statement = statement.where(Organisation.kind == kind)
    rows = session.execute(statement).all()
    offers = dict(session.execute(sa.select(epm_module_offer.c.organisation_id, sa.func.count())
                                  .group_by(epm_module_offer.c.organisation_id)).all())
    return [OrganisationRow(org, int(s or 0), int(learner or 0), int(offers.get(org.id, 0)))
            for org, s, learner in rows]


def staff_of(session: Session, org_id: int) -> list[Membership]:
    """The staff memberships of an organisation, with their people (one query); learners are only counted."""
    from sqlalchemy.orm import contains_eager

    return list(session.scalars(
        sa.select(Membership).join(User, User.id == Membership.user_id)
        .options(contains_eager(Membership.user).lazyload(User.memberships))
        .where(Membership.organisation_id == org_id, Membership.role != Role.BENEFICIARY.value)
        .order_by(User.last_name, User.first_name, User.id, Membership.role)))


def describe(org: Organisation) -> dict[str, Any]:
    """An organisation as ``ticketnet orgs show --json`` and ``list --json`` print it."""
    return {
        "code": org.code, "kind": org.kind, "name": org.name, "active": org.active, "address": org.address,
        "postcode": org.postcode, "city": org.city, "insee_code": org.insee_code, "siret": org.siret,
        "phone": org.phone, "email": org.email, "opening_hours": org.opening_slots, "capacity": org.capacity,
        "lieu_id": org.lieu_id, "modules": [m.number for m in org.modules], "certifications": org.certifications,
    }


def load_many(session: Session, ids: list[int]) -> list[Organisation]:
    """Organisations with their offers and certifications (three queries, whatever their number)."""
    if not ids:
        return []
    return list(session.scalars(sa.select(Organisation).where(Organisation.id.in_(ids)).options(
        selectinload(Organisation.modules), selectinload(Organisation.certification_rows))))
