"""Loading the scheme's figures and the module catalogue from the bundled data files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from competences.loader import B2I_CODE, DATA_DIR, FrameworkDataError, latest_framework, read_yaml
from competences.models import Competence
from portfolio.catalogue.models import Module, ModuleCompetence, ModuleFamily, SchemeConfig

SCHEME_FILE = DATA_DIR / "scheme.yaml"
MODULES_FILE = DATA_DIR / "modules.yaml"


def load_scheme(session: Session, code: str, path: Path = SCHEME_FILE) -> bool:
    """Store the scheme figures; True when something changed."""
    document, digest = read_yaml(path)
    data = document.get("scheme")
    if not isinstance(data, dict) or "ticket" not in data:
        raise FrameworkDataError(f"{path.name}: expected a 'scheme' with its 'ticket' figures")
    row = session.scalar(sa.select(SchemeConfig).where(SchemeConfig.code == code))
    if row is not None and row.source_hash == digest:
        return False
    if row is None:
        row = SchemeConfig(code=code, data=data, source_hash=digest)
        session.add(row)
    else:
        row.data, row.source_hash = data, digest
    session.flush()
    return True


def load_modules(session: Session, path: Path = MODULES_FILE) -> tuple[int, int]:
    """Create or update the module families and modules; returns (created, updated)."""
    document, _digest = read_yaml(path)
    catalogue = document.get("catalogue")
    if not isinstance(catalogue, dict):
        raise FrameworkDataError(f"{path.name}: expected a 'catalogue'")
    framework = latest_framework(session, B2I_CODE)
    if framework is None:
        raise FrameworkDataError(f"{path.name}: load the {B2I_CODE} framework first")
    competence_ids = dict(
        session.execute(sa.select(Competence.code, Competence.id).where(Competence.framework_id == framework.id)).all()
    )
    families = {f.code: f for f in session.scalars(sa.select(ModuleFamily))}
    modules = {
        m.number: m for m in session.scalars(sa.select(Module).options(selectinload(Module.suggested)))
    }
    created = updated = 0
    for f_pos, family_data in enumerate(catalogue.get("families") or []):
        family = families.get(family_data["code"])
        if family is None:
            family = ModuleFamily(code=family_data["code"], title=family_data["title_fr"], position=f_pos)
            session.add(family)
            session.flush()
        elif (family.title, family.position) != (family_data["title_fr"], f_pos):
            family.title, family.position = family_data["title_fr"], f_pos
        for module_data in family_data.get("modules") or []:
            wanted = _suggested_ids(module_data, competence_ids, path)
            module = modules.get(module_data["number"])
            if module is None:
                module = Module(number=module_data["number"], title=module_data["title_fr"], family_id=family.id)
                module.suggested = [ModuleCompetence(competence_id=c, position=i) for i, c in enumerate(wanted)]
                session.add(module)
                created += 1
                continue
            current = [s.competence_id for s in module.suggested]
            if (module.title, module.family_id, current) != (module_data["title_fr"], family.id, wanted):
                module.title, module.family_id = module_data["title_fr"], family.id
                if current != wanted:
                    module.suggested = []
                    session.flush()
                    module.suggested = [ModuleCompetence(competence_id=c, position=i) for i, c in enumerate(wanted)]
                updated += 1
    session.flush()
    return created, updated


def _suggested_ids(module_data: dict[str, Any], competence_ids: dict[str, int], path: Path) -> list[int]:
    ids = []
    for code in module_data.get("suggested_competences") or []:
        if code not in competence_ids:
            raise FrameworkDataError(f"{path.name}: module {module_data['number']} suggests unknown competence {code}")
        ids.append(competence_ids[code])
    return ids
