"""Journals from elsewhere: a Mahara LEAP2A export (XML, and ZIP with an image), a WordPress export, a
Blogger Atom export and an RSS 2.0 feed come through with titles, dates and tags intact; HTML is
sanitised; what is left out is reported with the reason; the image boundary; the commands."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from PIL import Image
from sqlalchemy.orm import Session, selectinload

from importers.apply_journal import ImageRefused, import_journal, store_imported_image
from importers.errors import ImportRefused
from importers.feed import parse_feed
from importers.journal import detect_format
from importers.leap2a import parse_leap2a
from importers.wordpress import parse_wordpress
from portfolio.auth.models import Role, User
from portfolio.journal.models import EntryStatus, JournalEntry, Photo, Visibility
from tests import factories

FIXTURES = Path(__file__).parent / "fixtures" / "importers"
TODAY = dt.date(2026, 3, 15)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (2400, 1200), (200, 120, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (44.0, 27.0, 0.0)}  # GPS position
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def mahara_zip(folder: str = "") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{folder}leap2a.xml", fixture("mahara/leap2a.xml"))
        archive.writestr(f"{folder}files/130-photo-atelier.jpg", jpeg_with_gps())
        archive.writestr(f"{folder}files/131-attestation.pdf", b"%PDF-1.4 attestation")
        archive.writestr(f"{folder}files/132-cv-2013.odt", b"PK odt")
    return out.getvalue()


def local(moment: dt.datetime | None) -> str:
    assert moment is not None
    return moment.astimezone(dt.timezone(dt.timedelta(hours=0))).isoformat()


# --- Parsers: titles, dates, tags intact ---------------------------------------------------------------


def test_mahara_leap2a_xml_posts_dates_tags_and_what_is_left_out() -> None:
    parsed = parse_leap2a(fixture("mahara/leap2a.xml"))
    assert [(e.title, local(e.published), e.tags, e.draft) for e in parsed.entries] == [
        ("Première séance : la souris et le clavier", "2013-09-16T15:05:00+00:00", ["souris", "débuts"], False),
        ("Écrire à ma petite-fille", "2013-09-30T14:45:00+00:00", ["courriel", "famille"], False),
        ("Brouillon : les mots de passe", "2013-11-04T08:10:00+00:00", ["sécurité"], True),
    ]
    assert "<strong>toute seule</strong>" in parsed.entries[0].html
    skipped = {(s.title, s.reason) for s in parsed.skipped}
    assert ("photo-atelier.jpg", "l'image n'est pas dans ce fichier : envoyez l'archive ZIP complète de Mahara.") \
        in skipped
    assert ("attestation.pdf", "pièce jointe qui n'est pas une image : non importée.") in skipped
    assert ("cv-2013.odt", "fichier rattaché à aucun article du journal : non importé.") in skipped
    assert ("Josette Lacombe", "profil : seuls les articles du journal sont importés.") in skipped
    assert ("Aide à domicile (2001 - 2012)", "activité du CV : seuls les articles du journal sont importés.") in skipped
    assert ("Ma page de présentation", "collection ou page : seuls les articles du journal sont importés.") in skipped
    assert "Mon carnet de bord" not in {s.title for s in parsed.skipped}  # the blog itself is no loss


@pytest.mark.parametrize("folder", ["", "portfolio-for-josette/"])
def test_mahara_zip_brings_the_attached_image(folder: str) -> None:
    parsed = parse_leap2a(mahara_zip(folder))
    first = parsed.entries[0]
    assert [(i.name, i.data[:2]) for i in first.images] == [("photo-atelier.jpg", b"\xff\xd8")]
    assert parsed.entries[1].images == []
    assert "photo-atelier.jpg" not in {s.title for s in parsed.skipped}


def test_wordpress_posts_only_with_categories_tags_and_dates() -> None:
    parsed = parse_wordpress(fixture("wordpress.xml"))
    assert parsed.title == "Les carnets de Gérard"
    assert [(e.title, local(e.published), e.tags, e.draft) for e in parsed.entries] == [
        ("Déclarer mes impôts en ligne", "2019-04-16T14:22:10+00:00", ["Démarches en ligne", "impôts"], False),
        ("Mes photos sur la clé USB", "2019-03-02T09:05:00+00:00", ["photos", "clé USB"], False),
        ("Idées pour la suite", "2019-05-10T16:00:00+00:00", ["visio"], True),  # a draft: its local date
    ]
    assert parsed.entries[1].html == "<p>Copier, coller : ça y est, mes photos du Lot sont sur la clé.</p>"
    assert [(s.what, s.title) for s in parsed.skipped] == [
        ("Article", "Un essai raté"), ("Page", "À propos"), ("Élément de menu", "Accueil"), ("Pièce jointe", "ecran")]


def test_blogger_atom_export_posts_labels_and_skipped_kinds() -> None:
    parsed = parse_feed(fixture("blogger-atom.xml"))
    assert [(e.title, local(e.published), e.tags, e.draft) for e in parsed.entries] == [
        ("Ma tablette & moi", "2012-05-21T08:15:00+00:00", ["tablette", "Ateliers EPM"], False),
        ("Premier appel vidéo", "2012-06-01T17:40:00+00:00", ["visio"], False),
        ("Brouillon du samedi", "2012-06-02T07:00:00+00:00", [], True),
    ]
    assert [s.what for s in parsed.skipped] == ["Réglage", "Modèle", "Commentaire", "Page"]


def test_rss2_feed_in_latin1_with_categories_and_dc_dates() -> None:
    parsed = parse_feed(fixture("rss2.xml"))
    assert parsed.title == "Atelier numérique de Souillac"
    assert [(e.title, local(e.published), e.tags) for e in parsed.entries] == [
        ("Le tableur pour mes comptes", "2013-02-14T14:30:00+00:00", ["tableur", "budget"]),
        ("Trier mes courriels", "2013-03-01T09:00:00+00:00", ["courriel"]),
    ]
    assert parsed.entries[1].html.startswith("<p>Des <em>dossiers</em>")  # content:encoded wins over description


def test_atom_xhtml_content_and_rss1() -> None:
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry>
    <title type="html">&lt;b&gt;Gras&lt;/b&gt; et
    normal</title><updated>2020-01-02T03:04:05Z</updated><category term="a"/><content type="xhtml"><div
    xmlns="http://www.w3.org/1999/xhtml"><p>Un <em>paragraphe</em></p></div></content></entry></feed>"""
    [entry] = parse_feed(atom).entries
    assert entry.title == "Gras et normal" and entry.tags == ["a"]
    assert entry.html == "<p>Un <em>paragraphe</em></p>"
    assert local(entry.published) == "2020-01-02T03:04:05+00:00"
    rss1 = b"""<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Vieux blog</title></channel><item><title>Un</title>
    <description>Texte</description><dc:date>2004-05-06</dc:date><dc:subject>vieux</dc:subject></item></rdf:RDF>"""
    parsed = parse_feed(rss1)
    assert parsed.title == "Vieux blog" and parsed.entries[0].tags == ["vieux"]
    assert parsed.entries[0].published is not None and parsed.entries[0].published.date() == dt.date(2004, 5, 5)


