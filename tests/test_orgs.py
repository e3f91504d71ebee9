"""Organisations: the rules of their fields, creating, editing (never over a newer version), deactivating, the
admin pages and their query counts, and ``ticketnet orgs``."""

from __future__ import annotations

import html
import json
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from portfolio.audit.models import AuditEvent
from portfolio.auth.models import Role
from portfolio.catalogue.models import Module
from portfolio.orgs import services
from portfolio.orgs.models import Organisation, OrgKind
from portfolio.orgs.services import OrganisationData, OrganisationRefused
from tests import factories

FIGEAC_SIRET = "21460102400018"  # a right Luhn key


def figeac(**changes: Any) -> OrganisationData:
    values: dict[str, Any] = {
        "kind": "epm", "code": "epm-figeac", "name": "EPM de Figeac – Espace numérique",
        "address": "2 boulevard Pasteur", "postcode": "46100", "city": "Figeac", "insee_code": "46102",
        "siret": FIGEAC_SIRET, "phone": "05 65 34 24 78", "opening_slots": "mardi 9 h – 12 h", "capacity": 8,
        "lieu_id": "lieu-46102-001", "modules": list(range(1, 13)),
    }
    values.update(changes)
    return OrganisationData(**values)


@pytest.mark.parametrize(("siret", "valid"), [
    (FIGEAC_SIRET, True), ("21460102400019", False),  # the key one off
    ("2146010240001", False), ("214601024000180", False),  # 13 and 15 digits
    ("35600000000048", True),  # La Poste's head office: a right Luhn key
    ("35600000000047", True), ("35600000000049", False),  # its establishments: digits adding up to a multiple of 5
    ("73282932000074", True),
])
def test_siret_key(siret: str, valid: bool) -> None:
    assert services.siret_is_valid(siret) is valid


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"code": "EPM Figeac"}, "code", "minuscules"), ({"code": "e"}, "code", "minuscules"),
    ({"name": ""}, "name", "nom"), ({"postcode": "4610"}, "postcode", "5 chiffres"),
    ({"insee_code": "46 102"}, "insee_code", "INSEE"), ({"insee_code": "20102"}, "insee_code", "INSEE"),
    ({"siret": "21460102400019"}, "siret", "SIRET"), ({"phone": "cinq"}, "phone", "téléphone"),
    ({"email": "epm@figeac"}, "email", "adresse"), ({"capacity": 0}, "capacity", "postes"),
    ({"capacity": 100}, "capacity", "postes"), ({"capacity": None}, "capacity", "postes"),
    ({"modules": [1, 99]}, "modules", "99"), ({"certifications": ["b2i-adultes-2010"]}, "certifications", "formation"),
    ({"kind": "prescriber"}, "kind", "seulement un EPM"),
])
def test_what_is_refused(db_session: Session, changes: dict[str, Any], field: str, words: str,
                         app_context: None) -> None:
    with pytest.raises(OrganisationRefused, match=words) as refused:
        services.create(db_session, figeac(**changes), actor=None)
    assert refused.value.field == field
    assert services.find(db_session, "epm-figeac") is None


@pytest.mark.parametrize("changes", [{"capacity": 1}, {"capacity": 99}, {"insee_code": "2A004"},
                                     {"insee_code": "", "siret": "", "phone": ""}, {"siret": "2146 0102 4000 18"}])
def test_what_is_accepted(db_session: Session, changes: dict[str, Any], app_context: None) -> None:
    org = services.create(db_session, figeac(**changes), actor=None)
    assert org.siret in ("", FIGEAC_SIRET) and org.capacity == changes.get("capacity", 8)


def test_create_an_epm_offering_twelve_modules(db_session: Session, app_context: None) -> None:
    admin = factories.user(db_session, Role.ADMIN)
    org = services.create(db_session, figeac(code=" EPM-Figeac "), actor=admin, ip="192.0.2.4")
    loaded = services.load(db_session, org.id)
    assert [m.number for m in loaded.modules] == list(range(1, 13))
    assert services.describe(loaded) == {
        "code": "epm-figeac", "kind": "epm", "name": "EPM de Figeac – Espace numérique", "active": True,
        "address": "2 boulevard Pasteur", "postcode": "46100", "city": "Figeac", "insee_code": "46102",
        "siret": FIGEAC_SIRET, "phone": "05 65 34 24 78", "email": "", "opening_hours": "mardi 9 h – 12 h",
        "capacity": 8, "lieu_id": "lieu-46102-001", "modules": list(range(1, 13)), "certifications": []}
    event = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "org.created")).one()
    assert (event.actor_id, event.organisation_id, event.ip) == (admin.id, org.id, "192.0.2.4")
    # The same form twice, or two people at once: a clear message, one organisation.
    with pytest.raises(OrganisationRefused, match="déjà pris"):
        services.create(db_session, figeac(name="Autre"), actor=admin)
    assert db_session.scalar(sa.select(sa.func.count(Organisation.id)).where(Organisation.code == "epm-figeac")) == 1


