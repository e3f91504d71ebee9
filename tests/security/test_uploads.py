"""Upload type confusion: every route that takes a file refuses a file whose content is not what it
claims (HTML or SVG with script named .jpg, a PHP script, a GIF header followed by script, an empty
file), while the same form with a real image goes through.

Upload forms are found where people find them: every page of the URL map is walked as a role that may
see it, and every form with a file input is an upload route (its action). Each is filled in like a
person would, first with a real file of the kind it expects (an image by default, ``REAL_FILES``
otherwise), which must go through, then with the disguised files, which must be refused. A feature
whose form needs particular values adds them to ``FORM_VALUES``. The test proves its own harness on two
routes of its own: a naive upload, which it must catch, and a careful one, which it must pass.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from flask import Blueprint, Flask, redirect, render_template_string, request
from PIL import Image
from sqlalchemy.orm import Session

from portfolio.auth.models import Role
from portfolio.permissions import access_of, public
from tests.security.walk import client_as, context, everyone, forms_of, get_rules, url_for_rule

# endpoint -> values for the non-file fields of its form (when walking the page's defaults is not enough).
FORM_VALUES: dict[str, dict[str, str]] = {}
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "importers"
# endpoint -> a real file of the kind the route expects (default: a real image).
REAL_FILES: dict[str, tuple[str, str, bytes]] = {
    # /verifier: a real baked badge (1EdTech's test vector), which it reads and checks.
    "credentials.verify_badge": ("badge.png", "image/png", (
        FIXTURES.parent / "openbadges" / "vectors-1edtech-ob30" / "simple-json.png").read_bytes()),
    "tickets.import_file": ("liste.csv", "text/csv", "Nom;Prénom;Date de naissance;Commune;Public\n"
                            "Martin;Jeanne;02/03/1950;Cahors;seniors\n".encode()),
    "imports.journal": ("blog.xml", "application/rss+xml", (FIXTURES / "rss2.xml").read_bytes()),
    "imports.framework": ("referentiel.yaml", "application/x-yaml", (
        "framework:\n  code: essai-upload\n  version: '1'\n  title_fr: Essai\n  domains:\n"
        "  - code: D1\n    title_fr: Domaine\n    competences:\n    - code: D1.1\n      title_fr: Compétence\n"
    ).encode()),
}

DISGUISED = [
    ("photo.jpg", "image/jpeg", b"<html><body><script>alert(document.cookie)</script></body></html>"),
    ("photo.png", "image/png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'),
    ("photo.svg", "image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ("photo.jpg.html", "text/html", b"<script>alert(1)</script>"),
    ("photo.gif", "image/gif", b"GIF89a<script>alert(1)</script>"),
    ("photo.jpg", "application/octet-stream", b"<?php system($_GET['c']); ?>"),
    ("photo.jpg", "image/jpeg", b""),
]


def real_image() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (11, 93, 82)).save(buffer, "PNG")
    return buffer.getvalue()


def upload_forms(app: Flask, db_session: Session) -> dict[str, tuple[Role | None, str, dict[str, Any], Any]]:
    """Every form with a file input on a page of the URL map: endpoint of its action -> (the role that
    saw it, the action URL, the form, that role's client)."""
    people = everyone(db_session)
    clients: dict[Role | None, Any] = {}
    adapter = app.url_map.bind("localhost")
    found: dict[str, tuple[Role | None, str, dict[str, Any], Any]] = {}
    for rule in get_rules(app):
        access = access_of(app.view_functions[rule.endpoint])
        role = None if access.public else next((r for r in Role if access.allows(people[r])), None)
        if role not in clients:
            clients[role] = client_as(app, db_session, people[role] if role else None)
        url = url_for_rule(app, rule, db_session, context(app, people, role))
        page = clients[role].get(url)
        if page.mimetype != "text/html":
            continue
        for form in forms_of(page.get_data(as_text=True)):
            if form["method"] == "post" and any(kind == "file" for _, kind, _ in form["inputs"]):
                action = urlsplit(urljoin(url, form["action"] or url)).path
                endpoint, _args = adapter.match(action, method="POST")
                found.setdefault(endpoint, (role, action, form, clients[role]))
    return found


def _fill(form: dict[str, Any], extra: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    data: dict[str, Any] = {}
    files = []
    for name, kind, value in form["inputs"]:
        if kind == "file":
            files.append(name)
        elif kind == "radio":
            data.setdefault(name, value)
        elif kind == "checkbox":
            continue
        elif kind == "date":
            data[name] = "2026-01-15"
        elif kind == "number":
            data[name] = value or "1"
        elif kind in ("submit", "button"):
            continue
        else:
            data[name] = value or "Essai"
    data.update(extra)
    return data, files


def check_uploads(forms: dict[str, tuple[Role | None, str, dict[str, Any], Any]]) -> tuple[list[str], list[str]]:
    """For each upload form: (problems, endpoints checked)."""
    problems, checked = [], []
    for endpoint, (_role, action, form, client) in sorted(forms.items(), key=lambda item: item[0]):
        data, file_fields = _fill(form, FORM_VALUES.get(endpoint, {}))

        def send(filename: str, mimetype: str, content: bytes, *, _c: Any = client, _a: str = action,
                 _d: dict[str, Any] = data, _f: list[str] = file_fields) -> Any:
            payload = dict(_d) | {name: (io.BytesIO(content), filename, mimetype) for name in _f}
            return _c.post(_a, data=payload, content_type="multipart/form-data")

        baseline = send(*REAL_FILES.get(endpoint, ("photo.png", "image/png", real_image())))
        if baseline.status_code >= 400 or "error-summary" in baseline.get_data(as_text=True):
            problems.append(f"{endpoint}: a real file was refused ({baseline.status_code}); add FORM_VALUES")
            continue
        for filename, mimetype, content in DISGUISED:
            response = send(filename, mimetype, content)
            accepted = response.status_code < 400 and "error-summary" not in response.get_data(as_text=True)
            if accepted:
                problems.append(f"{endpoint}: accepted {filename} ({mimetype}) holding {content[:20]!r}")
        checked.append(endpoint)
    return problems, checked


def test_every_upload_route_refuses_disguised_files(app: Flask, db_session: Session) -> None:
    forms = upload_forms(app, db_session)
    # The uploads people meet: journal photos, prescribers' spreadsheets, journals, frameworks.
    assert {"journal.new", "tickets.import_file", "imports.journal", "imports.framework"} <= set(forms)
    problems, checked = check_uploads(forms)
    assert problems == []
    assert sorted(checked) == sorted(forms)


# --- The harness proves itself on two routes of its own -------------------------------------------

_PAGE = """<form method="post" enctype="multipart/form-data">
<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
<input type="text" name="title" value=""><input type="file" name="photo">
{% if error %}<div class="error-summary">{{ error }}</div>{% endif %}</form>"""


def _canary_app(app: Flask) -> Flask:
    bp = Blueprint("canary", __name__)

    @bp.route("/canary/naive", methods=["GET", "POST"])
    @public
    def naive() -> Any:
        if request.method == "POST" and request.files.get("photo") and request.form.get("title"):
            return redirect("/")
        return render_template_string(_PAGE)

    @bp.route("/canary/careful", methods=["GET", "POST"])
    @public
    def careful() -> Any:
        if request.method == "POST":
            upload = request.files.get("photo")
            try:
                with Image.open(upload.stream) as image:  # type: ignore[union-attr]
                    image.verify()
                    if image.format not in ("JPEG", "PNG"):
                        raise ValueError(image.format)
            except Exception:  # noqa: BLE001
                return render_template_string(_PAGE, error="Ce fichier n'est pas une photo.")
            return redirect("/")
        return render_template_string(_PAGE)

    app.register_blueprint(bp)
    return app


def test_the_harness_catches_a_naive_upload_and_passes_a_careful_one(app: Flask, db_session: Session) -> None:
    canary = _canary_app(app)
    forms = upload_forms(canary, db_session)
    assert {"canary.naive", "canary.careful"} <= set(forms)
    problems, checked = check_uploads({k: v for k, v in forms.items() if k.startswith("canary.")})
    assert checked == ["canary.careful", "canary.naive"]
    assert problems and all(p.startswith("canary.naive:") for p in problems)
    assert len(problems) == len(DISGUISED)


@pytest.mark.parametrize("limit_mb", [1])
def test_a_body_larger_than_the_limit_is_refused_in_french(app: Flask, client: Any, limit_mb: int) -> None:
    app.config["MAX_CONTENT_LENGTH"] = limit_mb * 1024 * 1024
    response = client.post("/login", data={"username": "x" * (limit_mb * 1024 * 1024 + 10)})
    assert response.status_code == 413
    assert "Le fichier est trop lourd" in response.get_data(as_text=True)
