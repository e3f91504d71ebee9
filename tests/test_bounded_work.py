"""Bounded work per request: a journal import counts every reference of an attachment against its limits and
reads each file once; photos are capped in number per post and per import, and in decoded pixels; beyond, a
clear French refusal before the work is done. The costs of the worst import and post still accepted are
measured by bench/import_bounds.py (docs/benchmarks.md)."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
import sqlalchemy as sa
from PIL import Image
from sqlalchemy.orm import Session

from importers import apply_journal, leap2a
from importers import journal as importer
from importers.apply_journal import import_journal
from importers.errors import ImportRefused
from importers.leap2a import parse_leap2a
from portfolio.auth.models import Role
from portfolio.journal import photos
from portfolio.journal.models import JournalEntry, Photo
from portfolio.journal.photos import PhotoBudget, PhotoRejected, decoded_size, process_photo
from tests import factories

LIMIT = 10 * 1024 * 1024
ENTRY = """<entry><title>Article {n}</title><id>portfolio:post{n}</id>
<published>2013-09-16T17:05:00+02:00</published><content type="html">&lt;p&gt;Texte {n}&lt;/p&gt;</content>
<rdf:type rdf:resource="leap2:entry"/>{links}</entry>"""
RESOURCE = """<entry><title>{name}</title><id>portfolio:file{k}</id><content type="image/png" src="files/{name}"/>
<rdf:type rdf:resource="leap2:resource"/><link rel="enclosure" href="files/{name}" type="image/png"/></entry>"""
FEED = """<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"
 xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:leap2="http://terms.leapspecs.org/">