def test_format_is_detected_by_content() -> None:
    assert detect_format(fixture("mahara/leap2a.xml")) == "leap2a"
    assert detect_format(mahara_zip()) == "leap2a"
    assert detect_format(fixture("wordpress.xml")) == "wordpress"
    assert detect_format(fixture("blogger-atom.xml")) == "feed"
    assert detect_format(fixture("rss2.xml")) == "feed"
    with pytest.raises(ImportRefused, match="Ce fichier n'est pas reconnu"):
        detect_format(b"<html><body>bonjour</body></html>")


@pytest.mark.parametrize("parser,data,reason", [
    (parse_leap2a, b"<rss/>", "pas un export LEAP2A"),
    (parse_wordpress, b"<feed xmlns='http://www.w3.org/2005/Atom'/>", "pas un export WordPress"),
    (parse_wordpress, b"<rss><channel><item><title>x</title></item></channel></rss>", "pas un export WordPress"),
    (parse_feed, b"<html/>", "pas un flux RSS ou Atom"),
    (parse_feed, b"<rss><channel><item>", "pas un XML bien formé"),
    (parse_leap2a, b"PK\x03\x04" + b"\x00" * 40, "archive ZIP est abîmée"),
])
def test_wrong_or_broken_files_are_refused_with_a_reason(parser: Any, data: bytes, reason: str) -> None:
    with pytest.raises(ImportRefused, match=reason):
        parser(data)


def test_a_zip_without_leap2a_document_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("photo.jpg", b"x")
    with pytest.raises(ImportRefused, match="pas de fichier leap2a.xml"):
        parse_leap2a(out.getvalue())


# --- Applying: entries, tags, dates, sanitised HTML, photos ------------------------------------------------


@pytest.fixture
def learner(db_session: Session) -> User:
    return factories.user(db_session, Role.BENEFICIARY)


