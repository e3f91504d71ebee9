"""My data: the export covers every record about a person, and deleting the account clears them all.

In the spirit of Moodle's privacy API: the test walks every foreign key of the schema that points at
``user_account``, builds a person referenced from each of them, and checks that the export carries
every such row and that the deletion leaves no row pointing at the person.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import sqlalchemy as sa
from flask import Flask
from lxml import etree
from sqlalchemy.orm import Session

from competences.models import Assessment, Competence
from portfolio import PROJECT_DIR
from portfolio.account.models import SignedInSession
from portfolio.api.models import ApiClient
from portfolio.audit import services as audit
from portfolio.audit.models import AuditEvent
from portfolio.auth import cards
from portfolio.auth.models import Role, User
from portfolio.catalogue.models import SettingChange
from portfolio.db import Base
from portfolio.enrolment.models import Attendance, PositioningInterview
from portfolio.journal.models import JournalEntry, Photo, Visibility
from portfolio.journal.storage import FolderStorage
from portfolio.privacy import export, services
from portfolio.privacy.registry import MENTIONS, REFERENCES, mention_key
from portfolio.sharing.models import Consent, Submission
from portfolio.sso.models import ExternalIdentity, SignInInvitation
from portfolio.staff.models import StaffInvitation
from portfolio.tickets.models import Ticket
from tests import factories

NOW = dt.datetime.now(dt.UTC)
SCHEMA = json.loads((PROJECT_DIR / "docs" / "portfolio.schema.json").read_text())
NS = {"a": export.ATOM, "rdf": export.RDF, "leap2": export.LEAP2}


def user_foreign_keys() -> set[tuple[str, str]]:
    found = set()
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == "user_account":
                found.add((table.name, fk.parent.name))
    return found


def test_every_reference_to_a_person_is_declared() -> None:
    declared = {(r.table, r.column) for r in REFERENCES}
    assert user_foreign_keys() - declared == set(), "declare these in portfolio/privacy/registry.py"
    assert declared - user_foreign_keys() == set()


@pytest.fixture
def storage(app: Flask) -> FolderStorage:
    return FolderStorage(app.config["UPLOAD_DIR"])


def person_everywhere(session: Session, storage: FolderStorage) -> dict[str, Any]:
    """A person who appears in every column that references an account (as learner and as staff)."""
    epm = factories.organisation(session)
    person = factories.user(session, Role.BENEFICIARY, epm, first_name="Odette", last_name="Lafon",
                            email="odette@example.org")
    other = factories.user(session, Role.BENEFICIARY, epm)
    competence = session.scalars(sa.select(Competence).limit(1)).one()
    ticket = factories.ticket(session, issued_by_id=person.id, phone="06 00 00 00 00")
    enrolment = factories.enrolment(session, ticket, epm, person)
    enrolment.registered_by_id = person.id
    session.add(PositioningInterview(enrolment_id=enrolment.id, held_on=dt.date.today(), animator_id=person.id,
                                     projects="Écrire à mes petits-enfants", notes="Très motivée"))
    workshop = factories.workshop(session, epm, NOW - dt.timedelta(days=2), animator_id=person.id)
    attendance = factories.attend(session, workshop, enrolment)
    attendance.recorded_by_id = person.id
    entry = factories.journal_entry(session, person, title="Mon jardin", body_md="Des **tomates**",
                                    visibility=Visibility.EPM.value)
    entry_competences = session.execute(sa.insert(Base.metadata.tables["entry_competence"]).values(
        entry_id=entry.id, competence_id=competence.id))
    del entry_competences
    photo = factories.photo(session, storage, entry, "Mes tomates")
    assessment = Assessment(learner_id=person.id, competence_id=competence.id, voice="self", level="in_progress",
                            assessor_id=person.id)
    session.add(assessment)
    session.flush()
    session.execute(sa.insert(Base.metadata.tables["assessment_evidence"]).values(
        assessment_id=assessment.id, entry_id=entry.id))
    consent = Consent(owner_id=person.id, organisation_id=epm.id, scope="journal", recorded_by_id=person.id,
                      ends_at=NOW + dt.timedelta(days=30), text_hash="a" * 64, method="paper",
                      revoked_by_id=person.id, revoked_method="paper", revoked_at=NOW)
    submission = Submission(owner_id=person.id, organisation_id=epm.id, snapshot={"entries": [entry.id]},
                            decided_by_id=person.id)
    session.add_all([consent, submission])
    audit.record(session, "auth.login", actor=person, ip="192.0.2.1")
    audit.record(session, "auth.login_failed", details={"username": person.username}, ip="192.0.2.2")
    cards.new_card(session, person, printed_by=person)
    identity = ExternalIdentity(user_id=person.id, provider="epm", issuer="https://sso.example", subject="odette-1")
    session.add(identity)
    session.add(SignInInvitation(user_id=person.id, token_hash="b" * 64, created_by_id=person.id,
                                 expires_at=NOW + dt.timedelta(days=14)))
    session.add(SignedInSession(user_id=person.id, token_hash="c" * 64, ip="192.0.2.9", user_agent="Firefox"))
    session.add(StaffInvitation(user_id=person.id, token_hash="e" * 64, delivery="email", sent_to="odette@example.org",
                                created_by_id=person.id, expires_at=NOW + dt.timedelta(days=7)))
    session.add(SettingChange(key="ticket.hours", previous={"value": 20}, value={"value": 24}, changed_by_id=person.id,
                              changed_by_name=person.display_name))
    session.add(ApiClient(client_id="tn-odette", secret_hash="d" * 64, name="Logiciel", organisation_id=epm.id,
                          scope="submissions:read", created_by_id=person.id))
    from portfolio.credentials.models import Credential, CredentialHolder

    session.add(CredentialHolder(user_id=person.id, subject_id="urn:uuid:00000000-0000-4000-8000-000000000001"))
    badge = Credential(public_id="urn:uuid:00000000-0000-4000-8000-000000000002", holder_id=person.id,
                       organisation_id=epm.id, kind="path", status="active", status_index=7, title="Parcours",
                       content={"name": "Parcours"}, document={"name": "Parcours", "issuer": "Odette Lafon"},
                       awarded_at=NOW)
    session.add(badge)
    reader = factories.user(session, Role.ANIMATOR, epm)
    audit.record(session, "journal.read", actor=reader, subject_user_id=person.id, ip="192.0.2.3")
    others_entry = factories.journal_entry(session, other, title="À quelqu'un d'autre")
    session.flush()
    return {"person": person, "other": other, "entry": entry, "photo": photo, "ticket": ticket,
            "enrolment": enrolment, "others_entry": others_entry, "reader": reader, "badge": badge}


def ids_referencing(session: Session, table_name: str, column: str, uid: int) -> set[int]:
    table = Base.metadata.tables[table_name]
    return set(session.scalars(sa.select(table.c.id).where(table.c[column] == uid)))


def test_export_covers_and_deletion_clears_every_reference(app: Flask, db_session: Session,
                                                           storage: FolderStorage) -> None:
    world = person_everywhere(db_session, storage)
    person = world["person"]
    uid = person.id
    with app.test_request_context():
        archive = export.build_archive(db_session, storage, person)
    doc = json.loads(zipfile.ZipFile(io.BytesIO(archive.data)).read("portfolio.json"))
    jsonschema.validate(doc, SCHEMA, format_checker=jsonschema.FormatChecker())

    for reference in REFERENCES:
        rows = ids_referencing(db_session, reference.table, reference.column, uid)
        assert rows, f"the test person does not appear in {reference.table}.{reference.column}: extend the builder"
        if reference.section == MENTIONS:
            exported = set(doc[MENTIONS][mention_key(reference)])
        else:
            exported = {item["id"] for item in doc[reference.section]}
        assert rows <= exported, f"{reference.table}.{reference.column} rows {rows - exported} are not exported"
    assert doc["entries"][0]["body_markdown"] == "Des **tomates**"
    assert doc["enrolments"][0]["interview"]["projects"] == "Écrire à mes petits-enfants"
    assert doc["assessments"][0]["evidence"] == [world["entry"].id]
    reader_event = next(e for e in doc["audit_events"] if e["action"] == "journal.read")
    assert reader_event["about_me"] and reader_event["ip"] is None  # not the reader's address

    db_session.commit()
    alias = services.delete_account(db_session, storage, person, app.config["SECRET_KEY"])
    db_session.commit()

    for reference in REFERENCES:
        assert ids_referencing(db_session, reference.table, reference.column, uid) == set(), reference
    assert db_session.scalar(sa.select(sa.func.count()).select_from(User).where(User.id == uid)) == 0
    assert not storage.exists(world["photo"].storage_key) and not storage.exists(world["photo"].thumbnail_key)
    # What others must keep stays, without the person's identity.
    ticket = db_session.get(Ticket, world["ticket"].id)
    assert ticket is not None
    db_session.refresh(ticket)
    assert (ticket.first_name, ticket.last_name, ticket.phone) == ("(effacé)", "(effacé)", "")
    interview = db_session.scalars(sa.select(PositioningInterview).where(
        PositioningInterview.enrolment_id == world["enrolment"].id)).one()
    db_session.refresh(interview)
    assert interview.projects == "" and interview.notes == ""
    assert db_session.scalar(sa.select(sa.func.count(Attendance.id)).where(
        Attendance.enrolment_id == world["enrolment"].id)) == 1
    # Her badge is revoked (its status-list bit stays set) and emptied of what named her.
    badge = db_session.get(type(world["badge"]), world["badge"].id)
    db_session.refresh(badge)
    assert (badge.status, badge.revocation_reason, badge.document, badge.content) == (
        "revoked", "account_deleted", None, None)
    # The audit log keeps its events under a pseudonym; nothing names the person any more.
    events = db_session.scalars(sa.select(AuditEvent)).all()
    for event in events:
        db_session.refresh(event)
    text = json.dumps([[e.actor_name, e.details] for e in events], ensure_ascii=False)
    assert "Odette" not in text and person.username not in text
    names = db_session.scalars(sa.select(SettingChange.changed_by_name).where(SettingChange.key == "ticket.hours"))
    assert list(names) == [alias]  # the setting changed stays, under the pseudonym
    assert any(e.actor_name == alias and e.action == "auth.login" for e in events)
    assert any(e.action == "auth.login_failed" and e.details == {"username": alias} for e in events)
    assert any(e.action == "account.deleted" and e.details == {"pseudonym": alias} for e in events)
    # Nobody else's data was touched.
    assert db_session.get(JournalEntry, world["others_entry"].id) is not None
    assert db_session.get(User, world["reader"].id) is not None
    for model in (JournalEntry, Photo, Assessment, Consent, Submission):
        owner_column = getattr(model, "owner_id", None) or model.learner_id
        assert db_session.scalar(sa.select(sa.func.count()).select_from(model).where(owner_column == uid)) == 0


def test_the_archive_is_an_offline_site_with_json_and_leap2a(app: Flask, db_session: Session,
                                                             storage: FolderStorage) -> None:
    world = person_everywhere(db_session, storage)
    with app.test_request_context():
        archive = export.build_archive(db_session, storage, world["person"])
    zipped = zipfile.ZipFile(io.BytesIO(archive.data))
    names = set(zipped.namelist())
    entry, photo = world["entry"], world["photo"]
    assert {"index.html", "style.css", "portfolio.json", "leap2a.xml", f"entries/{entry.id}.html",
            f"photos/{photo.id}.jpg", f"photos/{photo.id}-miniature.jpg"} <= names
    assert archive.filename.startswith(f"ticketnet-{world['person'].username}-")
    # Every local link of the site points at a file of the archive: it opens offline.
    for page in [n for n in names if n.endswith(".html")]:
        html = zipped.read(page).decode()
        folder = Path(page).parent
        for target in re.findall(r'(?:href|src)="([^"#]+)"', html):
            assert not target.startswith(("http:", "https:", "//", "/")), (page, target)
            resolved = (folder / target).as_posix().replace("entries/../", "")
            assert resolved in names, (page, target)
    assert zipped.read(f"photos/{photo.id}.jpg") == storage.read(photo.storage_key)
    assert "Des <strong>tomates</strong>" in zipped.read(f"entries/{entry.id}.html").decode()

    feed = etree.fromstring(zipped.read("leap2a.xml"))
    assert feed.tag == f"{{{export.ATOM}}}feed"
    assert feed.findtext("leap2:version", namespaces=NS) == "http://www.leapspecs.org/2010-07/2A/"

    def of_type(kind: str) -> list[Any]:
        return [e for e in feed.findall("a:entry", NS)
                if e.find("rdf:type", NS).get(f"{{{export.RDF}}}resource") == f"leap2:{kind}"]

    (blog,) = of_type("selection")
    assert blog.find("a:category", NS).attrib == {"term": "Blog", "scheme": "categories:selection_type#"}
    parts = [link.get("href") for link in blog.findall("a:link[@rel='leap2:has_part']", NS)]
    entries = of_type("entry")
    assert parts == [e.findtext("a:id", namespaces=NS) for e in entries] == [f"portfolio:entry{entry.id}"]
    (item,) = entries
    assert item.find("a:content", NS).get("type") == "html"
    assert "<strong>tomates</strong>" in item.findtext("a:content", namespaces=NS)
    assert item.find("a:link[@rel='leap2:is_part_of']", NS).get("href") == "portfolio:journal"
    assert item.find("a:link[@rel='leap2:has_attachment']", NS).get("href") == f"portfolio:photo{photo.id}"
    (resource,) = of_type("resource")
    assert resource.find("a:content", NS).get("src") in names
    abilities = of_type("ability")
    assert abilities and all(a.findtext("a:title", namespaces=NS) for a in abilities)
    assert item.find("a:link[@rel='leap2:is_evidence_of']", NS) is not None


def test_download_page_and_zip(client: Any, login_as: Any, db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    factories.journal_entry(db_session, learner, title="Mon texte")
    login_as(user=learner)
    assert "Tout télécharger" in client.get("/mes-donnees").get_data(as_text=True)
    response = client.get("/mes-donnees/tout-telecharger.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    doc = json.loads(zipfile.ZipFile(io.BytesIO(response.data)).read("portfolio.json"))
    assert [e["title"] for e in doc["entries"]] == ["Mon texte"]
    assert db_session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.action == "privacy.export", AuditEvent.subject_user_id == learner.id)) == 1


def test_cli_export(runner: Any, db_session: Session, tmp_path: Path) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY, username="odette.lafon")
    factories.journal_entry(db_session, learner, title="Depuis la ligne de commande")
    db_session.commit()
    target = tmp_path / "odette.zip"
    result = runner.invoke(args=["export", "portfolio", "odette.lafon", "-o", str(target)])
    assert result.exit_code == 0, result.output
    doc = json.loads(zipfile.ZipFile(target).read("portfolio.json"))
    assert doc["account"]["username"] == "odette.lafon"
    assert doc["entries"][0]["title"] == "Depuis la ligne de commande"
    result = runner.invoke(args=["export", "portfolio", "personne", "-o", str(tmp_path / "x.zip")])
    assert result.exit_code == 1 and "compte inconnu : personne" in result.output
    assert not (tmp_path / "x.zip").exists()


def test_delete_my_account_asks_for_the_password(client: Any, login_as: Any, db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    factories.journal_entry(db_session, learner)
    uid = learner.id
    login_as(user=learner)
    assert "Supprimer mon compte" in client.get("/mes-donnees/supprimer-mon-compte").get_data(as_text=True)
    page = client.post_form("/mes-donnees/supprimer-mon-compte", {"understood": "y", "password": "wrong"})
    assert page.status_code == 200 and "Ce n&#39;est pas le bon mot de passe" in page.get_data(as_text=True)
    page = client.post_form("/mes-donnees/supprimer-mon-compte", {"password": factories.PASSWORD})
    assert "Cochez la case pour confirmer." in page.get_data(as_text=True)
    assert db_session.get(User, uid) is not None
    response = client.post_form("/mes-donnees/supprimer-mon-compte",
                                {"understood": "y", "password": factories.PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    db_session.expunge_all()
    assert db_session.get(User, uid) is None
    assert client.get("/journal").status_code == 302  # signed out
    assert "Votre compte et vos données sont supprimés" in client.get("/", follow_redirects=True).get_data(
        as_text=True)