def test_a_training_body_decides_some_certifications(db_session: Session, app_context: None) -> None:
    body = services.create(db_session, OrganisationData(kind="training_body", code="greta", name="GRETA",
                                                        certifications=["b2i-adultes-2010"]), actor=None)
    assert services.load(db_session, body.id).certifications == ["b2i-adultes-2010"]
    with pytest.raises(OrganisationRefused, match="Certification inconnue : c2i-niveau-1"):
        services.create(db_session, OrganisationData(kind="training_body", code="aformac", name="AFORMAC",
                                                     certifications=["c2i-niveau-1"]), actor=None)


def test_an_edit_never_overwrites_a_newer_one(db_session: Session, app_context: None) -> None:
    org = services.load(db_session, services.create(db_session, figeac(), actor=None).id)
    seen = org.version
    services.update(db_session, org, figeac(phone="05 65 00 00 01"), actor=None, seen_version=seen)
    assert org.version == seen + 1
    with pytest.raises(OrganisationRefused, match="pendant que vous le modifiiez"):
        services.update(db_session, org, figeac(phone="05 65 00 00 02"), actor=None, seen_version=seen)
    assert org.phone == "05 65 00 00 01"
    with pytest.raises(OrganisationRefused, match="type"):
        services.update(db_session, org, figeac(kind="prescriber", capacity=None, modules=[], lieu_id=""),
                        actor=None, seen_version=org.version)
    changed = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "org.updated")).one()
    assert changed.details["changed"] == {"phone": ["05 65 34 24 78", "05 65 00 00 01"]}


def test_a_retired_module_leaves_the_offer(db_session: Session, app_context: None) -> None:
    from portfolio.enrolment.services import offered_modules

    org = services.create(db_session, figeac(), actor=None)
    module = db_session.scalars(sa.select(Module).where(Module.number == 3)).one()
    from portfolio.catalogue import settings

    settings.set_retired(db_session, module, True, None)
    assert 3 not in [m.number for m in offered_modules(db_session, org.id)]
    assert len(offered_modules(db_session, org.id)) == 11
    with pytest.raises(OrganisationRefused, match="retiré"):
        services.create(db_session, figeac(code="epm-autre", modules=[3]), actor=None)


# --- Pages --------------------------------------------------------------------------------------------


def epm_form(db_session: Session, **changes: Any) -> dict[str, Any]:
    ids = list(db_session.scalars(sa.select(Module.id).where(Module.number.in_(range(1, 13)))))
    data = {"name": "EPM de Gourdon", "code": "epm-gourdon", "address": "Place de la Mairie", "postcode": "46300",
            "city": "Gourdon", "insee_code": "46127", "siret": "", "phone": "05 65 41 00 00",
            "opening_slots": "mardi soir", "capacity": "6", "lieu_id": "", "modules": ids}
    data.update(changes)
    return data


def test_an_admin_creates_edits_and_deactivates_an_epm(client: Any, login_as: Any, db_session: Session) -> None:
    login_as(Role.ADMIN)
    assert client.get("/admin/organismes/nouveau/epm").status_code == 200
    bad = client.post_form("/admin/organismes/nouveau/epm", epm_form(db_session, insee_code="46 300"))
    assert bad.status_code == 422 and "Gourdon" in bad.get_data(as_text=True)  # what was typed stays
    assert services.find(db_session, "epm-gourdon") is None
    made = client.post_form("/admin/organismes/nouveau/epm", epm_form(db_session))
    assert made.status_code == 302
    org = services.load(db_session, services.find(db_session, "epm-gourdon").id)
    assert len(org.modules) == 12 and org.insee_code == "46127"
    page = client.get(made.headers["Location"]).get_data(as_text=True)
    assert "12 modules proposés" in page
    edit = client.get(f"/admin/organismes/{org.id}/modifier").get_data(as_text=True)
    assert f'name="version" type="hidden" value="{org.version}"' in edit
    saved = client.post_form(f"/admin/organismes/{org.id}/modifier",
                             epm_form(db_session, capacity="7", version=str(org.version)))
    assert saved.status_code == 302
    stale = client.post_form(f"/admin/organismes/{org.id}/modifier",
                             epm_form(db_session, capacity="9", version=str(org.version)))
    assert stale.status_code == 409 and "pendant que vous le modifiiez" in html.unescape(stale.get_data(as_text=True))
    db_session.expire_all()
    assert db_session.get(Organisation, org.id).capacity == 7
    assert client.post_form(f"/admin/organismes/{org.id}/desactiver").status_code == 302
    db_session.expire_all()
    assert db_session.get(Organisation, org.id).active is False
    again = client.post_form("/admin/organismes/nouveau/epm", epm_form(db_session))
    assert again.status_code == 422 and "déjà pris" in html.unescape(again.get_data(as_text=True))


