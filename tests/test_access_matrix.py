"""The access matrix of a learner's portfolio: the owner, staff of organisations holding a consent (the whole
portfolio; competences only), staff of other organisations, of an organisation whose consent was revoked and
of one whose consent expired, x every route of the URL map that names the learner's data, and the API of
partner systems. Nothing leaks: a refused read answers 404, and no page shows the learner's name or words
to someone who may not read them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, url_for
from sqlalchemy.orm import Session

from portfolio.auth.models import Role, User
from portfolio.enrolment.models import Enrolment, WorkshopSession
from portfolio.journal.models import Visibility
from portfolio.journal.storage import FolderStorage
from portfolio.orgs.models import OrgKind
from portfolio.permissions import access_of
from portfolio.sharing import submissions
from portfolio.sharing.models import Consent, Submission
from tests import factories
from tests.test_api import bearer, register, token_for
from tests.test_certification import candidate
from tests.test_routes import routes

NOW = factories.NOW
NAME = "Secretnom"  # the learner's last name: shown only to those who may read them
OPEN_TITLE, OPEN_WORDS = "Texte-ouvert-aux-organismes", "mots-ouverts-aux-organismes"
PRIVATE_TITLE, PRIVATE_WORDS = "Texte-prive-de-la-personne", "mots-prives-de-la-personne"
MARKERS = (NAME, OPEN_TITLE, OPEN_WORDS, PRIVATE_TITLE, PRIVATE_WORDS)
# Routes whose arguments never name a learner's data (the walker's own accounts, sign-in, static files, the
# coordination's figures by dataset or month...).
NOT_ABOUT_A_LEARNER = {"identity_id", "connection_id", "client_id", "token", "provider", "filename", "code",
                       "dataset", "period", "kind", "org_id", "staff_id", "module_id", "slug",
                       "domain_code"}


def _staff(session: Session, role: Role, kind: OrgKind) -> User:
    org = factories.epm(session) if kind is OrgKind.EPM else factories.organisation(session, kind)
    return factories.user(session, role, org)


def _consent(session: Session, owner: User, staff: User, scope: str, **dates: Any) -> Consent:
    values = {"starts_at": NOW - dt.timedelta(days=60), "ends_at": NOW + dt.timedelta(days=60)} | dates
    row = Consent(owner_id=owner.id, organisation_id=staff.memberships[0].organisation_id, scope=scope,
                  text_hash="0" * 64, **values)
    session.add(row)
    session.flush()
    return row


@pytest.fixture
def world(app: Flask, db_session: Session) -> dict[str, Any]:
    learner, evidence = candidate(db_session, NAME)
    enrolment = db_session.scalars(sa.select(Enrolment).where(
        Enrolment.learner_id == learner.id)).one()
    opened = factories.journal_entry(db_session, learner, title=OPEN_TITLE, body_md=OPEN_WORDS,
                                     visibility=Visibility.CONSENTED.value, in_portfolio=True)
    # Private, but linked to a competence: a text that may go in a file, only if she ticks it (she did not).
    private = factories.journal_entry(db_session, learner, title=PRIVATE_TITLE, body_md=PRIVATE_WORDS,
                                      competences=[factories.competence(db_session, "D1.2")])
    photo = factories.photo(db_session, FolderStorage(app.config["UPLOAD_DIR"]), opened, "photo")
    people = {
        "owner": learner,
        "consenting": _staff(db_session, Role.ASSESSOR, OrgKind.TRAINING_BODY),  # whole portfolio, and a file
        "competences_only": _staff(db_session, Role.ANIMATOR, OrgKind.EPM),  # another EPM, scope competences
        "other": _staff(db_session, Role.ASSESSOR, OrgKind.TRAINING_BODY),
        "other_epm": _staff(db_session, Role.ANIMATOR, OrgKind.EPM),
        "revoked": _staff(db_session, Role.ASSESSOR, OrgKind.TRAINING_BODY),
        "expired": _staff(db_session, Role.ASSESSOR, OrgKind.TRAINING_BODY),
        "revoked_epm": _staff(db_session, Role.ANIMATOR, OrgKind.EPM),
    }
    consent = _consent(db_session, learner, people["consenting"], "full")
    _consent(db_session, learner, people["competences_only"], "competences")
    _consent(db_session, learner, people["revoked"], "full", revoked_at=NOW - dt.timedelta(minutes=1))
    _consent(db_session, learner, people["revoked_epm"], "full", revoked_at=NOW - dt.timedelta(minutes=1))
    _consent(db_session, learner, people["expired"], "full", ends_at=NOW - dt.timedelta(seconds=1))
    sent = submissions.send(db_session, learner, people["consenting"].memberships[0].organisation_id, NOW)
    withdrawn = submissions.send(db_session, learner, people["revoked"].memberships[0].organisation_id, NOW)
    submissions.withdraw(db_session, withdrawn, learner, NOW)
    from portfolio.credentials.models import Credential

    badge = Credential(public_id="urn:uuid:00000000-0000-4000-8000-00000000abcd", holder_id=learner.id,
                       organisation_id=enrolment.epm_id, kind="path", status="active", status_index=11,
                       title="Parcours Ticket Net terminé", content={},
                       document={"name": "Parcours Ticket Net", "credentialSubject": {"name": NAME}}, awarded_at=NOW)
    db_session.add(badge)
    db_session.flush()
    workshop = db_session.scalars(sa.select(WorkshopSession).where(
        WorkshopSession.epm_id == enrolment.epm_id)).first()
    values = {
        "owner_id": [learner.id], "learner_id": [learner.id], "account_id": [learner.id],
        "entry_id": [opened.id, private.id, evidence.id], "photo_id": [photo.id], "size": ["miniature"],
        "submission_id": [sent.id, withdrawn.id], "consent_id": [consent.id],
        "organisation_id": [sent.organisation_id, withdrawn.organisation_id], "fmt": ["csv"],
        "ticket_id": [enrolment.ticket_id], "enrolment_id": [enrolment.id], "session_id": [workshop.id],
        "epm_id": [enrolment.epm_id], "credential_id": [badge.id], "extension": ["json", "png"],
    }
    db_session.commit()
    return {"people": people, "values": values, "sent": sent, "withdrawn": withdrawn, "opened": opened,
            "evidence": evidence,
            "private": private, "photo": photo, "learner": learner, "consent": consent, "badge": badge}


def learner_urls(app: Flask, values: dict[str, list[Any]], methods: set[str]) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) of every route whose arguments name the learner's data, for each sample value."""
    found = []
    for rule in routes(app):
        if not rule.arguments or rule.arguments & NOT_ABOUT_A_LEARNER:
            continue
        missing = rule.arguments - set(values)
        assert not missing, f"{rule.rule}: say in this test which of the learner's data <{missing}> names"
        for method in sorted((rule.methods or set()) & methods):
            combos: list[dict[str, Any]] = [{}]
            for argument in sorted(rule.arguments):
                combos = [c | {argument: v} for c in combos for v in values[argument]]
            with app.test_request_context():
                found += [(rule.endpoint, method, url_for(rule.endpoint, **c)) for c in combos]
    return found


