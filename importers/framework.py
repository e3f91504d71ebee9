"""A competence framework file (the shape of ``competences/data/frameworks/*.yaml``), imported as a new
version. ``parse_framework`` checks the bytes (size, UTF-8, no YAML alias, the expected shape) and
says what the file holds; ``apply_framework`` loads it with the competence loader, which refuses to
change a version already loaded (a new content needs a new version)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from competences.loader import FrameworkDataError, LoadResult, load_framework
from importers.errors import ImportRefused
from importers.safety import MB, check_size

MAX_BYTES = 2 * MB
MAX_EVENTS = 200_000


@dataclass(frozen=True)
class FrameworkFile:
    code: str
    version: str
    title: str
    domains: int
    competences: int
    capacities: int
    data: bytes


def _load(data: bytes) -> Any:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRefused(_l("Le fichier doit être enregistré en UTF-8.")) from exc
    try:
        # Aliases (&a / *a) let a small file describe a huge document ("billion laughs"): refused.
        for count, event in enumerate(yaml.parse(text, Loader=yaml.SafeLoader)):
            if isinstance(event, yaml.AliasEvent):
                raise ImportRefused(_l("Le fichier utilise des alias YAML (*) : ils ne sont pas acceptés."))
            if count > MAX_EVENTS:
                raise ImportRefused(_l("Le fichier est trop long pour un référentiel."))
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
        raise ImportRefused(_l("Ce fichier n'est pas un YAML valide."), line=line) from exc
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise ImportRefused(_l("Ce fichier n'est pas un YAML valide.")) from exc


def _items(value: Any, what: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ImportRefused(_l("« %(what)s » doit être une liste.", what=what))
    return value


def parse_framework(data: bytes) -> FrameworkFile:
    check_size(data, MAX_BYTES)
    document = _load(data)
    if isinstance(document, dict) and "mapping" in document:
        raise ImportRefused(_l("C'est une correspondance entre référentiels, pas un référentiel."))
    framework = document.get("framework") if isinstance(document, dict) else None
    if not isinstance(framework, dict):
        raise ImportRefused(_l("Le fichier doit commencer par « framework: » (la forme des fichiers de "
                               "competences/data/frameworks/)."))
    for key in ("code", "version", "title_fr"):
        if not isinstance(framework.get(key), str | int | float) or not str(framework[key]).strip():
            raise ImportRefused(_l("Il manque « %(key)s » au référentiel.", key=key))
    domains = _items(framework.get("domains"), "domains")
    if not domains:
        raise ImportRefused(_l("Le référentiel n'a aucun domaine."))
    competences = [c for d in domains for c in _items(d.get("competences") or [], "competences")]
    capacities = [k for c in competences for k in _items(c.get("capacities") or [], "capacities")]
    return FrameworkFile(str(framework["code"]), str(framework["version"]), str(framework["title_fr"]),
                         len(domains), len(competences), len(capacities), data)


def apply_framework(session: Session, parsed: FrameworkFile) -> LoadResult:
    """Load the framework as a new version; the same file again changes nothing."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "framework.yaml"
        path.write_bytes(parsed.data)
        try:
            return load_framework(session, path)
        except FrameworkDataError as exc:
            reason = str(exc).removeprefix(f"{path.name}: ")
            if "already loaded with a different content" in reason:
                raise ImportRefused(_l("La version « %(version)s » du référentiel %(code)s est déjà chargée avec un "
                                       "autre contenu : un référentiel n'est jamais modifié, donnez une nouvelle "
                                       "version au fichier.", version=parsed.version, code=parsed.code)) from exc
            raise ImportRefused(_l("Le référentiel est refusé : %(reason)s", reason=reason)) from exc