def test_who_reaches_the_organisation_pages(client: Any, login_as: Any, db_session: Session) -> None:
    coordination = factories.organisation(db_session, OrgKind.COORDINATION)
    epm = factories.epm(db_session)
    login_as(Role.COORDINATOR)
    assert client.get("/admin/organismes/nouveau/coordination").status_code == 404
    assert client.get(f"/admin/organismes/{coordination.id}").status_code == 404
    assert client.get(f"/admin/organismes/{epm.id}").status_code == 200
    assert client.get("/admin/organismes/nouveau/training_body").status_code == 200
    client.post_form("/logout")
    login_as(Role.ANIMATOR, organisation_=epm)
    assert client.get(f"/admin/organismes/{epm.id}").status_code == 404


def test_organisation_pages_queries_do_not_grow(client: Any, login_as: Any, db_session: Session,
                                                count_queries: Any) -> None:
    epm = factories.epm(db_session)
    login_as(Role.ADMIN)

    def counts() -> tuple[int, int, int]:
        with count_queries() as listing:
            assert client.get("/admin/organismes/").status_code == 200
        with count_queries() as page:
            assert client.get(f"/admin/organismes/{epm.id}").status_code == 200
        with count_queries() as form:
            assert client.get(f"/admin/organismes/{epm.id}/modifier").status_code == 200
        return listing.count, page.count, form.count

    before = counts()
    for _n in range(6):
        factories.epm(db_session)
        factories.user(db_session, Role.ANIMATOR, epm)
        factories.user(db_session, Role.BENEFICIARY, epm)
    db_session.commit()
    assert counts() == before
    assert before[0] <= 6 and before[1] <= 9 and before[2] <= 9, before


# --- Commands -----------------------------------------------------------------------------------------


def test_orgs_commands(runner: Any, db_session: Session, app: Flask) -> None:
    made = runner.invoke(args=["orgs", "create", "--kind", "epm", "--code", "epm-figeac", "--name", "EPM de Figeac",
                               "--postcode", "46100", "--commune", "Figeac", "--insee", "46102", "--siret",
                               FIGEAC_SIRET, "--capacity", "8", "--modules", "1-10,11", "--module", "12",
                               "--lieu-id", "lieu-46102-001", "--opening-hours", "mardi 9 h – 12 h"])
    assert made.exit_code == 0, made.output
    assert "Organisme créé : epm-figeac — EPM de Figeac (EPM), 12 modules" in made.output
    taken = runner.invoke(args=["orgs", "create", "--kind", "prescriber", "--code", "epm-figeac", "--name", "X"])
    assert taken.exit_code == 1 and "déjà pris" in taken.output
    bad = runner.invoke(args=["orgs", "create", "--kind", "epm", "--code", "epm-x", "--name", "X", "--capacity", "5",
                              "--siret", "21460102400019"])
    assert bad.exit_code == 1 and "SIRET" in bad.output
    assert runner.invoke(args=["orgs", "create", "--kind", "ministry", "--code", "x", "--name", "X"]).exit_code == 2
    shown = json.loads(runner.invoke(args=["orgs", "show", "epm-figeac", "--json"]).output)
    assert shown["modules"] == list(range(1, 13)) and shown["insee_code"] == "46102" and shown["capacity"] == 8
    assert runner.invoke(args=["orgs", "edit", "epm-figeac", "--capacity", "9"]).exit_code == 0
    assert runner.invoke(args=["orgs", "deactivate", "epm-figeac"]).exit_code == 0
    listed = json.loads(runner.invoke(args=["orgs", "list", "--json"]).output)
    mine = next(o for o in listed if o["code"] == "epm-figeac")
    assert (mine["capacity"], mine["active"], mine["staff"], mine["learners"]) == (9, False, 0, 0)
    text = runner.invoke(args=["orgs", "show", "epm-figeac"]).output
    assert "Code INSEE : 46102" in text and "Actif : non" in text
    assert runner.invoke(args=["orgs", "show", "nowhere"]).exit_code == 1


def test_a_deactivated_organisation_takes_no_new_work(db_session: Session, app_context: None) -> None:
    import datetime as dt

    from portfolio.catalogue.scheme import load_scheme_config
    from portfolio.enrolment.services import register_ticket
    from portfolio.tickets.services import Holder, TicketRefused, issue_tickets

    prescriber = factories.organisation(db_session, OrgKind.PRESCRIBER)
    epm = factories.epm(db_session)
    scheme = load_scheme_config(db_session, "ticket-net-lot")
    holder = Holder("Delpech", "Odile", dt.date(1950, 3, 2), "Luzech", "seniors")
    ticket = issue_tickets(db_session, scheme, prescriber, [holder], dt.date.today())[0]
    services.set_active(db_session, prescriber, False, None)
    with pytest.raises(TicketRefused, match="désactivé"):
        issue_tickets(db_session, scheme, prescriber, [holder], dt.date.today())
    services.set_active(db_session, epm, False, None)
    with pytest.raises(TicketRefused, match="désactivé"):
        register_ticket(db_session, epm, None, ticket.reference, "Delpech", dt.date(1950, 3, 2), dt.date.today())
    services.set_active(db_session, epm, True, None)
    assert register_ticket(db_session, epm, None, ticket.reference, "Delpech", dt.date(1950, 3, 2),
                           dt.date.today()).enrolment.ticket_id == ticket.id  # what it did before stays valid
