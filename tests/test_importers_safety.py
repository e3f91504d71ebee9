"""Hostile input: entity expansion and external entities, ZIP path traversal, total size and
compression ratio, YAML aliases; and every parser, fuzzed, raises nothing but ImportRefused."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importers.errors import ImportRefused
from importers.feed import parse_feed
from importers.framework import parse_framework
from importers.journal import detect_format
from importers.leap2a import parse_leap2a
from importers.safety import ZipLimits, open_zip
from importers.tickets import parse_ticket_file
from importers.wordpress import parse_wordpress

FIXTURES = Path(__file__).parent / "fixtures" / "importers"
CATEGORIES = {"seniors": "Séniors : retraités ou futurs retraités", "minima-sociaux": "Allocataires de minima"}
TODAY = dt.date(2026, 3, 15)


def parse_tickets(data: bytes) -> object:
    return parse_ticket_file(data, "x.csv", CATEGORIES, TODAY)


XML_PARSERS: list[Callable[[bytes], object]] = [parse_leap2a, parse_wordpress, parse_feed, detect_format]
ALL_PARSERS: list[Callable[[bytes], object]] = [*XML_PARSERS, parse_tickets, parse_framework]

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<rss><channel><title>&lol9;</title></channel></rss>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE feed [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>&secret;</title></entry></feed>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE rss SYSTEM "http://example.invalid/evil.dtd">
<rss><channel><title>x</title></channel></rss>"""


@pytest.mark.parametrize("parser", XML_PARSERS, ids=lambda p: p.__name__)
@pytest.mark.parametrize("document", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD],
                         ids=["billion-laughs", "external-entity", "external-dtd"])
def test_xml_with_entities_or_a_dtd_is_refused(parser: Callable[[bytes], object], document: bytes) -> None:
    with pytest.raises(ImportRefused, match="déclare des entités ou une DTD : il est refusé par sécurité"):
        parser(document)


def zip_of(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(zipfile.ZipInfo(name), content, compress_type=compression)
    return out.getvalue()


@pytest.mark.parametrize("name", ["../leap2a.xml", "files/../../etc/passwd", "/etc/passwd", "C:\\Windows\\x.xml",
                                  "files\\..\\..\\x.jpg"])
@pytest.mark.parametrize("parser", [parse_leap2a, parse_tickets], ids=["leap2a", "xlsx"])
def test_zip_path_traversal_is_refused(name: str, parser: Callable[[bytes], object]) -> None:
    data = zip_of({"leap2a.xml": (FIXTURES / "mahara" / "leap2a.xml").read_bytes(), name: b"x"})
    with pytest.raises(ImportRefused, match="chemin dangereux"):
        parser(data)


def test_an_enclosure_pointing_outside_the_archive_is_refused() -> None:
    document = (FIXTURES / "mahara" / "leap2a.xml").read_bytes().replace(
        b'href="files/130-photo-atelier.jpg"', b'href="../../secret.jpg"')
    with pytest.raises(ImportRefused, match="chemin dangereux"):
        parse_leap2a(zip_of({"leap2a.xml": document}))


@pytest.mark.parametrize("parser", [parse_leap2a, parse_tickets], ids=["leap2a", "xlsx"])
def test_a_zip_bomb_is_refused_by_its_compression_ratio(parser: Callable[[bytes], object]) -> None:
    bomb = zip_of({"leap2a.xml": b"<feed/>", "files/zeros.jpg": b"\0" * (20 * 1024 * 1024)})
    assert len(bomb) < 100_000
    with pytest.raises(ImportRefused, match="anormalement compressée"):
        parser(bomb)


def test_zip_total_size_and_number_of_members_are_limited() -> None:
    data = zip_of({f"f{i}.txt": bytes(range(256)) * 40 for i in range(5)}, zipfile.ZIP_STORED)
    open_zip(data, ZipLimits())
    with pytest.raises(ImportRefused, match="dépasse"):
        open_zip(data, ZipLimits(max_total_bytes=4 * 10_240))
    with pytest.raises(ImportRefused, match="trop de fichiers"):
        open_zip(data, ZipLimits(max_members=4))


def test_declared_sizes_cannot_lie_reading_stops_at_the_crc() -> None:
    data = bytearray(zip_of({"leap2a.xml": b"<feed xmlns='http://www.w3.org/2005/Atom'/>" * 100}))
    # flip a byte of the compressed stream: zipfile's CRC check fails, we refuse in French
    start = data.index(b"leap2a.xml") + len(b"leap2a.xml")
    data[start + 5] ^= 0xFF
    with pytest.raises(ImportRefused, match="illisible"):
        parse_leap2a(bytes(data))


def test_yaml_aliases_are_refused_in_framework_files() -> None:
    bomb = b"""a: &a ["x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
framework: [*c,*c,*c,*c,*c,*c,*c,*c,*c]
"""
    with pytest.raises(ImportRefused, match="alias YAML"):
        parse_framework(bomb)


# --- Fuzzing: nothing but ImportRefused ------------------------------------------------------------------

SAMPLES = [
    (FIXTURES / "mahara" / "leap2a.xml").read_bytes(),
    (FIXTURES / "wordpress.xml").read_bytes(),
    (FIXTURES / "blogger-atom.xml").read_bytes(),
    (FIXTURES / "rss2.xml").read_bytes(),
    (FIXTURES / "caf-cp1252-semicolons.csv").read_bytes(),
    (FIXTURES / "libreoffice-utf8-bom-commas.csv").read_bytes(),
    (Path(__file__).parents[1] / "competences" / "data" / "frameworks" / "b2i-adultes-2010.yaml").read_bytes()[:4000],
    zip_of({"leap2a.xml": (FIXTURES / "mahara" / "leap2a.xml").read_bytes(), "files/130-photo-atelier.jpg": b"x"}),
]


def _xlsx_sample() -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append(["Nom", "Prénom", "Date de naissance", "Commune", "Public"])
    workbook.active.append(["Delmas", "Jean", dt.datetime(1951, 3, 14), "Cahors", "seniors"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


SAMPLES.append(_xlsx_sample())


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A real sample, damaged: bytes flipped, a slice cut out, or truncated."""
    data = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(0, 8))):
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        if data:
            data[position] = draw(st.integers(0, 255))
    if draw(st.booleans()) and len(data) > 2:
        start = draw(st.integers(0, len(data) - 1))
        end = draw(st.integers(start, len(data)))
        del data[start:end]
    return bytes(data)


csv_text = st.lists(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
                             max_size=7), max_size=8).map(
    lambda rows: "\n".join(";".join(["Nom", "Prénom", "Date de naissance", "Commune", "Public"][: len(r)]
                                    if i == 0 else r) for i, r in enumerate(rows)))
FUZZ = st.one_of(st.binary(max_size=2_000), mutated(), csv_text.map(lambda t: t.encode("utf-8")),
                 csv_text.map(lambda t: t.encode("utf-16")))


@pytest.mark.parametrize("parser", ALL_PARSERS, ids=lambda p: p.__name__)
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=FUZZ)
def test_parsers_raise_nothing_but_import_refused(parser: Callable[[bytes], object], data: bytes) -> None:
    try:
        parser(data)
    except ImportRefused as refused:
        assert str(refused)  # always a reason to show


def test_an_unknown_xml_encoding_is_refused() -> None:  # found by the fuzzer
    with pytest.raises(ImportRefused, match="encodage inconnu"):
        parse_feed(b'<?xml version="1.0" encoding="atf-8"?><rss/>')
