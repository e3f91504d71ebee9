"""French first, English second; the English catalogue covers every string of the code and templates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from flask import Flask, render_template_string
from flask_babel import force_locale, format_datetime, format_time

from portfolio.i18n import format_number

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "portfolio" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None,
            "lazy_ngettext": (1, 2)}


def source_messages() -> set[str]:
    found: set[str] = set()
    for folder in ("portfolio", "competences", "importers", "templates"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python"), ("**.html", "jinja2"), ("**.txt", "jinja2")],
            keywords=KEYWORDS,
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_english_catalogue_translates_every_message() -> None:
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    translated = {m.id[0] if isinstance(m.id, tuple) else m.id for m in catalogue
                  if m.id and (m.string if isinstance(m.string, str) else all(m.string)) and not m.fuzzy}
    missing = sorted(source_messages() - translated)
    assert missing == [], "run `make translations` and translate these in messages.po:\n" + "\n".join(missing)


def test_french_is_the_default(client: Any) -> None:
    page = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="fr">' in page and "Se connecter" in page


def test_english_on_request(client: Any) -> None:
    client.get("/login")
    response = client.post_form("/langue", {"lang": "en", "next": "/login"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "Sign in" in page and "Se connecter" not in page


def test_language_switch_refuses_foreign_targets(client: Any) -> None:
    response = client.post_form("/langue", {"lang": "de", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"
    assert '<html lang="fr">' in client.get("/login").get_data(as_text=True)


@pytest.mark.parametrize(("value", "digits", "french", "english"), [
    (6.0, 1, "6", "6"), (6.54, 1, "6,5", "6.5"), (0.04, 1, "0", "0"), (1234.5, 1, "1\u202f234,5", "1,234.5"),
    (99.6, 0, "100", "100"), (2.25, 2, "2,25", "2.25"), (7, 1, "7", "7"), (None, 1, "–", "–"),
])
def test_numbers_are_written_in_the_readers_language(app: Flask, value: Any, digits: int, french: str,
                                                     english: str) -> None:
    with app.test_request_context():
        with force_locale("fr"):
            assert format_number(value, digits) == french
        with force_locale("en"):
            assert format_number(value, digits) == english


def test_times_never_show_seconds(app: Flask) -> None:
    moment = dt.datetime(2026, 12, 3, 8, 5, 42, tzinfo=dt.UTC)  # 09:05:42 in Paris
    with app.test_request_context(), force_locale("fr"):
        written = [format_datetime(moment, f) for f in (None, "short", "medium", "long", "full")]
        written += [format_time(moment, f) for f in (None, "short", "medium", "long")]
        assert written == ["3 déc. 2026, 09:05", "03/12/2026 09:05", "3 déc. 2026, 09:05", "3 décembre 2026, 09:05",
                           "jeudi 3 décembre 2026, 09:05", "09:05", "09:05", "09:05", "09:05"]
        assert render_template_string("{{ 6.0|number }} {{ 1.25|number(2) }}") == "6 1,25"