def sign_in(app: Flask, user: User) -> Any:
    client = app.test_client()
    response = client.post_form("/login", {"username": user.username, "password": factories.PASSWORD})
    assert response.status_code == 302
    return client


def shown(response: Any) -> list[str]:
    textual = response.mimetype.startswith("text/") or response.mimetype == "application/json"
    text = response.get_data(as_text=True) if textual else ""  # PDFs are compressed: their status is checked
    return [m for m in MARKERS if m in text]


# What each consenting persona may read (endpoint, url fragment); every other route of the learner: 404.
def allowed(world: dict[str, Any], persona: str) -> set[str]:
    sent, opened, photo, learner = world["sent"], world["opened"], world["photo"], world["learner"]
    common = {f"/partenaires/{learner.id}"}
    if persona == "consenting":
        return common | {f"/journal/apprenant/{learner.id}", f"/journal/{opened.id}",
                         f"/journal/{world['evidence'].id}",
                         f"/journal/photos/{photo.id}/miniature", f"/evaluation/dossiers/{sent.id}",
                         f"/evaluation/dossiers/{sent.id}/photos/{photo.id}/miniature",
                         f"/evaluation/dossiers/{sent.id}/preparation.pdf",
                         f"/evaluation/export/{sent.organisation_id}/preparation.csv"}
    if persona == "competences_only":  # an animator of another EPM: the competence pages, nothing of the journal
        return common | {f"/epm/apprenants/{learner.id}/competences",
                         f"/epm/apprenants/{learner.id}/feuille-de-positionnement.pdf"}
    if persona == "revoked":  # its own export: the learner withdrew the file, so it is not in it
        return {f"/evaluation/export/{world['withdrawn'].organisation_id}/preparation.csv"}
    return set()


def may_see(persona: str) -> set[str]:
    """The markers a persona may be shown."""
    return {"consenting": {NAME, OPEN_TITLE, OPEN_WORDS}, "competences_only": {NAME}}.get(persona, set())


@pytest.mark.parametrize("persona", ["consenting", "competences_only", "other", "other_epm", "revoked", "expired",
                                     "revoked_epm"])
