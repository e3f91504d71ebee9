"""Consents: the one rule (scope, dates, revocation), the exact text and its hash, granting online and on
paper, revoking (it holds on the very next request), partner staff reading within the scope, and
"Qui a consulté mon portfolio"."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from competences.models import Competence, Level, Voice
from competences.services import record_assessment
from portfolio.audit.models import AuditEvent
from portfolio.auth.models import Role, User
from portfolio.journal.models import Visibility
from portfolio.orgs.models import OrgKind
from portfolio.permissions import can_read_attendance, can_read_competences, can_read_journal
from portfolio.sharing import services
from portfolio.sharing.models import Consent, ConsentMethod, ConsentScope
from tests import factories

NOW = factories.NOW


def consent(session: Session, owner: User, organisation_id: int, scope: str = "competences", **fields: Any) -> Consent:
    values: dict[str, Any] = {"starts_at": NOW - dt.timedelta(days=1), "ends_at": NOW + dt.timedelta(days=30),
                              "text_hash": "0" * 64}
    values.update(fields)
    row = Consent(owner_id=owner.id, organisation_id=organisation_id, scope=scope, **values)
    session.add(row)
    session.flush()
    return row


def org_of(user: User) -> int:
    return user.memberships[0].organisation_id


# --- The rule --------------------------------------------------------------------------------------


def test_valid_consent_is_the_one_rule_on_scope_dates_and_revocation(db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    greta = factories.organisation(db_session, OrgKind.TRAINING_BODY)
    other = factories.organisation(db_session, OrgKind.TRAINING_BODY)
    row = consent(db_session, learner, greta.id, "journal")

    def holds(scope: str, org: int = greta.id, at: dt.datetime = NOW) -> bool:
        return services.valid_consent(db_session, learner.id, [org], scope, at) is not None

    assert holds("competences") and holds("journal") and not holds("full")  # scopes are nested
    assert not holds("competences", other.id)
    assert not holds("competences", at=row.ends_at) and holds("competences", at=row.ends_at - dt.timedelta(seconds=1))
    assert not holds("competences", at=row.starts_at - dt.timedelta(seconds=1))  # not started yet
    row.revoked_at = NOW
    db_session.flush()
    assert not holds("competences")
    assert services.valid_consent(db_session, learner.id, [], "competences", NOW) is None


def test_the_widest_of_several_consents_is_found(db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    greta = factories.organisation(db_session, OrgKind.TRAINING_BODY)
    consent(db_session, learner, greta.id, "competences")
    consent(db_session, learner, greta.id, "full")
    found = services.valid_consent(db_session, learner.id, [greta.id], "competences", NOW)
    assert found is not None and found.scope == "full" and found.organisation.id == greta.id


def test_the_permission_predicates_ask_the_consent_rule(app: Flask, db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    assessor = factories.user(db_session, Role.ASSESSOR)
    animator = factories.user(db_session, Role.ANIMATOR)  # of another EPM
    prescriber = factories.user(db_session, Role.PRESCRIBER)
    with app.test_request_context():
        assert not can_read_competences(assessor, learner.id, [])
    row = consent(db_session, learner, org_of(assessor), "competences")
    consent(db_session, learner, org_of(animator), "full")
    consent(db_session, learner, org_of(prescriber), "full")  # a prescriber never reads through a consent
    with app.test_request_context():
        assert can_read_competences(assessor, learner.id, []) and not can_read_journal(assessor, learner.id)
        assert not can_read_attendance(assessor, learner.id, [])
        assert can_read_journal(animator, learner.id) and can_read_attendance(animator, learner.id, [])
        assert not can_read_competences(prescriber, learner.id, []) and not can_read_journal(prescriber, learner.id)
    row.revoked_at = NOW
    db_session.flush()
    with app.test_request_context():
        assert not can_read_competences(assessor, learner.id, [])


# --- The text and granting -------------------------------------------------------------------------


def test_the_text_is_plain_words_and_its_hash_is_stored(app: Flask, db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY, first_name="Odette", last_name="Lafon")
    greta = factories.organisation(db_session, OrgKind.TRAINING_BODY, name="GRETA du Lot")
    with app.test_request_context():
        draft = services.draft_consent(db_session, learner, greta.id, "journal", 6, NOW)
        text = "\n".join(draft.text)
        assert "Odette Lafon" in text and "GRETA du Lot" in text and "journal" in text
        assert "retirer mon accord" in text
        assert all(len(line) < 160 for line in draft.text)  # short sentences, one a line
        created = services.grant_consent(db_session, draft, shown_hash=draft.hash, by=learner)
    assert created.text_hash == hashlib.sha256(text.encode()).hexdigest()
    assert (created.text_version, created.text_language, created.method) == ("1", "fr", "online")
    assert created.recorded_by_id is None
    # 6 months, to the end of the same day (Paris time)
    assert dt.timedelta(days=180) < created.ends_at - created.starts_at < dt.timedelta(days=186)
    event = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "consent.granted")).one()
    assert event.subject_user_id == learner.id and event.organisation_name == "GRETA du Lot"


def test_a_text_other_than_the_one_shown_is_refused(app: Flask, db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    greta = factories.organisation(db_session, OrgKind.TRAINING_BODY)
    with app.test_request_context():
        draft = services.draft_consent(db_session, learner, greta.id, "competences", 1, NOW)
        with pytest.raises(services.ConsentError):
            services.grant_consent(db_session, draft, shown_hash="f" * 64, by=learner)
        for organisation_id, scope, months in ((greta.id, "everything", 6), (greta.id, "full", 7),
                                               (factories.organisation(db_session, OrgKind.PRESCRIBER).id, "full", 6)):
            with pytest.raises(services.ConsentError):
                services.draft_consent(db_session, learner, organisation_id, scope, months, NOW)
    assert db_session.scalar(sa.select(sa.func.count(Consent.id)).where(Consent.owner_id == learner.id)) == 0


def test_a_new_consent_replaces_the_one_holding_for_the_same_organisation(app: Flask, db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    greta = factories.organisation(db_session, OrgKind.TRAINING_BODY)
    with app.test_request_context():
        first = services.draft_consent(db_session, learner, greta.id, "full", 12, NOW)
        old = services.grant_consent(db_session, first, shown_hash=first.hash, by=learner)
        second = services.draft_consent(db_session, learner, greta.id, "competences", 1, NOW + dt.timedelta(hours=1))
        new = services.grant_consent(db_session, second, shown_hash=second.hash, by=learner)
    assert old.revoked_at is not None and new.revoked_at is None
    found = services.valid_consent(db_session, learner.id, [greta.id], "competences", NOW + dt.timedelta(hours=2))
    assert found is not None and found.id == new.id


# --- Through the pages -----------------------------------------------------------------------------


def grant_through_the_pages(client: Any, organisation_id: int, scope: str = "journal", months: int = 6) -> Any:
    choices = {"organisation_id": organisation_id, "scope": scope, "months": months}
    page = client.post_form("/moi/partage/nouveau", {**choices, "action": "preview"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "J'accepte" in html
    shown = html.split('name="text_hash" value="')[1].split('"')[0]
    return client.post_form("/moi/partage/nouveau", {**choices, "text_hash": shown, "action": "accept"})


def test_grant_read_revoke_and_the_partner_is_refused_on_the_very_next_request(
        app: Flask, client: Any, login_as: Any, db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY, last_name="Consentante")
    assessor = factories.user(db_session, Role.ASSESSOR)
    entry = factories.journal_entry(db_session, learner, title="Mon texte", visibility=Visibility.CONSENTED.value)
    partner = app.test_client()
    db_session.commit()
    signed_in = partner.post_form("/login", {"username": assessor.username, "password": factories.PASSWORD})
    assert signed_in.status_code == 302
    assert partner.get(f"/partenaires/{learner.id}").status_code == 404

    login_as(user=learner)
    response = grant_through_the_pages(client, org_of(assessor), "journal")
    assert response.status_code == 302 and response.headers["Location"].endswith("/moi/partage")
    assert "Consentante" in partner.get("/partenaires").get_data(as_text=True)
    page = partner.get(f"/partenaires/{learner.id}")
    assert page.status_code == 200 and "Lire son journal" in page.get_data(as_text=True)
    assert partner.get(f"/journal/{entry.id}").status_code == 200

    row = db_session.scalars(sa.select(Consent).where(Consent.owner_id == learner.id)).one()
    assert client.post_form(f"/moi/partage/{row.id}/retirer").status_code == 302
    for url in (f"/partenaires/{learner.id}", f"/journal/{entry.id}", f"/journal/apprenant/{learner.id}"):
        assert partner.get(url).status_code == 404, url  # the very next request
    assert "Consentante" not in partner.get("/partenaires").get_data(as_text=True)
    mine = client.get("/moi/partage").get_data(as_text=True)
    assert "retiré le" in mine and "sur papier" not in mine
    db_session.refresh(row)
    assert (row.revoked_method, row.revoked_by_id) == (ConsentMethod.ONLINE, None)


def test_granting_asks_who_you_are_after_a_while(app: Flask, client: Any, login_as: Any, db_session: Session) -> None:
    learner = login_as(Role.BENEFICIARY)
    with client.session_transaction() as session:
        session["auth_at"] -= 3600
    response = client.get("/moi/partage/nouveau")
    assert response.status_code == 302 and "/compte/confirmer" in response.headers["Location"]
    assert learner is not None


def test_a_bad_choice_is_explained_and_kept(client: Any, login_as: Any, db_session: Session) -> None:
    login_as(Role.BENEFICIARY)
    greta = factories.organisation(db_session, OrgKind.TRAINING_BODY)
    db_session.commit()
    response = client.post_form("/moi/partage/nouveau", {"organisation_id": 0, "scope": "full", "months": 3,
                                                          "action": "preview"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Choisissez un organisme." in html
    assert re.search(r'<input [^>]*checked[^>]*value="full"', html) and re.search(r'<input checked[^>]*value="3"', html)
    assert greta.name in html


def test_the_partner_reads_within_the_scope_only(client: Any, login_as: Any, db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    competence = db_session.scalars(sa.select(Competence).where(Competence.code == "D1.1")).first()
    animator = factories.user(db_session, Role.ANIMATOR)
    record_assessment(db_session, learner, competence, Voice.ANIMATOR, Level.ACQUIRED, animator)
    entry = factories.journal_entry(db_session, learner, visibility=Visibility.CONSENTED.value)
    assessor = login_as(Role.ASSESSOR)
    consent(db_session, learner, org_of(assessor), "competences")
    db_session.commit()
    page = client.get(f"/partenaires/{learner.id}").get_data(as_text=True)
    assert "Prêt·e pour le B2i Adultes ?" in page and "Lire son journal" not in page
    assert "Ateliers suivis" not in page  # attendance needs the whole portfolio
    assert client.get(f"/journal/{entry.id}").status_code == 404
    assert client.get(f"/journal/apprenant/{learner.id}").status_code == 404


def test_every_partner_read_is_audited_and_shown_to_the_owner(client: Any, login_as: Any, db_session: Session,
                                                              app: Flask) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    entry = factories.journal_entry(db_session, learner, visibility=Visibility.CONSENTED.value)
    assessor = factories.user(db_session, Role.ASSESSOR, first_name="Nadia", last_name="Lectrice")
    consent(db_session, learner, org_of(assessor), "full")
    login_as(user=assessor)
    for url in (f"/partenaires/{learner.id}", f"/journal/apprenant/{learner.id}", f"/journal/{entry.id}"):
        assert client.get(url).status_code == 200
    db_session.expire_all()
    events = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.subject_user_id == learner.id)
                                .order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["sharing.read", "journal.read", "journal.entry_read"]
    organisation = assessor.memberships[0].organisation.name
    assert all(e.actor_id == assessor.id and e.organisation_name == organisation for e in events)

    owner = app.test_client()
    owner.post_form("/login", {"username": learner.username, "password": factories.PASSWORD})
    html = owner.get("/moi/partage/consultations").get_data(as_text=True)
    assert html.count("Nadia Lectrice") == 3 and organisation in html
    assert "un texte de votre journal" in html and "votre portfolio" in html


def _read_at(session: Session, reader: User, owner: User, action: str, at: dt.datetime) -> None:
    event = services.record_read(session, reader, owner.id, action, at,
                                 organisation=reader.memberships[0].organisation)
    assert event is not None
    event.created_at = at
    session.flush()


PARIS = dt.timezone(dt.timedelta(hours=1))  # winter time (CET)
PARIS_SUMMER = dt.timezone(dt.timedelta(hours=2))  # summer time (CEST)


def test_reads_are_grouped_by_local_day_reader_and_what_was_read(db_session: Session) -> None:
    """The same cases for PostgreSQL's conversion and SQLite's function: the local day around midnight, in
    winter and in summer time, and on the days the clocks change."""
    learner = factories.user(db_session, Role.BENEFICIARY)
    reader = factories.user(db_session, Role.ASSESSOR, first_name="Nadia", last_name="Lectrice")
    other = factories.user(db_session, Role.ANIMATOR)
    winter = dt.datetime(2026, 12, 3, 9, 5, tzinfo=PARIS)
    for minute in range(11):  # 11 reads in two minutes: one line
        _read_at(db_session, reader, learner, "journal.read", winter + dt.timedelta(seconds=11 * minute))
    _read_at(db_session, reader, learner, "sharing.read", winter)  # another thing read: another line
    _read_at(db_session, other, learner, "journal.read", winter)  # another reader: another line
    # 23:30 and 00:30 local time are two days, although both are on the same UTC day (22:30, 23:30 UTC).
    _read_at(db_session, reader, learner, "journal.entry_read", dt.datetime(2026, 12, 4, 23, 30, tzinfo=PARIS))
    _read_at(db_session, reader, learner, "journal.entry_read", dt.datetime(2026, 12, 5, 0, 30, tzinfo=PARIS))
    # Summer time: 00:30 local time is 22:30 UTC the day before; 23:59 local is the same local day.
    _read_at(db_session, reader, learner, "competences.read", dt.datetime(2026, 7, 14, 0, 30, tzinfo=PARIS_SUMMER))
    _read_at(db_session, reader, learner, "competences.read", dt.datetime(2026, 7, 14, 23, 59, tzinfo=PARIS_SUMMER))
    # The last Sunday of March: 01:30 is winter time, 03:30 summer time, the same local day.
    _read_at(db_session, reader, learner, "submission.read", dt.datetime(2026, 3, 29, 1, 30, tzinfo=PARIS))
    _read_at(db_session, reader, learner, "submission.read", dt.datetime(2026, 3, 29, 3, 30, tzinfo=PARIS_SUMMER))
    services.record_read(db_session, learner, learner.id, "sharing.read", NOW)  # one's own reads are not noted

    page = services.reads_of(db_session, learner.id)
    found = sorted((g.day, g.action, g.actor_name, g.times) for g in page.groups)
    assert found == sorted([
        (dt.date(2026, 12, 3), "journal.read", "Nadia Lectrice", 11),
        (dt.date(2026, 12, 3), "sharing.read", "Nadia Lectrice", 1),
        (dt.date(2026, 12, 3), "journal.read", other.display_name, 1),
        (dt.date(2026, 12, 4), "journal.entry_read", "Nadia Lectrice", 1),
        (dt.date(2026, 12, 5), "journal.entry_read", "Nadia Lectrice", 1),
        (dt.date(2026, 7, 14), "competences.read", "Nadia Lectrice", 2),
        (dt.date(2026, 3, 29), "submission.read", "Nadia Lectrice", 2),
    ])
    eleven = next(g for g in page.groups if g.times == 11)
    assert eleven.first_at == winter and eleven.last_at == winter + dt.timedelta(seconds=110)
    assert eleven.organisation_name == reader.memberships[0].organisation.name
    assert [g.last_id for g in page.groups] == sorted((g.last_id for g in page.groups), reverse=True)
    assert page.older is None


def test_read_groups_come_a_page_at_a_time(db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    reader = factories.user(db_session, Role.ASSESSOR)
    start = dt.datetime(2026, 11, 1, 10, tzinfo=PARIS)
    for day in range(7):
        for _ in range(3):
            _read_at(db_session, reader, learner, "sharing.read", start + dt.timedelta(days=day))
    first = services.reads_of(db_session, learner.id, limit=5)
    assert [g.day.day for g in first.groups] == [7, 6, 5, 4, 3] and first.older is not None
    assert all(g.times == 3 for g in first.groups)
    rest = services.reads_of(db_session, learner.id, before=first.older, limit=5)
    assert [g.day.day for g in rest.groups] == [2, 1] and rest.older is None


def test_the_owner_reads_one_line_per_group_in_french(client: Any, login_as: Any, db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    reader = factories.user(db_session, Role.ASSESSOR, first_name="Nadia", last_name="Lectrice")
    greta = reader.memberships[0].organisation.name
    winter = dt.datetime(2025, 12, 3, 9, 5, tzinfo=PARIS)
    for second in range(0, 110, 10):
        _read_at(db_session, reader, learner, "journal.read", winter + dt.timedelta(seconds=second))
    _read_at(db_session, reader, learner, "sharing.read", winter)
    login_as(user=learner)
    html = client.get("/moi/partage/consultations").get_data(as_text=True)
    assert f"{greta} a consulté votre journal 11 fois, le 3 décembre 2025." in html
    assert f"{greta} a consulté votre portfolio 1 fois, le 3 décembre 2025." in html
    assert html.count("Par Nadia Lectrice.") == 2
    assert "De 09:05 à 09:06." in html and "À 09:05." in html
    assert "09:05:" not in html


def test_an_animator_records_a_paper_consent_for_a_learner_of_their_epm(
        client: Any, login_as: Any, db_session: Session) -> None:
    animator = login_as(Role.ANIMATOR)
    epm = animator.memberships[0].organisation
    learner = factories.user(db_session, Role.BENEFICIARY)
    factories.enrolment(db_session, factories.ticket(db_session), epm, learner)
    stranger = factories.user(db_session, Role.BENEFICIARY)
    aformac = factories.organisation(db_session, OrgKind.TRAINING_BODY)
    db_session.commit()
    assert client.get(f"/epm/apprenants/{stranger.id}/consentement-papier").status_code == 404
    url = f"/epm/apprenants/{learner.id}/consentement-papier"
    assert url in client.get(f"/epm/apprenants/{learner.id}/competences").get_data(as_text=True)
    choices = {"organisation_id": aformac.id, "scope": "competences", "months": 3}
    html = client.post_form(url, {**choices, "action": "preview"}).get_data(as_text=True)
    shown = html.split('name="text_hash" value="')[1].split('"')[0]
    unsigned = client.post_form(url, {**choices, "text_hash": shown, "action": "accept"})
    assert unsigned.status_code == 400 and "Cochez la case" in unsigned.get_data(as_text=True)
    signed = client.post_form(url, {**choices, "text_hash": shown, "action": "accept", "signed": "y"})
    assert signed.status_code == 302
    row = db_session.scalars(sa.select(Consent).where(Consent.owner_id == learner.id)).one()
    assert (row.method, row.recorded_by_id, row.organisation_id) == (ConsentMethod.PAPER, animator.id, aformac.id)


def test_an_animator_records_a_withdrawal_signed_on_paper(client: Any, login_as: Any, db_session: Session) -> None:
    animator = login_as(Role.ANIMATOR, first_name="Paul", last_name="Animateur")
    epm = animator.memberships[0].organisation
    learner = factories.user(db_session, Role.BENEFICIARY)
    factories.enrolment(db_session, factories.ticket(db_session), epm, learner)
    stranger = factories.user(db_session, Role.BENEFICIARY)
    greta = factories.organisation(db_session, OrgKind.TRAINING_BODY, name="GRETA Lot")
    aformac = factories.organisation(db_session, OrgKind.TRAINING_BODY, name="AFORMAC Figeac")
    to_greta = consent(db_session, learner, greta.id, "journal")
    to_aformac = consent(db_session, learner, aformac.id)
    ended = consent(db_session, learner, factories.organisation(db_session, OrgKind.EPM).id,
                    revoked_at=NOW - dt.timedelta(hours=1))
    strangers = consent(db_session, stranger, greta.id)
    db_session.commit()
    assert client.get(f"/epm/apprenants/{stranger.id}/retrait-papier").status_code == 404
    url = f"/epm/apprenants/{learner.id}/retrait-papier"
    assert url in client.get(f"/epm/apprenants/{learner.id}/competences").get_data(as_text=True)
    page = client.get(url).get_data(as_text=True)
    assert "GRETA Lot" in page and "AFORMAC Figeac" in page
    assert f'value="{ended.id}"' not in page and f'value="{strangers.id}"' not in page

    unsigned = client.post_form(url, {"consent_id": to_greta.id})
    assert unsigned.status_code == 400 and "Cochez la case quand la personne a signé son retrait." in (
        unsigned.get_data(as_text=True))
    for not_holding in (ended.id, strangers.id, "x"):
        refused = client.post_form(url, {"consent_id": not_holding, "signed": "y"})
        assert refused.status_code == 400, not_holding
    db_session.expire_all()
    assert [c.revoked_at for c in (to_greta, to_aformac, strangers)] == [None, None, None]

    done = client.post_form(url, {"consent_id": to_greta.id, "signed": "y"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/epm/apprenants/{learner.id}/competences")
    db_session.expire_all()
    assert (to_greta.revoked_method, to_greta.revoked_by_id) == (ConsentMethod.PAPER, animator.id)
    assert to_greta.revoked_at is not None and to_aformac.revoked_at is None
    assert services.valid_consent(db_session, learner.id, [greta.id], "competences", factories.NOW) is None
    event = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "consent.revoked")).one()
    assert (event.actor_id, event.subject_user_id, event.details) == (animator.id, learner.id, {"method": "paper"})
    assert "Le retrait sur papier de" in client.get(done.headers["Location"]).get_data(as_text=True)
    again = client.post_form(url, {"consent_id": to_greta.id, "signed": "y"})  # sent twice: said plainly
    assert again.status_code == 400 and "Cet accord ne tient plus" in again.get_data(as_text=True)

    client.post_form("/logout")
    login_as(user=learner)
    mine = client.get("/moi/partage").get_data(as_text=True)
    assert "retrait signé sur papier, noté par Paul Animateur" in mine


def test_a_learner_cannot_revoke_someone_elses_consent(client: Any, login_as: Any, db_session: Session) -> None:
    other = factories.user(db_session, Role.BENEFICIARY)
    row = consent(db_session, other, factories.organisation(db_session, OrgKind.TRAINING_BODY).id)
    login_as(Role.BENEFICIARY)
    assert client.post_form(f"/moi/partage/{row.id}/retirer").status_code == 404
    db_session.refresh(row)
    assert row.revoked_at is None


def test_the_partner_list_costs_the_same_whatever_the_consents(client: Any, login_as: Any, db_session: Session,
                                                              count_queries: Any) -> None:
    assessor = login_as(Role.ASSESSOR)

    def measure() -> int:
        db_session.commit()
        with count_queries() as counter:
            assert client.get("/partenaires").status_code == 200
        return counter.count

    consent(db_session, factories.user(db_session, Role.BENEFICIARY), org_of(assessor))
    few = measure()
    for _ in range(10):
        consent(db_session, factories.user(db_session, Role.BENEFICIARY), org_of(assessor), "full")
    assert measure() == few <= 6


def test_scope_helpers() -> None:
    assert services.scopes_covering(ConsentScope.JOURNAL) == ["journal", "full"]
    assert services.covers("full", "competences") and not services.covers("competences", "journal")


def test_the_reads_page_costs_the_same_whatever_the_number_of_reads(client: Any, login_as: Any,
                                                                   db_session: Session, count_queries: Any) -> None:
    reader = factories.user(db_session, Role.ASSESSOR)
    counts = []
    for reads in (1, 60):
        learner = factories.user(db_session, Role.BENEFICIARY)
        for n in range(reads):
            _read_at(db_session, reader, learner, ("journal.read", "sharing.read")[n % 2],
                     dt.datetime(2026, 11, 1, 10, tzinfo=PARIS) + dt.timedelta(days=n // 4))
        login_as(user=learner)
        with count_queries() as counter:
            assert client.get("/moi/partage/consultations").status_code == 200
        counts.append(counter.count)
        client.post_form("/logout")
    assert counts[0] == counts[1], counts