def entries_of(session: Session, owner: User) -> list[JournalEntry]:
    session.expire_all()
    return list(session.scalars(sa.select(JournalEntry).where(JournalEntry.owner_id == owner.id).options(
        selectinload(JournalEntry.tags), selectinload(JournalEntry.photos)).order_by(JournalEntry.entry_date)))


def test_mahara_zip_import_creates_private_entries_with_dates_tags_and_a_clean_photo(
        app: Flask, app_context: None, db_session: Session, learner: User) -> None:
    result = import_journal(db_session, learner, parse_leap2a(mahara_zip()), TODAY)
    assert [(e.title, e.entry_date, e.photos, e.draft) for e in result.imported] == [
        ("Première séance : la souris et le clavier", dt.date(2013, 9, 16), 1, False),
        ("Écrire à ma petite-fille", dt.date(2013, 9, 30), 0, False),
        ("Brouillon : les mots de passe", dt.date(2013, 11, 4), 0, True),
    ]
    first, second, draft = entries_of(db_session, learner)
    assert first.visibility == Visibility.PRIVATE.value and first.status == EntryStatus.PUBLISHED.value
    assert draft.status == EntryStatus.DRAFT.value and draft.published_at is None
    assert first.created_at == dt.datetime(2013, 9, 16, 15, 5, tzinfo=dt.UTC)
    assert first.published_at == first.created_at
    assert first.updated_at == dt.datetime(2013, 9, 17, 16, 30, tzinfo=dt.UTC)
    assert sorted(t.tag for t in first.tags) == ["débuts", "souris"]
    assert "<script" not in first.body_html and "onclick" not in first.body_html
    assert "<strong>toute seule</strong>" in first.body_html and first.body_md == first.body_html
    [photo] = first.photos
    assert (photo.width, photo.height, photo.content_type, photo.alt_text) == (1600, 800, "image/jpeg",
                                                                             "photo-atelier.jpg")
    stored = Path(app.config["UPLOAD_DIR"]) / photo.storage_key  # the journal's own photo storage
    with Image.open(stored) as image:
        assert not image.getexif()  # no maker, no GPS position
    assert (Path(app.config["UPLOAD_DIR"]) / photo.thumbnail_key).exists()


def test_wordpress_import_sanitises_html_and_keeps_links(db_session: Session, learner: User) -> None:
    result = import_journal(db_session, learner, parse_wordpress(fixture("wordpress.xml")), TODAY)
    assert len(result.imported) == 3 and len(result.skipped) == 4
    taxes = next(e for e in entries_of(db_session, learner) if e.title == "Déclarer mes impôts en ligne")
    assert '<a href="https://www.impots.gouv.fr/" rel="nofollow noopener">espace particulier</a>' in taxes.body_html
    assert "iframe" not in taxes.body_html and "<img" not in taxes.body_html and "wp:image" not in taxes.body_html
    assert taxes.entry_date == dt.date(2019, 4, 16)
    assert sorted(t.tag for t in taxes.tags) == ["Démarches en ligne", "impôts"]


def test_blogger_import_keeps_titles_dates_and_labels(db_session: Session, learner: User) -> None:
    import_journal(db_session, learner, parse_feed(fixture("blogger-atom.xml")), TODAY)
    entries = entries_of(db_session, learner)
    assert [(e.title, e.entry_date, sorted(t.tag for t in e.tags)) for e in entries] == [
        ("Ma tablette & moi", dt.date(2012, 5, 21), ["Ateliers EPM", "tablette"]),
        ("Premier appel vidéo", dt.date(2012, 6, 1), ["visio"]),
        ("Brouillon du samedi", dt.date(2012, 6, 2), []),
    ]
    assert 'style=' not in entries[0].body_html and "<b>prendre une photo</b>" not in entries[0].body_html


def test_importing_the_same_file_twice_adds_nothing(db_session: Session, learner: User) -> None:
    import_journal(db_session, learner, parse_feed(fixture("rss2.xml")), TODAY)
    again = import_journal(db_session, learner, parse_feed(fixture("rss2.xml")), TODAY)
    assert again.imported == []
    assert [s.reason for s in again.skipped] == [
        "déjà dans votre journal (même titre, même jour) : non importé une deuxième fois."] * 2
    assert len(entries_of(db_session, learner)) == 2


