"""Static files for a slow connection: compressed on the way, addressed by a version of their content and then
kept a year; pages are never compressed (BREACH) nor kept."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path
from typing import Any

import brotli
from flask import Flask, url_for

STATIC = Path(__file__).resolve().parent.parent / "static"


def version_of(path: str) -> str:
    return hashlib.sha256((STATIC / path).read_bytes()).hexdigest()[:12]


def test_static_addresses_carry_the_version_of_their_content(app: Flask) -> None:
    with app.test_request_context():
        address = url_for("static", filename="css/site.css")
        assert address == f"/static/css/site.css?v={version_of('css/site.css')}"
        assert url_for("static", filename="js/read-aloud.js").endswith(f"?v={version_of('js/read-aloud.js')}")
        assert url_for("static", filename="no/such/file.css") == "/static/no/such/file.css"  # no version to give


def test_the_current_version_is_kept_a_year_any_other_is_checked_again(client: Any) -> None:
    current = client.get(f"/static/css/site.css?v={version_of('css/site.css')}")
    assert current.status_code == 200
    assert current.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    for address in ("/static/css/site.css", "/static/css/site.css?v=0123456789ab"):
        other = client.get(address)
        assert other.status_code == 200 and "immutable" not in other.headers.get("Cache-Control", ""), address


def test_css_and_javascript_are_compressed_for_browsers_that_accept_it(client: Any) -> None:
    css = (STATIC / "css/site.css").read_bytes()
    zipped = client.get("/static/css/site.css", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.data) == css and len(zipped.data) < len(css) / 3
    squeezed = client.get("/static/js/read-aloud.js", headers={"Accept-Encoding": "br, gzip"})
    assert squeezed.headers["Content-Encoding"] == "br"
    assert brotli.decompress(squeezed.data) == (STATIC / "js/read-aloud.js").read_bytes()
    plain = client.get("/static/css/site.css")
    assert "Content-Encoding" not in plain.headers and plain.data == css
    # Asked again with its (compressed) validator: not sent again.
    again = client.get("/static/css/site.css", headers={"Accept-Encoding": "gzip",
                                                        "If-None-Match": zipped.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    icon = client.get("/static/img/favicon.svg")
    unchanged = client.get("/static/img/favicon.svg", headers={"If-Modified-Since": icon.headers["Last-Modified"]})
    assert unchanged.status_code == 304 and unchanged.data == b""


def test_pages_are_never_compressed_nor_kept(client: Any) -> None:
    page = client.get("/login", headers={"Accept-Encoding": "br, gzip"})
    assert page.status_code == 200 and "Content-Encoding" not in page.headers
    assert page.headers["Cache-Control"] == "no-store"
    assert re.search(r'href="/static/css/site\.css\?v=[0-9a-f]{12}"', page.get_data(as_text=True))
