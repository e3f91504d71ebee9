"""Characters the database cannot store: the NUL character (PostgreSQL's text refuses it) and lone UTF-16
surrogates (they have no UTF-8 form; a JSON body can carry them as ``\\ud800``).

A request carrying one, in a form field, a query parameter, a part of the address or a JSON body, is refused
before any view runs: a French 400 page (or JSON answer) naming the field, and nothing is written. Files
that import people (the prescribers' spreadsheets) report the line through ``unstorable_problem``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

UNSTORABLE_IN_TEXT = _l("« %(text)s » contient un caractère invisible qui ne peut pas être enregistré : "
                        "retirez-le, puis réessayez.")


def has_unstorable(value: str) -> bool:
    return UNSTORABLE.search(value) is not None


def shown(value: str, length: int = 40) -> str:
    """The value as a person can read it in a message: the invisible characters removed, cut short."""
    return UNSTORABLE.sub("", value)[:length]


def unstorable_problem(value: str) -> str | None:
    """A French sentence for a typed or imported value that cannot be stored, or None."""
    return str(UNSTORABLE_IN_TEXT % {"text": shown(value)}) if has_unstorable(value) else None


@cache
def _labels() -> dict[str, str]:
    """The field names of every form of the site and their labels (the first form that names a field wins)."""
    from flask_wtf import FlaskForm
    from wtforms.fields.core import UnboundField

    found: dict[str, Any] = {}
    forms = list(FlaskForm.__subclasses__())
    while forms:
        form = forms.pop()
        forms.extend(form.__subclasses__())
        for name in dir(form):
            field = getattr(form, name, None)
            if isinstance(field, UnboundField):
                label = field.kwargs.get("label") or (field.args[0] if field.args else None)
                if label is not None:
                    found.setdefault(name, label)
    return found


def field_label(name: str) -> str:
    label = _labels().get(name)
    return str(label) if label is not None else name


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key), str(key)
            yield from _strings(item, str(key))
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, path)


def _request_values() -> Iterator[tuple[bool, str, str]]:
    """(typed in a form, name, value) of everything the request carries as text."""
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str):
            yield False, name, value
    for name, values in request.args.lists():
        for value in (name, *values):
            yield False, name, value
    for name, values in request.form.lists():
        for value in (name, *values):
            yield True, name, value
    for name, upload in request.files.items(multi=True):
        yield True, name, upload.filename or ""
    if request.is_json:
        for name, value in _strings(request.get_json(silent=True), "json"):
            yield True, name, value


def refuse_unstorable() -> Any:
    """A ``before_request`` function: the French 400 for a request carrying a character the database cannot
    store, naming the field (or the address's parameter); None otherwise."""
    from portfolio.web import error_response

    for typed, name, value in _request_values():
        if not has_unstorable(value):
            continue
        if typed:
            return error_response(400, _(
                "Le champ « %(field)s » contient un caractère invisible qui ne peut pas être enregistré (un "
                "caractère nul, par exemple, venu d'un copier-coller). Rien n'a été enregistré. Revenez en "
                "arrière, retirez ce caractère (retapez le texte de ce champ), puis envoyez à nouveau.",
                field=shown(field_label(name), 80)))
        return error_response(400, _(
            "L'adresse de la page contient un caractère invisible qui ne peut pas être enregistré (dans « "
            "%(field)s »). Rien n'a été enregistré. Vérifiez l'adresse, ou revenez à la page d'accueil.",
            field=shown(name, 80)))
    return None
