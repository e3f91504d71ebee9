"""French first, English second; the English catalogue covers every string of the code and templates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

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