<title>Export</title>{entries}</feed>"""


def png(width: int, height: int, mode: str = "P") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), 0).save(out, "PNG", optimize=True)
    return out.getvalue()


def padded(size: int) -> bytes:
    """A small PNG carrying ``size`` bytes in a private chunk: heavy on disk, light to decode; one byte in sixty
    is random, so that it compresses about 50:1 (under the archive's own ratio check)."""
    import random
    import struct
    import zlib

    base = png(8, 8)
    rng = random.Random(size)
    body = bytearray(size)
    for i in range(0, size, 60):
        body[i] = rng.randrange(256)
    body = bytes(body)
    chunk = struct.pack(">I", len(body)) + b"tnPd" + body + struct.pack(">I", zlib.crc32(b"tnPd" + body))
    return base[:-12] + chunk + base[-12:]


def mahara(files: dict[str, bytes], posts: list[list[str]]) -> bytes:
    names = list(files)
    entries = [RESOURCE.format(name=name, k=k) for k, name in enumerate(names)]
    for n, attached in enumerate(posts):
        links = "".join(f'<link rel="leap2:has_attachment" href="portfolio:file{names.index(a)}"/>' for a in attached)
        entries.append(ENTRY.format(n=n, links=links))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("leap2a.xml", FEED.format(entries="".join(entries)))
        for name, data in files.items():
            archive.writestr(f"files/{name}", data)
    return out.getvalue()


# --- The importer: every reference counts, each file is read once --------------------------------------------


def test_one_file_attached_to_many_posts_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[str] = []
    real = leap2a.read_member
    monkeypatch.setattr(leap2a, "read_member", lambda archive, name: reads.append(name) or real(archive, name))
    parsed = parse_leap2a(mahara({"photo.png": png(64, 48)}, [["photo.png"]] * 30))
    assert reads.count("files/photo.png") == 1
    images = [image for entry in parsed.entries for image in entry.images]
    assert len(images) == 30 and all(image.data is images[0].data for image in images)


def test_every_reference_counts_against_the_size_of_the_import() -> None:
    """Today's server read a 14 MB file once per post that attached it (60 posts: 0.6 -> 1.6 GB)."""
    heavy = padded(3 * 1024 * 1024)  # 3 MB, compressing very well
    fits = importer.MAX_IMAGE_BYTES_TOTAL // len(heavy)
    assert len(parse_leap2a(mahara({"plan.png": heavy}, [["plan.png"]] * fits)).entries) == fits
    archive = mahara({"plan.png": heavy}, [["plan.png"]] * (fits + 1))
    assert len(archive) < 1024 * 1024  # well under the upload limit: the references make it heavy
    with pytest.raises(ImportRefused, match="pèsent plus de 100 Mo en tout .une image jointe à plusieurs articles"):
        parse_leap2a(archive)


def test_photos_are_capped_per_post_and_per_import() -> None:
    small = {f"p{k}.png": png(10 + k, 10) for k in range(importer.MAX_IMAGES_PER_POST + 1)}
    names = list(small)
    assert len(parse_leap2a(mahara(small, [names[:-1]])).entries[0].images) == importer.MAX_IMAGES_PER_POST
    with pytest.raises(ImportRefused, match="« Article 0 » a plus de 10 photos"):
        parse_leap2a(mahara(small, [names]))
    per_post = importer.MAX_IMAGES_PER_POST
    posts = importer.MAX_IMAGES // per_post
    assert len(parse_leap2a(mahara({"a.png": png(9, 9)}, [["a.png"] * per_post] * posts)).entries) == posts
    with pytest.raises(ImportRefused, match="plus de 200 photos"):
        parse_leap2a(mahara({"a.png": png(9, 9)}, [["a.png"] * per_post] * posts + [["a.png"]]))


def test_an_image_too_heavy_is_reported_without_being_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(leap2a, "MAX_IMAGE_BYTES", 1000)
    reads: list[str] = []
    real = leap2a.read_member
    monkeypatch.setattr(leap2a, "read_member", lambda archive, name: reads.append(name) or real(archive, name))
    parsed = parse_leap2a(mahara({"lourde.png": padded(5000)}, [["lourde.png"]]))
    assert parsed.entries[0].images == [] and "files/lourde.png" not in reads
    assert [s.reason for s in parsed.skipped] == ["image trop lourde (0 Mo au plus) : non importée."]


def test_each_file_is_decoded_once_and_becomes_a_photo_of_each_post(app_context: None, db_session: Session,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    decoded: list[int] = []
    real = photos.process_photo
    monkeypatch.setattr(photos, "process_photo", lambda data, *a, **k: decoded.append(len(data)) or real(data, *a, **k))
    result = import_journal(db_session, learner, parse_leap2a(mahara({"a.png": png(640, 480, "RGB")},
                                                                     [["a.png"]] * 5)), factories.NOW.date())
    assert [s.photos for s in result.imported] == [1] * 5 and len(decoded) == 1
    assert db_session.scalar(sa.select(sa.func.count(Photo.id)).where(Photo.owner_id == learner.id)) == 5


def test_an_import_whose_images_cost_too_much_is_refused_before_anything_is_written(
        app_context: None, db_session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    learner = factories.user(db_session, Role.BENEFICIARY)
    monkeypatch.setattr(apply_journal, "MAX_IMPORT_DECODED_PIXELS", 3 * 1000 * 1000)
    files = {f"p{k}.png": png(1000, 1000) for k in range(4)}  # four files of one megapixel each
    with pytest.raises(ImportRefused, match="trop grandes pour être importées en une fois .4 millions de points, "
                                            "3 millions au plus"):
        import_journal(db_session, learner, parse_leap2a(mahara(files, [[n] for n in files])), factories.NOW.date())
    assert db_session.scalar(sa.select(sa.func.count(JournalEntry.id)).where(JournalEntry.owner_id == learner.id)) == 0
    three = dict(list(files.items())[:3])
    assert len(import_journal(db_session, learner, parse_leap2a(mahara(three, [[n] for n in three])),
                              factories.NOW.date()).imported) == 3


def test_the_upload_page_refuses_in_french_and_writes_nothing(client: Any, login_as: Any, db_session: Session) -> None:
    learner = login_as(Role.BENEFICIARY)
    heavy = padded(3 * 1024 * 1024)
    archive = mahara({"plan.png": heavy}, [["plan.png"]] * 40)
    response = client.post_form("/journal/importer", {"file": (io.BytesIO(archive), "export.zip")},
                                content_type="multipart/form-data")
    text = response.get_data(as_text=True)
    assert "pèsent plus de 100 Mo en tout" in text and "plusieurs fichiers" in text
    assert db_session.scalar(sa.select(sa.func.count(JournalEntry.id)).where(JournalEntry.owner_id == learner.id)) == 0


# --- Decoded pixels ------------------------------------------------------------------------------------------


def test_a_small_file_of_seven_thousand_pixels_square_is_refused_before_decoding() -> None:
    """A 6 KB PNG of 7000 × 7000 pixels: 147 MB and seconds of work once decoded; today accepted (under 50 MP)."""
    data = png(7000, 7000)
    assert len(data) < 10_000
    with pytest.raises(PhotoRejected, match="trop grande .49 millions de points. : 16 millions au plus"):
        process_photo(data, LIMIT)
    assert process_photo(png(4000, 4000), LIMIT).width == 1600  # 16 megapixels: a 5K screenshot still fits


def test_a_large_jpeg_is_decoded_at_a_reduced_scale() -> None:
    out = io.BytesIO()
    Image.new("RGB", (8000, 6000), (120, 60, 30)).save(out, "JPEG", quality=60)  # a 48-megapixel phone photo
    with Image.open(io.BytesIO(out.getvalue())) as image:
        assert decoded_size(image) == (2000, 1500)  # 1/4: the smallest scale still above 1600 on the long side
    result = process_photo(out.getvalue(), LIMIT)
    assert (result.width, result.height) == (1600, 1200)


def test_a_budget_counts_photos_and_decoded_pixels() -> None:
    budget = PhotoBudget(photos=3, pixels=2_000_000)
    process_photo(png(1000, 1000), LIMIT, budget)
    with pytest.raises(PhotoRejected, match="trop grandes pour être ajoutées en une fois .2 millions de points"):
        process_photo(png(1100, 1000), LIMIT, budget)  # 1.1 MP more: over the budget, refused before decoding
    process_photo(png(900, 1000), LIMIT, budget)
    with pytest.raises(PhotoRejected, match="Trop de photos"):
        PhotoBudget(photos=0).spend(1)


# --- The editor: photos per post -----------------------------------------------------------------------------


def post_photos(client: Any, images: list[bytes]) -> Any:
    return client.post_form("/journal/nouveau", {
        "title": "Mes photos", "body_md": "Ce que j'ai fait", "visibility": "private", "action": "publish",
        "photos": [(io.BytesIO(data), f"photo{n}.png") for n, data in enumerate(images)]},
        content_type="multipart/form-data")


def test_the_editor_refuses_more_photos_than_allowed_and_keeps_the_text(client: Any, login_as: Any,
                                                                        db_session: Session) -> None:
    learner = login_as(Role.BENEFICIARY)
    response = post_photos(client, [png(20, 20)] * (photos.MAX_PHOTOS_PER_POST + 1))
    assert response.status_code == 200
    assert "Vous avez choisi 11 photos : c&#39;est 10 au plus à la fois" in response.get_data(as_text=True)
    [entry] = db_session.scalars(sa.select(JournalEntry).where(JournalEntry.owner_id == learner.id)).all()
    assert (entry.body_md, entry.status) == ("Ce que j'ai fait", "draft")
    assert db_session.scalar(sa.select(sa.func.count(Photo.id)).where(Photo.owner_id == learner.id)) == 0
    assert post_photos(client, [png(20, 20)] * photos.MAX_PHOTOS_PER_POST).status_code == 302
    assert db_session.scalar(sa.select(sa.func.count(Photo.id)).where(Photo.owner_id == learner.id)) == 10


def test_the_editor_has_a_budget_of_decoded_pixels(client: Any, login_as: Any, db_session: Session,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(photos, "MAX_DECODED_PIXELS_PER_POST", 2_500_000)
    learner = login_as(Role.BENEFICIARY)
    response = post_photos(client, [png(1000, 1000)] * 3)
    assert "photo2.png : Ces photos sont trop grandes pour être ajoutées en une fois" in response.get_data(as_text=True)
    assert db_session.scalar(sa.select(sa.func.count(Photo.id)).where(Photo.owner_id == learner.id)) == 2
