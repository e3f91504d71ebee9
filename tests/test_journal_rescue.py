"""Without JavaScript, a text sent after the session ended is kept as a draft in its owner's journal and
published when that person signs in again from the same browser; nobody else can plant or publish one."""

from __future__ import annotations

import io
import re
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from portfolio.auth.models import Role
from portfolio.journal import rescue, services
from portfolio.journal.models import JournalEntry, Photo
from tests import factories
from tests.test_photos import phone_photo

KEEPER = re.compile(r'name="keeper" type="hidden" value="([^"]+)"')
SAME_SITE = {"Origin": "http://localhost"}


def editor_keeper(client: Any, url: str = "/journal/nouveau") -> str:
    match = KEEPER.search(client.get(url).get_data(as_text=True))
    assert match, "the editor carries no keeper"
    return match.group(1)


def entries_of(session: Session, owner_id: int) -> list[JournalEntry]:
    session.expire_all()
    return list(session.scalars(sa.select(JournalEntry).where(JournalEntry.owner_id == owner_id)))


def sign_in(client: Any, user: Any, login_url: str) -> Any:
    """Sign in through the page the rescue sent the browser to (``/login?next=...``)."""
    login = client.get(login_url).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login)
    assert token
    return client.post(login_url, data={
        "csrf_token": token.group(1), "username": user.username, "password": factories.PASSWORD})


def session_of(session: Session, user: Any, new: bool = False) -> int:
    """The id of ``user``'s latest signed-in session record (``new``: a record made for them now)."""
    from portfolio.account.models import SignedInSession

    if new:
        record = SignedInSession(user_id=user.id, token_hash=f"{factories._n():064d}")
        session.add(record)
        session.commit()
        return record.id
    return session.scalars(sa.select(SignedInSession.id).where(SignedInSession.user_id == user.id)
                           .order_by(SignedInSession.id.desc())).first()


def expire_browser_session(client: Any) -> None:
    client.delete_cookie("ticketnet_session")  # the cookie outlived its idle time in the browser


def send_after_expiry(client: Any, keeper: str, url: str = "/journal/nouveau", headers: dict[str, str] | None = None,
                      **fields: Any) -> Any:
    data = {"keeper": keeper, "title": "Mon premier courriel", "body_md": "J'ai écrit à ma fille.",
            "entry_date": "2026-11-20", "visibility": "epm", "tags": "courriel", "action": "publish", **fields}
    return client.post(url, data=data, headers=SAME_SITE if headers is None else headers,
                       content_type="multipart/form-data")