def test_an_entry_without_title_or_date_gets_the_import_day(db_session: Session, learner: User) -> None:
    rss = b"<rss><channel><title>x</title><item><description>Sans titre ni date</description></item></channel></rss>"
    result = import_journal(db_session, learner, parse_feed(rss), TODAY)
    assert [(e.title, e.entry_date) for e in result.imported] == [("Article du 15/03/2026", TODAY)]


def test_images_go_through_one_function_whose_refusal_skips_the_image_not_the_post(
        db_session: Session, learner: User) -> None:
    calls: list[tuple[int, str, bytes]] = []

    def store(session: Session, owner: User, entry: JournalEntry, name: str, data: bytes) -> Photo:
        calls.append((owner.id, name, data[:2]))
        assert entry.id is not None and entry.owner_id == owner.id
        raise ImageRefused("refusée pour le test.")

    result = import_journal(db_session, learner, parse_leap2a(mahara_zip()), TODAY, store_image=store)
    assert calls == [(learner.id, "photo-atelier.jpg", b"\xff\xd8")]
    assert result.imported[0].photos == 0
    assert ("Image", "photo-atelier.jpg (Première séance : la souris et le clavier)", "refusée pour le test.") in {
        (s.what, s.title, s.reason) for s in result.skipped}


@pytest.mark.parametrize("data,reason", [
    (b"%PDF-1.4 not an image", "Ce fichier n'est pas une photo que nous savons lire. Choisissez une photo JPEG, "
                               "PNG ou WebP."),
    (b"GIF89a\x01\x00", "Ce fichier n'est pas une photo que nous savons lire. Choisissez une photo JPEG, PNG "
                        "ou WebP."),
])
def test_store_imported_image_refuses_what_is_not_a_photo(app_context: None, db_session: Session, learner: User,
                                                          data: bytes, reason: str) -> None:
    entry = JournalEntry(owner_id=learner.id, title="x", entry_date=TODAY, tags=[])
    db_session.add(entry)
    db_session.flush()
    with pytest.raises(ImageRefused) as refused:
        store_imported_image(db_session, learner, entry, "x", data)
    assert str(refused.value.message) == reason


# --- The commands ----------------------------------------------------------------------------------------


@pytest.fixture
def owner(db_session: Session) -> User:
    user = factories.user(db_session, Role.BENEFICIARY, username="josette.lacombe")
    db_session.commit()
    return user


@pytest.mark.parametrize("kind,name,count", [
    ("leap2a", "mahara/leap2a.xml", 3), ("wordpress", "wordpress.xml", 3), ("feed", "blogger-atom.xml", 3),
    ("feed", "rss2.xml", 2),
])
def test_import_commands(runner: Any, db_session: Session, owner: User, kind: str, name: str, count: int) -> None:
    path = str(FIXTURES / name)
    dry = runner.invoke(args=["import", kind, path, "--owner", "Josette.Lacombe", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"Essai à blanc : {count} articles seraient importés" in dry.output
    assert entries_of(db_session, owner) == []
    result = runner.invoke(args=["import", kind, path, "--owner", "josette.lacombe"])
    assert result.exit_code == 0, result.output
    assert f"{count} articles importés dans le journal de josette.lacombe" in result.output
    assert len(entries_of(db_session, owner)) == count


def test_import_command_output_names_dates_tags_and_reasons(runner: Any, owner: User, tmp_path: Path) -> None:
    path = tmp_path / "mahara.zip"
    path.write_bytes(mahara_zip())
    result = runner.invoke(args=["import", "leap2a", str(path), "--owner", "josette.lacombe"])
    assert result.exit_code == 0, result.output
    assert "+ 2013-09-16 Première séance : la souris et le clavier [souris, débuts] (1 photo)" in result.output
    assert "- Fichier « attestation.pdf » : pièce jointe qui n'est pas une image : non importée." in result.output


def test_import_command_refusals(runner: Any, owner: User, tmp_path: Path) -> None:
    path = tmp_path / "blog.xml"
    path.write_bytes(b"<rss><channel><item>")
    broken = runner.invoke(args=["import", "feed", str(path), "--owner", "josette.lacombe"])
    assert broken.exit_code == 1 and f"Erreur : {path}, ligne 1 : Ce fichier n'est pas un XML bien formé." \
        in broken.output
    assert runner.invoke(args=["import", "feed", str(FIXTURES / "rss2.xml"), "--owner", "nobody"]).exit_code == 2
    wrong = runner.invoke(args=["import", "wordpress", str(FIXTURES / "rss2.xml"), "--owner", "josette.lacombe"])
    assert wrong.exit_code == 1 and "pas un export WordPress" in wrong.output
