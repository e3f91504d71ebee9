"""Everyday settings: the terms of the tickets issued from now on (never the tickets already issued), the annual
plan and budget, the module catalogue; each change kept with who and when; and a workshop group's login cards."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from pypdf import PdfReader
from sqlalchemy.orm import Session

from portfolio.audit.models import AuditEvent
from portfolio.auth import cards
from portfolio.auth.models import Role, User
from portfolio.catalogue import settings
from portfolio.catalogue.models import Module, ModuleFamily, SettingChange
from portfolio.catalogue.scheme import load_scheme_config
from portfolio.enrolment.services import offered_modules, plan_session
from portfolio.orgs.models import OrgKind
from portfolio.tickets.models import Ticket
from portfolio.tickets.services import Holder, TicketRefused, issue_tickets
from tests import factories

CODE = "ticket-net-lot"
TICKET = {"ticket.nominal_value_eur": 240, "ticket.hours": 24, "ticket.sessions": 12,
          "split_per_ticket_eur.epm_reception_and_animation": 180,
          "split_per_ticket_eur.administrative_and_financial_management": 16,
          "split_per_ticket_eur.pedagogical_coordination": 16, "split_per_ticket_eur.communication": 28}
PLAN = {"targets.beneficiaries_per_year": 640, "annual_budget_eur.epm_remuneration": 96_000,
        "annual_budget_eur.management_fees": 8_500, "annual_budget_eur.pedagogical_coordination": 8_500,
        "annual_budget_eur.communication": 13_000}


def holder() -> Holder:
    return Holder("Delpech", "Odile", dt.date(1950, 3, 2), "Luzech", "seniors")


def test_new_terms_hold_for_tickets_issued_from_now_on(db_session: Session, app_context: None) -> None:
    coordinator = factories.user(db_session, Role.COORDINATOR)
    prescriber = factories.organisation(db_session, OrgKind.PRESCRIBER)
    today = dt.date.today()
    before = issue_tickets(db_session, load_scheme_config(db_session, CODE), prescriber, [holder()], today)[0]
    changed = settings.change_figures(db_session, CODE, settings.TICKET_FIGURES, TICKET, coordinator,
                                      seen=settings.last_change_id(db_session))
    assert set(changed) == set(TICKET)
    scheme = load_scheme_config(db_session, CODE)
    assert (scheme.value_cents, scheme.hours, scheme.sessions, scheme.epm_share_cents) == (24_000, 24, 12, 18_000)
    after = issue_tickets(db_session, scheme, prescriber, [Holder("Roques", "Paul", dt.date(1948, 1, 9), "Luzech",
                                                                  "seniors")], today)[0]
    db_session.expire_all()
    old = db_session.get(Ticket, before.id)
    assert (old.value_cents, old.hours, old.sessions) == (20_000, 20, 10)  # the ticket already issued keeps its own
    assert (after.value_cents, after.hours, after.sessions) == (24_000, 24, 12)
    history = {c.key: c for c in db_session.scalars(sa.select(SettingChange))}
    assert history["ticket.hours"].previous == {"value": 20} and history["ticket.hours"].value == {"value": 24}
    assert history["ticket.hours"].changed_by_id == coordinator.id
    assert history["ticket.hours"].changed_by_name == coordinator.display_name
    event = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "settings.changed")).one()
    assert event.details["ticket.nominal_value_eur"] == [200, 240] and event.actor_id == coordinator.id


@pytest.mark.parametrize(("changes", "words"), [
    ({"ticket.hours": 21}, "ne vont pas ensemble"),  # 10 workshops of 120 minutes are 20 hours
    ({"ticket.nominal_value_eur": 210}, "doivent faire exactement sa valeur"),  # the split still adds up to 200
    ({"ticket.sessions": 0}, "de 1 à 100"), ({"ticket.sessions": 101}, "de 1 à 100"),
])
def test_terms_that_do_not_hold_together_are_refused(db_session: Session, changes: dict[str, int], words: str,
                                                     app_context: None) -> None:
    values = settings.current_values(load_scheme_config(db_session, CODE), settings.TICKET_FIGURES) | changes
    with pytest.raises(settings.SettingsRefused, match=words):
        settings.change_figures(db_session, CODE, settings.TICKET_FIGURES, values, None, seen=0)
    assert load_scheme_config(db_session, CODE).hours == 20
    assert db_session.scalar(sa.select(sa.func.count(SettingChange.id))) == 0


def test_the_plan_and_its_total(db_session: Session, app_context: None) -> None:
    settings.change_figures(db_session, CODE, settings.PLAN_FIGURES, PLAN, None, seen=0)
    scheme = load_scheme_config(db_session, CODE)
    assert scheme.data["annual_budget_eur"]["total"] == 126_000  # the sum of the lines, not typed
    assert scheme.data["targets"]["beneficiaries_per_year"] == 640
    assert scheme.data["targets"]["low_hypothesis"]["total"] == 450  # untouched figures stay
    # Someone saved meanwhile: a save made on the older page is refused, nothing changes.
    with pytest.raises(settings.SettingsRefused, match="pendant que vous les modifiiez"):
        settings.change_figures(db_session, CODE, settings.PLAN_FIGURES, PLAN | {
            "targets.beneficiaries_per_year": 700}, None, seen=0)
    assert load_scheme_config(db_session, CODE).data["targets"]["beneficiaries_per_year"] == 640


def test_reloading_the_data_file_keeps_the_changes(db_session: Session, app_context: None, tmp_path: Any) -> None:
    from portfolio.catalogue.loader import SCHEME_FILE, load_scheme

    settings.change_figures(db_session, CODE, settings.PLAN_FIGURES, PLAN, None, seen=0)
    newer = tmp_path / "scheme.yaml"
    newer.write_text(SCHEME_FILE.read_text(encoding="utf-8").replace("name: Ticket Net", "name: Ticket Net (v2)"),
                     encoding="utf-8")
    assert load_scheme(db_session, CODE, newer)
    scheme = load_scheme_config(db_session, CODE)
    assert scheme.data["name"] == "Ticket Net (v2)" and scheme.data["annual_budget_eur"]["total"] == 126_000


def test_the_catalogue_grows_and_retires_but_never_forgets(db_session: Session, app_context: None) -> None:
    admin = factories.user(db_session, Role.ADMIN)
    family = db_session.scalars(sa.select(ModuleFamily).order_by(ModuleFamily.position)).first()
    module = settings.add_module(db_session, family.id, "  Découvrir   les jeux vidéo ", admin)
    assert (module.number, module.title) == (21, "Découvrir les jeux vidéo")
    with pytest.raises(settings.SettingsRefused, match="existe déjà"):
        settings.add_module(db_session, family.id, "découvrir les jeux vidéo", admin)
    epm = factories.epm(db_session, offering=[*range(1, 12), 21])
    workshop = plan_session(db_session, load_scheme_config(db_session, CODE), epm, None, module.id,
                            factories.NOW + dt.timedelta(days=2))
    assert settings.set_retired(db_session, module, True, admin) and not settings.set_retired(db_session, module, True,
                                                                                                admin)
    assert 21 not in [m.number for m in offered_modules(db_session, epm.id)]
    with pytest.raises(TicketRefused, match="pas proposé"):
        plan_session(db_session, load_scheme_config(db_session, CODE), epm, None, module.id, factories.NOW)
    assert db_session.get(Module, module.id) is not None and workshop.module_id == module.id  # what was followed
    rows = {row.module.number: row for _family, rows in settings.catalogue(db_session) for row in rows}
    assert rows[21].workshops == 1 and rows[21].change.value == {"action": "retired", "title": module.title}
    assert rows[21].change.changed_by_name == admin.display_name
    settings.set_retired(db_session, module, False, admin)
    assert 21 in [m.number for m in offered_modules(db_session, epm.id)]
    actions = db_session.scalars(sa.select(AuditEvent.action).where(AuditEvent.target_type == "module")).all()
    assert actions == ["catalogue.module_added", "catalogue.module_retired", "catalogue.module_restored"]


# --- Pages --------------------------------------------------------------------------------------------


def form_of(values: dict[str, int], seen: int) -> dict[str, Any]:
    return {key.replace(".", "__"): f"{value:,}".replace(",", " ") for key, value in values.items()} | {"seen": seen}


def test_the_settings_pages(client: Any, login_as: Any, db_session: Session, count_queries: Any) -> None:
    coordinator = login_as(Role.COORDINATOR)
    with count_queries() as first:
        page = client.get("/reglages").get_data(as_text=True)
    assert 'value="200"' in page and 'value="100000"' not in page
    saved = client.post_form("/reglages/plan", form_of(PLAN, 0))
    assert saved.status_code == 302
    page = html.unescape(client.get("/reglages").get_data(as_text=True))
    assert "126\u202f000 euros" in page or "126 000 euros" in page
    assert f"par {coordinator.display_name} (avant : 75000)" in page
    stale = client.post_form("/reglages/ticket", form_of(TICKET, 0))
    assert stale.status_code == 409 and load_scheme_config(db_session, CODE).hours == 20
    seen = settings.last_change_id(db_session)
    wrong = client.post_form("/reglages/ticket", form_of(TICKET | {"ticket.hours": 25}, seen))
    assert wrong.status_code == 422 and "ne vont pas ensemble" in html.unescape(wrong.get_data(as_text=True))
    assert 'value="25"' in wrong.get_data(as_text=True)  # what was typed stays
    assert client.post_form("/reglages/ticket", form_of(TICKET, seen)).status_code == 302
    assert load_scheme_config(db_session, CODE).hours == 24
    with count_queries() as later:
        assert client.get("/reglages").status_code == 200
    assert later.count == first.count and first.count <= 7, (first.count, later.count)


def test_the_modules_page(client: Any, login_as: Any, db_session: Session, count_queries: Any) -> None:
    login_as(Role.ADMIN)
    family = db_session.scalars(sa.select(ModuleFamily.id).order_by(ModuleFamily.position)).first()
    with count_queries() as first:
        assert client.get("/reglages/modules").status_code == 200
    added = client.post_form("/reglages/modules", {"family": family, "title": "Faire ses courses en ligne"})
    assert added.status_code == 302
    twice = client.post_form("/reglages/modules", {"family": family, "title": "Faire ses courses en ligne"})
    assert twice.status_code == 422 and "existe déjà (n° 21)" in html.unescape(twice.get_data(as_text=True))
    module = db_session.scalars(sa.select(Module).where(Module.number == 21)).one()
    assert client.post_form(f"/reglages/modules/{module.id}/retirer").status_code == 302
    db_session.expire_all()
    assert db_session.get(Module, module.id).retired_at is not None
    page = client.get("/reglages/modules").get_data(as_text=True)
    assert "Remettre le module 21 au catalogue" in page
    with count_queries() as later:
        assert client.get("/reglages/modules").status_code == 200
    assert later.count == first.count and first.count <= 8, (first.count, later.count)
    client.post_form("/logout")
    login_as(Role.ANIMATOR)
    assert client.get("/reglages").status_code == 404
    assert client.post_form(f"/reglages/modules/{module.id}/remettre").status_code == 404


# --- A workshop group's login cards ---------------------------------------------------------------------


def pdf_pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def test_the_group_cards_in_one_pdf(app: Flask, client: Any, login_as: Any, db_session: Session) -> None:
    epm = factories.epm(db_session)
    workshop = factories.workshop(db_session, epm, factories.NOW + dt.timedelta(days=1))
    people = []
    for name in ("Alary", "Bru", "Cassan"):
        learner = factories.user(db_session, Role.BENEFICIARY, epm, last_name=name)
        learner.password_hash = None  # registered, no card printed yet
        enrolment = factories.enrolment(db_session, factories.ticket(db_session, last_name=name), epm, learner)
        factories.attend(db_session, workshop, enrolment, status=factories.AttendanceStatus.EXPECTED)
        people.append(learner)
    alary, bru, cassan = people
    with app.app_context():
        held, _code = cards.new_card(db_session, bru, None)  # Bru already has a card waiting
        cards.redeem(db_session, cards.new_card(db_session, cassan, None)[0], "le mot de passe de cassan")
    login_as(Role.ANIMATOR, organisation_=epm)
    page = html.unescape(client.get(f"/epm/ateliers/{workshop.id}/cartes").get_data(as_text=True))
    assert f'id="learner-{alary.id}" name="learner" value="{alary.id}" checked' in page
    assert f'id="learner-{bru.id}" name="learner" value="{bru.id}">' in page  # not ticked
    assert "a une carte qui attend sa première connexion" in page and "a choisi son mot de passe" in page
    states = {f"state-{p.id}": s for p, s in zip(people, ("none", f"card-{held.id}", "password"), strict=True)}
    assert all(f'name="{k}" value="{v}"' in page for k, v in states.items())
    printed = client.post_form(f"/epm/ateliers/{workshop.id}/cartes", {"learner": [alary.id, bru.id], **states})
    assert printed.mimetype == "application/pdf"
    pages = pdf_pages(printed.data)
    assert len(pages) == 2 and alary.username in pages[0] and bru.username in pages[1]
    codes = [re.search(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b", text).group(1) for text in pages]
    db_session.expire_all()
    assert cards.check_code(db_session, bru.username, _code) is None  # Bru's earlier card stopped
    assert cards.check_code(db_session, bru.username, codes[1]) is not None
    assert db_session.get(User, cassan.id).password_hash is not None  # not ticked: untouched
    # The same form again (a reload): nothing printed, the cards just handed out keep working.
    again = client.post_form(f"/epm/ateliers/{workshop.id}/cartes", {"learner": [alary.id, bru.id], **states})
    assert again.status_code == 409 and again.mimetype == "text/html"
    assert cards.check_code(db_session, alary.username, codes[0]) is not None
    nobody = client.post_form(f"/epm/ateliers/{workshop.id}/cartes", states)
    assert nobody.status_code == 422
    events = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "auth.login_card")).all()
    assert sorted(e.details["replaced"] for e in events) == ["card", "none"]
