"""Faults: the database goes away and comes back; a file cannot be written.

The database test puts a TCP proxy between the application and PostgreSQL and cuts it: pages answer the
French 503 page, /healthz answers 503 ``"database": "down"``, and both recover by themselves once the
proxy forwards again, without restarting anything. (SQLite is a local file: there is no link to cut.)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, abort, render_template_string, request
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from portfolio import create_app
from portfolio.auth.models import Role
from portfolio.bootstrap import initialise
from portfolio.extensions import db
from portfolio.journal.models import JournalEntry
from portfolio.permissions import public
from portfolio.uploads import UploadWriteError, upload_failed_message, upload_path, write_upload
from tests import conftest, factories
from tests.conftest import app_overrides
from tests.databases import fresh_database, is_postgres
from tests.tcpproxy import TCPProxy

CODE = re.compile(r"code d'erreur : ([A-Za-z0-9-]+)")


@pytest.fixture
def proxied(database_url: str, tmp_path: Path) -> Iterator[tuple[Flask, TCPProxy]]:
    """An application whose PostgreSQL connections go through a proxy, on an initialised database."""
    if not is_postgres(database_url):
        pytest.skip("needs PostgreSQL (TICKETNET_TEST_DATABASE_URL): SQLite has no network link to cut")
    with fresh_database(database_url) as url:
        direct = create_app(app_overrides(url, tmp_path / "direct"))
        initialise(direct)
        with direct.app_context():
            factories.user(db.session, Role.BENEFICIARY, username="lucie.roques", first_name="Lucie")
            db.session.commit()
        db.state(direct).engine.dispose()
        target = make_url(url)
        with TCPProxy(target.host or "127.0.0.1", target.port or 5432) as proxy:
            through = target.set(port=proxy.port, query={"connect_timeout": "3"})
            app = create_app(app_overrides(through.render_as_string(hide_password=False), tmp_path / "app",
                                           PROPAGATE_EXCEPTIONS=False))
            app.test_client_class = conftest.TestClient
            yield app, proxy
            db.state(app).engine.dispose()


def assert_unavailable_page(response: Any) -> None:
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    text = response.get_data(as_text=True)
    assert '<html lang="fr">' in text and "Le service est momentanément indisponible" in text
    match = CODE.search(text)
    assert match and match.group(1) == response.headers["X-Request-ID"]


def test_the_site_says_503_while_the_database_is_cut_and_recovers_by_itself(proxied: tuple[Flask, TCPProxy]) -> None:
    app, proxy = proxied
    client = app.test_client()
    assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok"}
    signed_in = client.post_form("/login", {"username": "lucie.roques", "password": factories.PASSWORD})
    assert signed_in.headers["Location"] == "/moi"
    assert "Bonjour Lucie" in client.get("/moi").get_data(as_text=True)

    for _ in range(2):  # twice: the second time the pool holds connections that died with the first cut
        proxy.cut()
        health = client.get("/healthz")
        assert health.status_code == 503 and health.get_json() == {"status": "error", "database": "down"}
        assert_unavailable_page(client.get("/moi"))
        assert_unavailable_page(client.get("/moi", headers={"X-Request-ID": "appel-support-42"}))
        proxy.restore()
        assert client.get("/healthz").status_code == 200
        page = client.get("/moi")
        assert page.status_code == 200 and "Bonjour Lucie" in page.get_data(as_text=True)


def test_a_commit_that_loses_the_database_answers_503(proxied: tuple[Flask, TCPProxy]) -> None:
    app, proxy = proxied

    @app.route("/_essai/ecrire")
    @public
    def write_then_lose_the_database() -> str:
        db.session.execute(sa.text("SELECT 1"))  # the request's transaction is open
        proxy.cut()
        return "écrit"  # the commit after the response fails

    client = app.test_client()
    response = client.get("/_essai/ecrire")
    assert_unavailable_page(response)
    proxy.restore()
    assert client.get("/healthz").status_code == 200


# Uploads that cannot be written: a view saves an entry and a photo together; its rows and its files are
# kept or dropped together, and the learner keeps their text.

FORM = """<form method="post"><textarea name="body">{{ body }}</textarea></form>
{% for message in messages %}<p role="alert">{{ message }}</p>{% endfor %}"""


@pytest.fixture
def journal_app(app: Flask, tmp_path: Path) -> Flask:
    """Test-only views following the pattern documented in ``portfolio/uploads.py``."""
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")

    @app.route("/_essai/journal", methods=["POST"])
    @public
    def save_entry() -> Any:
        entry = JournalEntry(owner_id=int(request.form["owner"]), title=request.form["title"],
                             body_md=request.form["body"], body_html="", entry_date=dt.date(2026, 3, 2))
        db.session.add(entry)
        db.session.flush()
        try:
            for n, photo in enumerate(request.files.getlist("photo")):
                write_upload(f"photos/{entry.id}-{n}.jpg", photo.read())
        except UploadWriteError:
            db.session.rollback()
            return render_template_string(FORM, body=request.form["body"], messages=[upload_failed_message()]), 503
        if request.form.get("then") == "refuse":
            abort(400)
        return {"id": entry.id}

    @app.route("/_essai/journal-sans-filet", methods=["POST"])
    @public
    def save_entry_unguarded() -> Any:
        db.session.add(JournalEntry(owner_id=int(request.form["owner"]), title="sans filet", body_md="",
                                    body_html="", entry_date=dt.date(2026, 3, 2)))
        db.session.flush()
        write_upload("photos/premiere.jpg", b"first")
        write_upload("photos/premiere.jpg/seconde.jpg", b"cannot: premiere.jpg is a file")
        return "jamais"

    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


def post_entry(client: Any, owner: int, photos: list[bytes], **extra: str) -> Any:
    import io

    data: dict[str, Any] = {"owner": str(owner), "title": "Mon jardin", "body": "J'ai pris mes tomates en photo.",
                            **extra}
    data["photo"] = [(io.BytesIO(content), f"p{n}.jpg") for n, content in enumerate(photos)]
    return client.post_form("/_essai/journal", data, content_type="multipart/form-data")


def entries(session: Session, owner: int) -> list[str]:
    session.expire_all()
    return list(session.scalars(sa.select(JournalEntry.title).where(JournalEntry.owner_id == owner)))


def files(app: Flask) -> list[str]:
    root = Path(app.config["UPLOAD_DIR"])
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_an_entry_and_its_photos_are_saved_together(journal_app: Flask, client: Any, db_session: Session) -> None:
    owner = factories.user(db_session, Role.BENEFICIARY).id
    db_session.commit()
    response = post_entry(client, owner, [b"photo-1", b"photo-2"])
    assert response.status_code == 200
    entry_id = response.get_json()["id"]
    assert entries(db_session, owner) == ["Mon jardin"]
    assert files(journal_app) == [f"photos/{entry_id}-0.jpg", f"photos/{entry_id}-1.jpg"]
    assert (Path(journal_app.config["UPLOAD_DIR"]) / f"photos/{entry_id}-1.jpg").read_bytes() == b"photo-2"


def test_a_photo_that_cannot_be_written_leaves_no_half_entry_and_keeps_the_text(
        journal_app: Flask, client: Any, db_session: Session, tmp_path: Path) -> None:
    owner = factories.user(db_session, Role.BENEFICIARY).id
    db_session.commit()
    blocked = tmp_path / "disk-full"
    blocked.write_bytes(b"")  # a file where the folder should be: every write fails
    journal_app.config["UPLOAD_DIR"] = str(blocked / "uploads")
    response = post_entry(client, owner, [b"photo-1"])
    assert response.status_code == 503
    text = response.get_data(as_text=True)
    assert "J&#39;ai pris mes tomates en photo." in text
    assert "Votre texte est gardé" in text
    assert entries(db_session, owner) == []
    assert list(tmp_path.rglob("*.part")) == []


def test_files_written_by_a_request_that_fails_afterwards_are_removed(journal_app: Flask, client: Any,
                                                                      db_session: Session) -> None:
    owner = factories.user(db_session, Role.BENEFICIARY).id
    db_session.commit()
    response = post_entry(client, owner, [b"photo-1", b"photo-2"], then="refuse")
    assert response.status_code == 400
    assert entries(db_session, owner) == []
    assert files(journal_app) == []


def test_an_unhandled_write_error_answers_a_french_page_and_records_nothing(journal_app: Flask, client: Any,
                                                                            db_session: Session) -> None:
    owner = factories.user(db_session, Role.BENEFICIARY).id
    db_session.commit()
    response = client.post_form("/_essai/journal-sans-filet", {"owner": str(owner)})
    assert response.status_code == 503
    text = response.get_data(as_text=True)
    assert "rien n&#39;a été enregistré" in text
    assert CODE.search(text).group(1) == response.headers["X-Request-ID"]
    assert entries(db_session, owner) == []
    assert files(journal_app) == []  # the first photo, written before the failure, is gone too


@pytest.mark.parametrize("key", ["", "/etc/passwd", "../outside", "a/../../b", "a\\b", "./a"])
def test_upload_keys_stay_inside_the_folder(key: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        upload_path(tmp_path, key)
    assert upload_path(tmp_path, "photos/2026/a.jpg") == tmp_path / "photos" / "2026" / "a.jpg"
