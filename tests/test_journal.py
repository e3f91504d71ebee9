"""The journal: writing, publishing, who reads what, photos behind a permission check, keyset pages."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from portfolio import asset_dir
from portfolio.auth.models import Role
from portfolio.journal import services
from portfolio.journal.models import EntryStatus, JournalEntry, Photo, Visibility
from portfolio.journal.storage import FolderStorage
from portfolio.permissions import can_read_entry, readable_visibilities
from portfolio.sharing.models import Consent, ConsentScope
from tests import factories
from tests.test_photos import phone_photo

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture
def storage(app: Flask) -> FolderStorage:
    return FolderStorage(app.config["UPLOAD_DIR"])


def learner_at_epm(session: Session) -> tuple[Any, Any, Any]:
    epm = factories.organisation(session)
    learner = factories.user(session, Role.BENEFICIARY, epm, first_name="Odette")
    animator = factories.user(session, Role.ANIMATOR, epm)
    factories.enrolment(session, factories.ticket(session), epm, learner)
    return learner, animator, epm


# --- Services ----------------------------------------------------------------------------------


def test_save_renders_markdown_once_and_keeps_tags_clean(db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    data = services.EntryInput(title="  Mon premier courriel ", body_md="J'ai écrit à **ma fille**.\r\n",
                               entry_date=dt.date(2024, 3, 5), tags="courriel, #famille, Courriel,  ")
    entry = services.save_entry(db_session, learner, data)
    assert entry.status == EntryStatus.DRAFT.value and entry.published_at is None
    assert entry.title == "Mon premier courriel"
    assert entry.body_md == "J'ai écrit à **ma fille**.\n"
    assert "<strong>ma fille</strong>" in entry.body_html
    assert [t.tag for t in entry.tags] == ["courriel", "famille"]
    services.save_entry(db_session, learner, services.EntryInput(title="x", body_md="y", tags="famille, jardin"),
                        entry, publish=True)
    assert entry.status == EntryStatus.PUBLISHED.value and entry.published_at is not None
    assert [t.tag for t in entry.tags] == ["famille", "jardin"]


def test_only_the_owner_writes_an_entry(db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    other = factories.user(db_session, Role.BENEFICIARY)
    entry = services.save_entry(db_session, learner, services.EntryInput(title="À moi"))
    with pytest.raises(PermissionError):
        services.save_entry(db_session, other, services.EntryInput(title="volé"), entry)


def test_links_to_sessions_the_learner_did_not_attend_are_dropped(db_session: Session) -> None:
    learner, _animator, epm = learner_at_epm(db_session)
    enrolment = db_session.scalars(sa.text("SELECT id FROM enrolment WHERE learner_id = :id"),
                                   {"id": learner.id}).one()
    attended = factories.workshop(db_session, epm, NOW - dt.timedelta(days=3))
    from portfolio.enrolment.models import Attendance

    db_session.add(Attendance(session_id=attended.id, enrolment_id=enrolment, status="present"))
    stranger = factories.workshop(db_session, factories.organisation(db_session), NOW)
    db_session.flush()
    entry = services.save_entry(db_session, learner, services.EntryInput(title="a", session_id=stranger.id))
    assert entry.session_id is None
    services.save_entry(db_session, learner, services.EntryInput(title="a", session_id=attended.id), entry)
    assert entry.session_id == attended.id


def test_keyset_pages_walk_the_whole_journal_once_newest_first(db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    day = dt.date(2024, 1, 1)
    made = [factories.journal_entry(db_session, learner, entry_date=day + dt.timedelta(days=i // 2)) for i in range(7)]
    seen: list[int] = []
    cursor = None
    while True:
        page = services.entries_page(db_session, learner.id, after=cursor, limit=3)
        seen += [e.id for e in page.entries]
        cursor = page.next_cursor
        if cursor is None:
            break
        assert services.Cursor.decode(cursor.encode()) == cursor
    expected = [e.id for e in sorted(made, key=lambda e: (e.entry_date, e.id), reverse=True)]
    assert seen == expected


def test_cursor_decoding_refuses_garbage() -> None:
    for raw in ("", "x", "2024-13-01_4", "2024-01-01", "2024-01-01_-3", "2024-01-01_1;drop"):
        assert services.Cursor.decode(raw) is None


# --- Who reads what ----------------------------------------------------------------------------


def test_visibility_for_owner_epm_animator_other_staff_and_consent(app: Flask, db_session: Session) -> None:
    learner, animator, _epm = learner_at_epm(db_session)
    other_animator = factories.user(db_session, Role.ANIMATOR)
    assessor = factories.user(db_session, Role.ASSESSOR)
    prescriber = factories.user(db_session, Role.PRESCRIBER)
    coordinator = factories.user(db_session, Role.COORDINATOR)
    private = factories.journal_entry(db_session, learner, visibility=Visibility.PRIVATE.value)
    shared = factories.journal_entry(db_session, learner, visibility=Visibility.EPM.value)
    draft = factories.journal_entry(db_session, learner, visibility=Visibility.EPM.value,
                                    status=EntryStatus.DRAFT.value)
    consented = factories.journal_entry(db_session, learner, visibility=Visibility.CONSENTED.value)
    with app.test_request_context():
        assert all(can_read_entry(learner, e) for e in (private, shared, draft, consented))
        assert [can_read_entry(animator, e) for e in (private, shared, draft, consented)] == [False, True, False,
                                                                                              False]
        for stranger in (other_animator, assessor, prescriber, coordinator):
            assert not any(can_read_entry(stranger, e) for e in (private, shared, draft, consented))
    consent = Consent(owner_id=learner.id, organisation_id=assessor.memberships[0].organisation_id,
                      scope=ConsentScope.JOURNAL.value, ends_at=NOW + dt.timedelta(days=30), text_hash="0" * 64)
    db_session.add(consent)
    db_session.flush()
    with app.test_request_context():
        assert readable_visibilities(assessor, learner.id) == {Visibility.CONSENTED.value}
        assert can_read_entry(assessor, consented) and not can_read_entry(assessor, shared)
    consent.revoked_at = NOW
    db_session.flush()
    with app.test_request_context():  # revoking takes effect on the next request
        assert not can_read_entry(assessor, consented)
    consent.revoked_at, consent.scope = None, ConsentScope.COMPETENCES.value
    db_session.flush()
    with app.test_request_context():  # a consent for competences only does not open the journal
        assert not can_read_entry(assessor, consented)


# --- Pages -------------------------------------------------------------------------------------


def test_journal_page_lists_my_entries_with_drafts(client: Any, login_as: Any, db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    factories.journal_entry(db_session, learner, title="Publié <b>ici</b>")
    factories.journal_entry(db_session, learner, title="Mon brouillon", status=EntryStatus.DRAFT.value)
    factories.journal_entry(db_session, factories.user(db_session, Role.BENEFICIARY), title="Pas à moi")
    login_as(user=learner)
    page = client.get("/journal").get_data(as_text=True)
    assert "Publié &lt;b&gt;ici&lt;/b&gt;" in page and "Mon brouillon" in page and "Brouillon" in page
    assert "Pas à moi" not in page
    assert 'href="/journal"' in page and "Mon journal" in page  # the navigation entry


def test_journal_page_query_count_does_not_grow(client: Any, login_as: Any, db_session: Session,
                                                count_queries: Any, storage: FolderStorage) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    login_as(user=learner)

    def queries() -> int:
        with count_queries() as counter:
            assert client.get("/journal").status_code == 200
        return counter.count

    entry = factories.journal_entry(db_session, learner)
    factories.photo(db_session, storage, entry)
    db_session.commit()
    few = queries()
    for i in range(30):
        entry = factories.journal_entry(db_session, learner, body_md=f"Texte {i}")
        db_session.add_all([])
        services.save_entry(db_session, learner, services.EntryInput(title=f"t{i}", tags="a, b"), entry)
        if i % 5 == 0:
            factories.photo(db_session, storage, entry)
    db_session.commit()
    many = queries()
    assert many == few
    assert many <= 6, many


def test_journal_page_weighs_under_150_kb_without_photos(client: Any, login_as: Any, db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    for i in range(25):
        factories.journal_entry(db_session, learner, title=f"Un titre assez long numéro {i}",
                                body_md="Une phrase que l'on écrit pour raconter sa séance. " * 40)
    login_as(user=learner)
    page = client.get("/journal")
    total = len(page.data)
    for asset in set(re.findall(r'(?:href|src)="/static/([^"?]+)[^"]*"', page.get_data(as_text=True))):
        total += (asset_dir("static") / asset).stat().st_size
    assert total < 150 * 1024, total
    assert "Textes plus anciens" in page.get_data(as_text=True)


def test_editor_without_javascript_saves_a_draft_then_publishes(client: Any, login_as: Any,
                                                                db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    login_as(user=learner)
    assert "Écrire dans mon journal" in client.get("/journal/nouveau").get_data(as_text=True)
    response = client.post_form("/journal/nouveau", {
        "title": "", "body_md": "Sans titre pour l'instant", "entry_date": "2024-05-02", "visibility": "epm",
        "tags": "essai", "action": "draft"})
    assert response.status_code == 302
    entry = db_session.scalars(sa.select(JournalEntry).where(JournalEntry.owner_id == learner.id)).one()
    assert entry.status == "draft" and entry.visibility == "epm" and entry.entry_date == dt.date(2024, 5, 2)
    # Publishing needs a title: the text stays, the form says why.
    response = client.post_form(f"/journal/{entry.id}/modifier", {
        "title": "", "body_md": "Un mot de plus", "entry_date": "2024-05-02", "visibility": "epm",
        "action": "publish"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Donnez un titre à votre texte pour le publier." in page
    assert "Un mot de plus" in page
    db_session.expire_all()
    assert db_session.get(JournalEntry, entry.id).body_md == "Un mot de plus"
    response = client.post_form(f"/journal/{entry.id}/modifier", {
        "title": "Ma séance", "body_md": "Un mot de plus", "entry_date": "2024-05-02", "visibility": "epm",
        "action": "publish"})
    assert response.status_code == 302 and response.headers["Location"] == f"/journal/{entry.id}"
    db_session.expire_all()
    assert db_session.get(JournalEntry, entry.id).status == "published"
    assert "Votre texte est publié" in client.get(f"/journal/{entry.id}").get_data(as_text=True)


def test_a_photo_uploaded_with_the_form_is_stored_clean_and_served_to_readers_only(
        client: Any, login_as: Any, db_session: Session, storage: FolderStorage, app: Flask) -> None:
    learner, animator, _epm = learner_at_epm(db_session)
    login_as(user=learner)
    response = client.post_form("/journal/nouveau", {
        "title": "Au jardin", "body_md": "Une photo", "entry_date": "2024-05-02", "visibility": "epm",
        "photo_alt": "Mes tomates", "action": "publish",
        "photos": (io.BytesIO(phone_photo(2000, 1500)), "IMG_0001.JPG")},
        content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    photo = db_session.scalars(sa.select(Photo).where(Photo.owner_id == learner.id)).one()
    assert photo.alt_text == "Mes tomates" and (photo.width, photo.height) == (1200, 1600)
    stored = Path(app.config["UPLOAD_DIR"]) / photo.storage_key
    assert stored.is_file() and b"GPS" not in stored.read_bytes() and b"PhoneMaker" not in stored.read_bytes()
    assert "static" not in str(stored.relative_to(Path(app.config["UPLOAD_DIR"]).parent))
    url = f"/journal/photos/{photo.id}/grande"
    served = client.get(url)
    assert served.status_code == 200 and served.mimetype == "image/jpeg" and served.data == stored.read_bytes()
    assert "private" in served.headers["Cache-Control"]
    client.post_form("/logout")
    login_as(user=animator)
    assert client.get(url).status_code == 200  # shared with the EPM
    client.post_form("/logout")
    login_as(Role.ANIMATOR)  # an animator of another EPM
    assert client.get(url).status_code == 404
    assert client.get(f"/journal/{photo.entry_id}").status_code == 404


def test_a_partner_reading_a_photo_is_audited_like_an_entry(client: Any, login_as: Any, db_session: Session,
                                                            storage: FolderStorage) -> None:
    from portfolio.audit.models import AuditEvent

    learner, animator, epm = learner_at_epm(db_session)
    entry = factories.journal_entry(db_session, learner, visibility=Visibility.EPM.value)
    photo = factories.photo(db_session, storage, entry)
    login_as(user=learner)
    assert client.get(f"/journal/photos/{photo.id}/miniature").status_code == 200  # her own: not a "read"
    client.post_form("/logout")
    login_as(user=animator)
    for size in ("miniature", "grande"):
        assert client.get(f"/journal/photos/{photo.id}/{size}").status_code == 200
    db_session.expire_all()
    events = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "journal.photo_read")
                                .order_by(AuditEvent.id)).all()
    assert [(e.actor_id, e.subject_user_id, e.organisation_id, e.target_type, e.target_id, e.details["size"])
            for e in events] == [(animator.id, learner.id, epm.id, "photo", str(photo.id), "miniature"),
                                 (animator.id, learner.id, epm.id, "photo", str(photo.id), "grande")]
    client.post_form("/logout")
    login_as(user=learner)
    page = client.get("/moi/partage/consultations").get_data(as_text=True)
    assert page.count("une photo de votre journal") == 1 and "une photo de votre journal 2 fois" in page  # one day


def test_a_refused_photo_keeps_the_text_and_does_not_publish(client: Any, login_as: Any, db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    login_as(user=learner)
    response = client.post_form("/journal/nouveau", {
        "title": "Mon texte", "body_md": "Tout ce que j'ai écrit", "entry_date": "2024-05-02", "visibility": "private",
        "action": "publish", "photos": (io.BytesIO(b"not an image"), "photo.jpg")},
        content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "photo.jpg : Ce fichier n&#39;est pas une photo" in page
    entry = db_session.scalars(sa.select(JournalEntry).where(JournalEntry.owner_id == learner.id)).one()
    assert entry.body_md == "Tout ce que j'ai écrit" and entry.status == "draft"


def test_a_photo_the_disk_refuses_keeps_the_text_and_leaves_no_half_entry(
        client: Any, login_as: Any, db_session: Session, app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    from portfolio import uploads
    from portfolio.journal import storage as storage_module

    real_write, calls = uploads.write_upload, []

    def thumbnail_refused(key: str, data: bytes, root: Path | None = None) -> Path:
        calls.append(key)
        if key.endswith("-thumb.jpg"):
            raise uploads.UploadWriteError("disk full")
        return real_write(key, data, root)

    monkeypatch.setattr(storage_module, "write_upload", thumbnail_refused)
    learner = factories.user(db_session, Role.BENEFICIARY)
    login_as(user=learner)
    response = client.post_form("/journal/nouveau", {
        "title": "Au jardin", "body_md": "Tout ce que j'ai écrit", "entry_date": "2024-05-02", "visibility": "private",
        "action": "publish", "photos": (io.BytesIO(phone_photo(800, 600)), "IMG_0002.JPG")},
        content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Votre texte est gardé" in page and "Tout ce que j&#39;ai écrit" in page
    entry = db_session.scalars(sa.select(JournalEntry).where(JournalEntry.owner_id == learner.id)).one()
    assert entry.body_md == "Tout ce que j'ai écrit" and entry.status == "draft"  # kept, not published
    assert db_session.scalars(sa.select(Photo).where(Photo.owner_id == learner.id)).all() == []
    assert len(calls) == 2  # the photo was written, then its thumbnail refused...
    assert not (Path(app.config["UPLOAD_DIR"]) / calls[0]).exists()  # ...and the photo removed again


def test_autosave_endpoint_creates_then_updates_a_draft(client: Any, login_as: Any, db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    login_as(user=learner)
    token = client.csrf_token()
    headers = {"Accept": "application/json"}
    response = client.post("/journal/enregistrer", data={
        "csrf_token": token, "title": "", "body_md": "Je commence", "visibility": "private", "action": "autosave"},
        headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == "draft" and body["save_url"] == f"/journal/{body['id']}/enregistrer"
    response = client.post(body["save_url"], data={
        "csrf_token": token, "title": "Titre", "body_md": "Je commence et je continue", "visibility": "private",
        "action": "autosave"}, headers=headers)
    assert response.status_code == 200 and response.get_json()["id"] == body["id"]
    entry = db_session.get(JournalEntry, body["id"])
    assert entry is not None and entry.body_md == "Je commence et je continue" and entry.status == "draft"
    response = client.post(body["save_url"], data={
        "csrf_token": token, "title": "Titre", "body_md": "Fini", "visibility": "private", "action": "publish"},
        headers=headers)
    assert response.status_code == 200 and response.get_json()["status"] == "published"


def test_autosave_answers_401_when_the_session_has_expired_and_400_on_a_bad_token(
        client: Any, login_as: Any, db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    login_as(user=learner)
    token = client.csrf_token()
    assert client.post("/journal/enregistrer", data={"title": "x", "body_md": "y", "csrf_token": "forged"},
                       headers={"Accept": "application/json"}).status_code == 400
    client.delete_cookie("ticketnet_session")  # the cookie expired in the browser
    response = client.post("/journal/enregistrer", data={"csrf_token": token, "title": "x", "body_md": "mes mots"},
                           headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.get_json()["error"] == "signed_out" and "reconnectez-vous" in response.get_json()["message"]
    assert db_session.scalar(sa.select(sa.func.count(JournalEntry.id)).where(
        JournalEntry.owner_id == learner.id)) == 0


def test_nobody_else_edits_or_deletes_my_entries(client: Any, login_as: Any, db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    entry = factories.journal_entry(db_session, learner, visibility=Visibility.EPM.value)
    login_as(Role.BENEFICIARY)
    token = client.csrf_token()
    assert client.get(f"/journal/{entry.id}/modifier").status_code == 404
    assert client.get(f"/journal/{entry.id}").status_code == 404
    assert client.post(f"/journal/{entry.id}/enregistrer", data={"csrf_token": token, "title": "pirate"},
                       headers={"Accept": "application/json"}).status_code == 404
    assert client.post_form(f"/journal/{entry.id}/supprimer").status_code == 404
    db_session.expire_all()
    assert db_session.get(JournalEntry, entry.id).title != "pirate"


def test_deleting_an_entry_removes_its_photo_files_after_the_commit(
        client: Any, login_as: Any, db_session: Session, storage: FolderStorage) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    entry = factories.journal_entry(db_session, learner)
    photo = factories.photo(db_session, storage, entry)
    login_as(user=learner)
    assert "Supprimer « " in client.get(f"/journal/{entry.id}/supprimer").get_data(as_text=True)
    assert client.post_form(f"/journal/{entry.id}/supprimer").status_code == 302
    assert not storage.exists(photo.storage_key) and not storage.exists(photo.thumbnail_key)
    assert db_session.scalar(sa.select(sa.func.count(JournalEntry.id)).where(JournalEntry.id == entry.id)) == 0


def test_files_survive_a_rolled_back_deletion(db_session: Session, storage: FolderStorage) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    entry = factories.journal_entry(db_session, learner)
    photo = factories.photo(db_session, storage, entry)
    db_session.commit()
    services.delete_entry(db_session, storage, entry)
    db_session.rollback()
    assert storage.exists(photo.storage_key)


def test_the_epm_reads_shared_entries_and_each_read_is_audited(client: Any, login_as: Any,
                                                               db_session: Session) -> None:
    from portfolio.audit.models import AuditEvent

    learner, animator, _epm = learner_at_epm(db_session)
    factories.journal_entry(db_session, learner, title="Pour mon EPM", visibility=Visibility.EPM.value)
    factories.journal_entry(db_session, learner, title="Secret", visibility=Visibility.PRIVATE.value)
    factories.journal_entry(db_session, learner, title="Brouillon partagé", visibility=Visibility.EPM.value,
                            status=EntryStatus.DRAFT.value)
    login_as(user=animator)
    page = client.get(f"/journal/apprenant/{learner.id}").get_data(as_text=True)
    assert "Pour mon EPM" in page and "Secret" not in page and "Brouillon partagé" not in page
    events = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "journal.read")).all()
    assert [(e.actor_id, e.subject_user_id) for e in events] == [(animator.id, learner.id)]
    assert client.get(f"/journal/apprenant/{factories.user(db_session, Role.BENEFICIARY).id}").status_code == 404


def test_json_errors_are_in_french(client: Any, login_as: Any, db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    login_as(user=learner)
    response = client.post("/journal/enregistrer", data={
        "csrf_token": client.csrf_token(), "title": "x" * 300, "body_md": "", "action": "autosave"},
        headers={"Accept": "application/json"})
    assert response.status_code == 422
    assert "200 caractères" in json.dumps(response.get_json(), ensure_ascii=False)