def test_published_after_the_same_person_signs_in_again(client: Any, login_as: Any, db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    login_as(user=learner)
    keeper = editor_keeper(client)
    expire_browser_session(client)
    response = send_after_expiry(client, keeper)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    [entry] = entries_of(db_session, learner.id)
    assert (entry.title, entry.body_md, entry.status, entry.visibility) == (
        "Mon premier courriel", "J'ai écrit à ma fille.", "draft", "epm")  # kept at once, on the server
    assert [t.tag for t in services.load_entry(db_session, entry.id).tags] == ["courriel"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Votre texte est gardé. Connectez-vous : il sera publié." in page
    signed_in = sign_in(client, learner, response.headers["Location"])
    assert signed_in.headers["Location"] == f"/journal/{entry.id}"
    [entry] = entries_of(db_session, learner.id)
    assert entry.status == "published" and entry.published_at is not None
    assert "Votre texte est publié dans votre journal." in client.get(f"/journal/{entry.id}").get_data(as_text=True)


def test_a_draft_stays_a_draft_and_an_edited_entry_is_updated_not_copied(
        client: Any, login_as: Any, db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    login_as(user=learner)
    client.post_form("/journal/nouveau", {"title": "Avant", "body_md": "Début", "action": "draft"})
    [entry] = entries_of(db_session, learner.id)
    keeper = editor_keeper(client, f"/journal/{entry.id}/modifier")
    expire_browser_session(client)
    response = send_after_expiry(client, keeper, f"/journal/{entry.id}/modifier", body_md="Début et suite",
                                 action="draft")
    assert response.status_code == 302 and f"next=/journal/{entry.id}/modifier" in response.headers["Location"]
    assert "brouillon" in client.get(response.headers["Location"]).get_data(as_text=True)
    sign_in(client, learner, response.headers["Location"])
    [kept] = entries_of(db_session, learner.id)
    assert (kept.id, kept.body_md, kept.status) == (entry.id, "Début et suite", "draft")


def test_a_published_entry_is_never_changed_by_a_keeper(client: Any, login_as: Any, db_session: Session) -> None:
    """She opens her published entry, then signs out; someone at the computer sends the form again (or her
    other tab does): the published text stays as it was, what was sent waits beside it as a new draft."""
    learner = factories.user(db_session, Role.BENEFICIARY)
    published = factories.journal_entry(db_session, learner, title="Ma recette", body_md="La vraie recette.",
                                        visibility="epm")
    login_as(user=learner)
    keeper = editor_keeper(client, f"/journal/{published.id}/modifier")
    client.post_form("/logout")
    response = send_after_expiry(client, keeper, f"/journal/{published.id}/modifier", title="Ma recette",
                                 body_md="Remplacé par quelqu'un d'autre.", visibility="private")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "le texte déjà publié n&#39;a pas changé" in page
    entries = {e.id: e for e in entries_of(db_session, learner.id)}
    assert (entries[published.id].body_md, entries[published.id].status, entries[published.id].visibility) == (
        "La vraie recette.", "published", "epm")
    [copy] = [e for e in entries.values() if e.id != published.id]
    assert (copy.body_md, copy.status) == ("Remplacé par quelqu'un d'autre.", "draft")
    sign_in(client, learner, response.headers["Location"])  # her next sign-in publishes nothing by itself
    assert {e.id: e.status for e in entries_of(db_session, learner.id)} == {published.id: "published",
                                                                           copy.id: "draft"}


def test_without_a_title_it_waits_as_a_draft(client: Any, login_as: Any, db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    login_as(user=learner)
    keeper = editor_keeper(client)
    expire_browser_session(client)
    response = send_after_expiry(client, keeper, title="  ")
    [entry] = entries_of(db_session, learner.id)
    assert response.headers["Location"].endswith(f"next=/journal/{entry.id}/modifier")
    sign_in(client, learner, response.headers["Location"])
    assert entries_of(db_session, learner.id)[0].status == "draft"


def test_photos_sent_with_the_text_are_kept_too(client: Any, login_as: Any, db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    login_as(user=learner)
    keeper = editor_keeper(client)
    expire_browser_session(client)
    send_after_expiry(client, keeper, photo_alt="Le clavier",
                      photos=(io.BytesIO(phone_photo(800, 600)), "IMG_0002.JPG"))
    [entry] = entries_of(db_session, learner.id)
    photo = db_session.scalars(sa.select(Photo).where(Photo.entry_id == entry.id)).one()
    assert photo.alt_text == "Le clavier"


def test_kept_also_when_the_session_was_ended_on_the_server(client: Any, login_as: Any, db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    login_as(user=learner)
    keeper = editor_keeper(client)
    token = client.csrf_token()
    learner.session_version += 1  # signed out everywhere from another device: the cookie is still here
    db_session.commit()
    response = send_after_expiry(client, keeper, csrf_token=token)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    assert entries_of(db_session, learner.id)[0].body_md == "J'ai écrit à ma fille."


def test_someone_else_signing_in_does_not_publish_it(client: Any, login_as: Any, db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    neighbour = factories.user(db_session, Role.BENEFICIARY)
    login_as(user=learner)
    keeper = editor_keeper(client)
    expire_browser_session(client)
    response = send_after_expiry(client, keeper)
    sign_in(client, neighbour, response.headers["Location"])  # the next person at the EPM's computer
    [entry] = entries_of(db_session, learner.id)
    assert entry.status == "draft"  # still in its owner's journal, for them to find
    assert entries_of(db_session, neighbour.id) == []
    with client.session_transaction() as browser_session:
        assert rescue.PENDING not in browser_session  # and no later sign-in publishes it either


def test_refused_without_a_valid_keeper_or_from_another_site(
        app: Flask, client: Any, login_as: Any, db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    other = factories.user(db_session, Role.BENEFICIARY)
    staff = factories.user(db_session, Role.ANIMATOR)
    login_as(user=other)
    client.post_form("/journal/nouveau", {"title": "À moi", "body_md": "Mon texte", "action": "draft"})
    [others_entry] = entries_of(db_session, other.id)
    login_as(user=learner)
    keeper = editor_keeper(client)
    expire_browser_session(client)
    learner_session, other_session = session_of(db_session, learner), session_of(db_session, other)
    staff_session = session_of(db_session, staff, new=True)
    with app.test_request_context():
        forged = {
            "none": "",
            "garbage": "abc.def",
            "other secret": keeper[:-2] + ("AA" if not keeper.endswith("AA") else "BB"),
            "staff": rescue.keeper_for(staff.id, None, staff_session),
            "someone else's entry": rescue.keeper_for(learner.id, others_entry.id, learner_session),
            "no session": rescue.keeper_for(learner.id, None, None),
            "a session that never was": rescue.keeper_for(learner.id, None, 10**9),
            "someone else's session": rescue.keeper_for(learner.id, None, other_session),
        }
    for case, token in forged.items():
        response = send_after_expiry(client, token)
        assert response.status_code == 400, case
        assert "Le formulaire a expiré" in response.get_data(as_text=True), case
    assert send_after_expiry(client, keeper, headers={"Origin": "https://example.org"}).status_code == 400
    assert send_after_expiry(client, keeper, headers={}).status_code == 400  # neither Origin nor Referer
    edit_other = send_after_expiry(client, keeper, f"/journal/{others_entry.id}/modifier")
    assert edit_other.status_code == 400  # a keeper for a new entry does not open someone's entry
    assert entries_of(db_session, learner.id) == []
    assert [e.body_md for e in entries_of(db_session, other.id)] == ["Mon texte"]


def test_an_old_keeper_is_refused(app: Flask, client: Any, login_as: Any, db_session: Session,
                                  monkeypatch: Any) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    login_as(user=learner)
    keeper = editor_keeper(client)
    expire_browser_session(client)
    monkeypatch.setitem(app.config, "SESSION_MAX_HOURS", 0)
    import time

    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 5)
    assert send_after_expiry(client, keeper).status_code == 400
    assert entries_of(db_session, learner.id) == []


def test_a_signed_in_forged_post_is_still_refused(client: Any, login_as: Any, db_session: Session) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    login_as(user=learner)
    keeper = editor_keeper(client)
    response = send_after_expiry(client, keeper, csrf_token="forged")  # signed in, wrong CSRF token
    assert response.status_code == 400
    assert entries_of(db_session, learner.id) == []


def test_kept_when_the_session_reached_its_maximum_lifetime(client: Any, login_as: Any, db_session: Session) -> None:
    import time

    learner = factories.user(db_session, Role.BENEFICIARY)
    login_as(user=learner)
    keeper = editor_keeper(client)
    token = client.csrf_token()
    with client.session_transaction() as browser_session:
        browser_session["signed_in_at"] = int(time.time()) - 13 * 3600  # active, but signed in too long ago
    response = send_after_expiry(client, keeper, csrf_token=token)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=/journal/")
    assert entries_of(db_session, learner.id)[0].body_md == "J'ai écrit à ma fille."
