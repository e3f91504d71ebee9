"""A framework file imported as a new version; a version is never changed in place."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from competences.loader import B2I_CODE, FRAMEWORKS_DIR, latest_framework
from competences.models import Framework
from importers.errors import ImportRefused
from importers.framework import apply_framework, parse_framework

B2I = (FRAMEWORKS_DIR / "b2i-adultes-2010.yaml").read_bytes()
NEW_VERSION = re.sub(rb"\n  version: [^\n]*\n", b"\n  version: 2027 (essai)\n", B2I, count=1).replace(
    b"title_fr: Environnement informatique", "title_fr: Environnement numérique".encode(), 1)


def test_parse_says_what_the_file_holds() -> None:
    parsed = parse_framework(B2I)
    assert (parsed.code, parsed.domains, parsed.competences, parsed.capacities) == (B2I_CODE, 5, 18, 51)


def test_a_new_version_is_loaded_beside_the_old_one(db_session: Session) -> None:
    assert NEW_VERSION != B2I
    result = apply_framework(db_session, parse_framework(NEW_VERSION))
    assert result.created and result.label == f"{B2I_CODE} (2027 (essai))"
    versions = db_session.scalars(sa.select(Framework.version).where(Framework.code == B2I_CODE)).all()
    assert len(versions) == 2
    assert latest_framework(db_session, B2I_CODE).version == "2027 (essai)"
    again = apply_framework(db_session, parse_framework(NEW_VERSION))
    assert not again.created


def test_the_same_version_with_another_content_is_refused(db_session: Session) -> None:
    changed = B2I.replace(b"title_fr: Environnement informatique", b"title_fr: Autre chose", 1)
    with pytest.raises(ImportRefused, match="déjà chargée avec un autre contenu : un référentiel n'est jamais "
                                            "modifié, donnez une nouvelle version au fichier"):
        apply_framework(db_session, parse_framework(changed))
    assert apply_framework(db_session, parse_framework(B2I)).created is False  # the bundled file: nothing changes


@pytest.mark.parametrize("data,reason", [
    (b"mapping:\n  from: a\n  to: b\n", "correspondance entre référentiels"),
    (b"- a\n- b\n", "doit commencer par « framework: »"),
    (b"framework:\n  code: x\n  version: 1\n", "Il manque « title_fr »"),
    (b"framework:\n  code: x\n  version: 1\n  title_fr: X\n  domains: []\n", "aucun domaine"),
    (b"framework:\n  code: x\n  version: 1\n  title_fr: X\n  domains: truc\n", "« domains » doit être une liste"),
    (b"framework:\n  code: x\n  - y\n", "pas un YAML valide"),
    ("framework:\n  code: é\n".encode("latin-1"), "UTF-8"),
])
def test_malformed_framework_files_are_refused_in_french(data: bytes, reason: str) -> None:
    with pytest.raises(ImportRefused, match=reason):
        parse_framework(data)


def test_the_loader_checks_are_reported_too(db_session: Session) -> None:
    twice = NEW_VERSION.replace(b"code: D1.2\n", b"code: D1.1\n", 1)
    with pytest.raises(ImportRefused, match="Le référentiel est refusé : competence D1.1 appears twice"):
        apply_framework(db_session, parse_framework(twice))


def test_import_framework_command(runner: Any, tmp_path: Path, db_session: Session) -> None:
    path = tmp_path / "b2i-2027.yaml"
    path.write_bytes(NEW_VERSION)
    result = runner.invoke(args=["import", "framework", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (f"Référentiel {B2I_CODE} (2027 (essai)) : chargé (5 domaines, 18 compétences, "
                                     "51 capacités).")
    assert "déjà présent" in runner.invoke(args=["import", "framework", str(path)]).output
    path.write_bytes(b"framework:\n  code: x\n  - y\n")
    refused = runner.invoke(args=["import", "framework", str(path)])
    assert refused.exit_code == 1 and f"Erreur : {path}, ligne 3 : Ce fichier n'est pas un YAML valide." in \
        refused.output
