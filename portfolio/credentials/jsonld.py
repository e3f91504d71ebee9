"""JSON-LD with the bundled contexts only, in "safe mode", and RDF Dataset Canonicalization (RDFC-1.0).

- ``load_document`` is the document loader: it answers the context URLs of ``data/contexts/index.json`` from
  the bundled files and refuses every other URL, so canonicalizing never touches the network.
- ``canonicalize`` gives the canonical N-Quads of a document (pyld's URDNA2015, which is RDFC-1.0). In safe
  mode a property or a type that no context defines is an error instead of being silently dropped (the VC 2.0
  context has no ``@vocab``: such a term would not be signed, so a credential carrying one is refused).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from pyld import jsonld

DATA_DIR = Path(__file__).resolve().parent / "data"
CONTEXTS_DIR = DATA_DIR / "contexts"


class JsonLdProblem(ValueError):
    """The document cannot be read as JSON-LD with the bundled contexts (the message says why)."""

    def __init__(self, message: str, term: str | None = None, context: str | None = None) -> None:
        super().__init__(message)
        self.term = term
        self.context = context


@cache
def _index() -> dict[str, str]:
    return json.loads((CONTEXTS_DIR / "index.json").read_text())  # type: ignore[no-any-return]


@cache
def _context_text(url: str) -> str | None:
    name = _index().get(url)
    return (CONTEXTS_DIR / name).read_text() if name else None


def known_contexts() -> frozenset[str]:
    return frozenset(_index())


def load_document(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """pyld's document loader: a bundled context, or an error (never the network)."""
    text = _context_text(url)
    if text is None:
        raise JsonLdProblem(f"context not bundled: {url}", context=url)
    return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url,
            "document": json.loads(text)}


def _options() -> dict[str, Any]:
    return {"documentLoader": load_document, "processingMode": "json-ld-1.1"}


def _absolute(iri: str) -> bool:
    return ":" in iri and not iri.startswith(("./", "../", "#"))


def _check_types(node: Any, where: str = "") -> None:
    if isinstance(node, list):
        for item in node:
            _check_types(item, where)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "@type":
                for type_ in value if isinstance(value, list) else [value]:
                    if isinstance(type_, str) and not _absolute(type_) and not type_.startswith("_:"):
                        raise JsonLdProblem(f"type not defined by any context: {type_}", term=type_)
            elif key == "@id" and isinstance(value, str) and value and not _absolute(value) \
                    and not value.startswith("_:"):
                raise JsonLdProblem(f"identifier is not an absolute IRI: {value}", term=value)
            else:
                _check_types(value, key)


def expand(document: dict[str, Any]) -> list[Any]:
    """The expanded form, in safe mode: an undefined property or type raises ``JsonLdProblem``."""
    dropped: list[str | None] = []
    try:
        expanded = jsonld.expand(copy.deepcopy(document), _options(), on_property_dropped=dropped.append)
    except JsonLdProblem:
        raise
    except jsonld.JsonLdError as exc:
        cause = exc
        while getattr(cause, "cause", None) is not None:
            cause = cause.cause  # type: ignore[assignment]
        if isinstance(cause, JsonLdProblem):
            raise cause from exc
        raise JsonLdProblem(f"not valid JSON-LD: {exc.type if hasattr(exc, 'type') else exc}") from exc
    if dropped:
        raise JsonLdProblem(f"property not defined by any context: {dropped[0]}", term=dropped[0])
    _check_types(expanded)
    return expanded  # type: ignore[no-any-return]


def canonicalize(document: dict[str, Any]) -> str:
    """The canonical N-Quads (RDFC-1.0) of ``document``, in safe mode."""
    expanded = expand(document)
    try:
        return jsonld.normalize(expanded, {**_options(), "algorithm": "URDNA2015",  # type: ignore[no-any-return]
                                           "format": "application/n-quads"})
    except jsonld.JsonLdError as exc:
        raise JsonLdProblem(f"cannot canonicalize: {exc}") from exc