def test_no_get_route_leaks_the_learners_portfolio(app: Flask, world: dict[str, Any], persona: str) -> None:
    client = sign_in(app, world["people"][persona])
    permitted = allowed(world, persona)
    problems = []
    for endpoint, _method, url in learner_urls(app, world["values"], {"GET"}):
        response = client.get(url)
        if url in permitted:
            if response.status_code != 200:
                problems.append(f"{url}: {persona} may read it but got {response.status_code}")
        else:
            # A browser session is no API token: 401 there; every page refuses with 404.
            refusal = 401 if access_of(app.view_functions[endpoint]).token_scopes is not None else 404
            if response.status_code != refusal:
                problems.append(f"{url} ({endpoint}): {persona} got {response.status_code}, expected {refusal}")
        leaked = [m for m in shown(response) if m not in may_see(persona)]
        if leaked:
            problems.append(f"{url}: {persona} was shown {leaked}")
    # The pages without arguments (lists, homes) show nothing of the learner either, unless consented.
    for rule in routes(app):
        if rule.arguments or "GET" not in (rule.methods or ()):
            continue
        response = client.get(rule.rule)
        leaked = [m for m in shown(response) if m not in may_see(persona)]
        if leaked:
            problems.append(f"{rule.rule}: {persona} was shown {leaked}")
    assert problems == []
    assert len(learner_urls(app, world["values"], {"GET"})) >= 20


def test_the_consenting_organisation_reads_within_scope_and_the_owner_reads_everything(
        app: Flask, world: dict[str, Any]) -> None:
    learner, opened, private = world["learner"], world["opened"], world["private"]
    consenting = sign_in(app, world["people"]["consenting"])
    page = consenting.get(f"/journal/apprenant/{learner.id}").get_data(as_text=True)
    assert OPEN_TITLE in page and PRIVATE_TITLE not in page
    assert NAME in consenting.get("/partenaires").get_data(as_text=True)
    competences_only = sign_in(app, world["people"]["competences_only"])
    assert NAME in competences_only.get(f"/partenaires/{learner.id}").get_data(as_text=True)
    owner = sign_in(app, learner)
    for url in (f"/journal/{opened.id}", f"/journal/{private.id}", f"/moi/certification/{world['sent'].id}",
                f"/moi/certification/{world['withdrawn'].id}", "/moi/partage", "/moi/partage/consultations",
                "/moi/badges", f"/moi/badges/{world['badge'].id}", f"/moi/badges/{world['badge'].id}/badge.json"):
        assert owner.get(url).status_code == 200, url


@pytest.mark.parametrize("persona", ["other", "other_epm", "revoked", "expired", "revoked_epm", "competences_only"])
def test_no_state_changing_route_acts_on_the_learners_data(app: Flask, db_session: Session, world: dict[str, Any],
                                                           persona: str) -> None:
    client = sign_in(app, world["people"][persona])
    token = client.csrf_token()
    problems = []
    for endpoint, method, url in learner_urls(app, world["values"], {"POST"}):
        if persona == "competences_only" and endpoint == "sharing.paper_consent":
            continue  # checked below: not their learner
        response = client.open(url, method=method, data={"csrf_token": token, "decision": "ready",
                                                         "organisation_id": "1", "scope": "full", "months": "6",
                                                         "consent_id": world["consent"].id, "signed": "y"})
        if response.status_code != 404:
            problems.append(f"{method} {url} ({endpoint}): {persona} got {response.status_code}")
    assert problems == []
    db_session.expire_all()
    assert db_session.get(Consent, world["consent"].id).revoked_at is None
    sent = db_session.get(Submission, world["sent"].id)
    assert sent.status == "sent" and sent.decision is None


def test_the_api_follows_the_same_rules(app: Flask, db_session: Session, world: dict[str, Any]) -> None:
    client = app.test_client()
    tokens = {}
    for persona in ("consenting", "other", "revoked"):
        org_id = world["people"][persona].memberships[0].organisation_id
        tokens[persona] = token_for(client, register(db_session, org_id))
        db_session.commit()
    sent, withdrawn = world["sent"], world["withdrawn"]
    listed = client.get("/api/v1/submissions", headers=bearer(tokens["consenting"])).get_json()["items"]
    assert [i["id"] for i in listed] == [sent.id] and listed[0]["learner"]["last_name"] == NAME
    assert client.get(f"/api/v1/submissions/{sent.id}", headers=bearer(tokens["consenting"])).status_code == 200
    for persona in ("other", "revoked"):  # the revoked organisation's file was withdrawn
        assert client.get("/api/v1/submissions", headers=bearer(tokens[persona])).get_json()["items"] == []
        for submission in (sent, withdrawn):
            response = client.get(f"/api/v1/submissions/{submission.id}", headers=bearer(tokens[persona]))
            assert response.status_code == 404 and NAME not in response.get_data(as_text=True)
