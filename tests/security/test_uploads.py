"""Upload type confusion: every route that takes a file refuses a file whose content is not what it
claims (HTML or SVG with script named .jpg, a PHP script, a GIF header followed by script, an empty
file), while the same form with a real image goes through.

Upload routes are found in the code (a view that reads ``request.files`` or a form with a
``FileField``), then their form is found on the route's page, walked as a role that may use it, and
filled in like a person would. A feature whose form needs particular values adds them to
``FORM_VALUES``. The test proves its own harness on two routes of its own: a naive upload, which it
must catch, and a careful one, which it must pass.
"""

from __future__ import annotations

import inspect
import io
from typing import Any

import pytest
from flask import Blueprint, Flask, redirect, render_template_string, request
from flask_wtf import FlaskForm
from PIL import Image
from sqlalchemy.orm import Session
from wtforms import FileField
from wtforms.fields.core import UnboundField

from portfolio.auth.models import Role
from portfolio.permissions import access_of, public
from tests.security.walk import client_as, context, everyone, forms_of, state_changing_rules, url_for_rule

# endpoint -> values for the non-file fields of its form (when walking the page's defaults is not enough).
FORM_VALUES: dict[str, dict[str, str]] = {}

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


def _file_fields(form_class: type) -> list[str]:
    names = []
    for klass in form_class.__mro__:
        for name, value in vars(klass).items():
            if isinstance(value, UnboundField) and issubclass(value.field_class, FileField):
                names.append(name)
    return names


def upload_endpoints(app: Flask) -> set[str]:
    """Endpoints whose view reads files: ``request.files`` in its source, or a form with a FileField
    in its module."""
    found = set()
    for rule, _method in state_changing_rules(app):
        view = inspect.unwrap(app.view_functions[rule.endpoint])
        source = inspect.getsource(view)
        module = inspect.getmodule(view)
        file_forms = {name for name, obj in vars(module).items()
                      if isinstance(obj, type) and issubclass(obj, FlaskForm) and _file_fields(obj)}
        if "request.files" in source or any(name in source for name in file_forms):
            found.add(rule.endpoint)
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


def check_uploads(app: Flask, db_session: Session, endpoints: set[str]) -> tuple[list[str], list[str]]:
    """For each upload endpoint: (problems, endpoints checked)."""
    people = everyone(db_session)
    problems, checked = [], []
    rules = {rule.endpoint: (rule, method) for rule, method in state_changing_rules(app)}
    for endpoint in sorted(endpoints):
        rule, method = rules[endpoint]
        access = access_of(app.view_functions[endpoint])
        role = None if access.public else next(r for r in Role if access.allows(people[r]))
        ctx = context(app, people, role)
        url = url_for_rule(app, rule, db_session, ctx)
        client = client_as(app, db_session, people[role] if role else None)
        page = client.get(url)
        upload_forms = [f for f in forms_of(page.get_data(as_text=True))
                        if any(kind == "file" for _, kind, _ in f["inputs"])]
        if not upload_forms:
            problems.append(f"{endpoint}: no form with a file input on GET {url}")
            continue
        form = upload_forms[0]
        action = form["action"] or url
        data, file_fields = _fill(form, FORM_VALUES.get(endpoint, {}))

        def send(filename: str, mimetype: str, content: bytes, *, _c: Any = client, _a: str = action,
                 _d: dict[str, Any] = data, _f: list[str] = file_fields) -> Any:
            payload = dict(_d) | {name: (io.BytesIO(content), filename, mimetype) for name in _f}
            return _c.post(_a, data=payload, content_type="multipart/form-data")

        baseline = send("photo.png", "image/png", real_image())
        if baseline.status_code >= 400 or "error-summary" in baseline.get_data(as_text=True):
            problems.append(f"{endpoint}: a real image was refused ({baseline.status_code}); add FORM_VALUES")
            continue
        for filename, mimetype, content in DISGUISED:
            response = send(filename, mimetype, content)
            accepted = response.status_code < 400 and "error-summary" not in response.get_data(as_text=True)
            if accepted:
                problems.append(f"{endpoint}: accepted {filename} ({mimetype}) holding {content[:20]!r}")
        checked.append(endpoint)
    return problems, checked


def test_every_upload_route_refuses_disguised_files(app: Flask, db_session: Session) -> None:
    endpoints = upload_endpoints(app)
    problems, checked = check_uploads(app, db_session, endpoints)
    assert problems == []
    assert sorted(checked) == sorted(endpoints)


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
    assert {"canary.naive", "canary.careful"} <= upload_endpoints(canary)
    problems, checked = check_uploads(canary, db_session, {"canary.naive", "canary.careful"})
    assert checked == ["canary.careful", "canary.naive"]
    assert problems and all(p.startswith("canary.naive:") for p in problems)
    assert len(problems) == len(DISGUISED)


@pytest.mark.parametrize("limit_mb", [1])
def test_a_body_larger_than_the_limit_is_refused_in_french(app: Flask, client: Any, limit_mb: int) -> None:
    app.config["MAX_CONTENT_LENGTH"] = limit_mb * 1024 * 1024
    response = client.post("/login", data={"username": "x" * (limit_mb * 1024 * 1024 + 10)})
    assert response.status_code == 413
    assert "Le fichier est trop lourd" in response.get_data(as_text=True)
