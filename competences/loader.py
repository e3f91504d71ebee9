"""Loading competence frameworks, their everyday words and mappings from their data files (the shape of
``data/frameworks``).

A framework version is identified by ``(code, version)``. Loading the same file again changes nothing;
loading a different content under a version already stored is refused: a framework in use is never
changed in place, a new version is loaded instead.

Everyday words (``*.plain-words.yaml``, top-level key ``plain_words``) are keyed by the framework's code and
the codes of its domains and competences: they load onto the versions already there, without a new version,
and apply to later versions that keep the same codes. A new content is a new row; the newest one is shown.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from sqlalchemy.orm import Session

from competences.models import (
    Capacity,
    Competence,
    Framework,
    FrameworkDomain,
    FrameworkMapping,
    MappingPair,
    PlainWords,
)

DATA_DIR = Path(__file__).resolve().parent / "data"
FRAMEWORKS_DIR = DATA_DIR / "frameworks"
B2I_CODE = "b2i-adultes-2010"
PIX_CODE = "pix-crcn-2019"


class FrameworkDataError(ValueError):
    """A framework or mapping file that cannot be loaded; the message says why."""


@dataclass(frozen=True)
class LoadResult:
    label: str
    created: bool


MAX_FILE_BYTES = 2 * 1024 * 1024


def read_yaml(path: Path) -> tuple[dict[str, Any], str]:
    """The parsed document and a hash of its content (independent of formatting). Files may come from
    elsewhere (``ticketnet frameworks import``): too large a file, and YAML aliases, which let a small
    file describe a huge document, are refused."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise FrameworkDataError(f"{path.name}: the file is larger than {MAX_FILE_BYTES // 1024 // 1024} MB")
        text = path.read_text(encoding="utf-8")
        if any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text, Loader=yaml.SafeLoader)):
            raise FrameworkDataError(f"{path.name}: YAML aliases (*name) are not accepted")
        document = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise FrameworkDataError(f"{path.name}: cannot read the file ({exc})") from exc
    if not isinstance(document, dict):
        raise FrameworkDataError(f"{path.name}: expected a mapping at the top level")
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, default=str)
    return document, hashlib.sha256(canonical.encode()).hexdigest()


def _require(mapping: dict[str, Any], key: str, where: str) -> Any:
    if not isinstance(mapping, dict) or key not in mapping or mapping[key] in (None, ""):
        raise FrameworkDataError(f"{where}: missing {key!r}")
    return mapping[key]


def _newest_of(query: sa.Select[Any], code: str) -> sa.Select[Any]:
    """``query`` on the frameworks of ``code``, the newest version first."""
    return query.where(Framework.code == code).order_by(Framework.loaded_at.desc(), Framework.id.desc()).limit(1)


def latest_framework(session: Session, code: str) -> Framework | None:
    return session.scalar(_newest_of(sa.select(Framework), code))


def latest_framework_id(session: Session, code: str) -> int | None:
    """The newest version's id only (the tree itself is kept by ``competences.services``)."""
    return session.scalar(_newest_of(sa.select(Framework.id), code))


def load_framework(session: Session, path: Path) -> LoadResult:
    document, digest = read_yaml(path)
    data = _require(document, "framework", path.name)
    code = str(_require(data, "code", path.name))
    version = str(_require(data, "version", path.name))
    existing = session.scalar(sa.select(Framework).where(Framework.code == code, Framework.version == version))
    if existing is not None:
        if existing.source_hash != digest:
            raise FrameworkDataError(
                f"{path.name}: framework {code} version {version!r} is already loaded with a different "
                "content; a framework is never changed in place, give the new content a new version"
            )
        return LoadResult(f"{code} ({version})", created=False)

    levels = data.get("levels") or []
    framework = Framework(
        code=code,
        version=version,
        title=str(_require(data, "title_fr", path.name)),
        title_en=str(data.get("title_en", "")),
        provenance=str(data.get("provenance", "")),
        certification_rule=data.get("certification_rule"),
        levels={"levels": levels},
        source_hash=digest,
    )
    seen: set[str] = set()
    for d_pos, domain_data in enumerate(_require(data, "domains", path.name)):
        d_code = str(_require(domain_data, "code", f"{path.name}: domain #{d_pos + 1}"))
        domain = FrameworkDomain(
            code=d_code,
            title=str(_require(domain_data, "title_fr", f"{path.name}: domain {d_code}")),
            objective=str(domain_data.get("objective_fr", "")),
            position=d_pos,
        )
        framework.domains.append(domain)
        for c_pos, comp_data in enumerate(domain_data.get("competences") or []):
            c_code = str(_require(comp_data, "code", f"{path.name}: domain {d_code}"))
            if c_code in seen:
                raise FrameworkDataError(f"{path.name}: competence {c_code} appears twice")
            seen.add(c_code)
            competence = Competence(
                code=c_code,
                title=str(_require(comp_data, "title_fr", f"{path.name}: competence {c_code}")),
                position=c_pos,
                framework=framework,
            )
            domain.competences.append(competence)
            for k_pos, cap_data in enumerate(comp_data.get("capacities") or []):
                k_code = str(_require(cap_data, "code", f"{path.name}: competence {c_code}"))
                competence.capacities.append(
                    Capacity(
                        code=k_code,
                        title=str(_require(cap_data, "title_fr", f"{path.name}: capacity {k_code}")),
                        position=k_pos,
                    )
                )
    _check_rule(framework, path.name)
    session.add(framework)
    session.flush()
    return LoadResult(f"{code} ({version})", created=True)


def _check_rule(framework: Framework, where: str) -> None:
    rule = framework.certification_rule or {}
    minimums = rule.get("min_validated_per_domain") or {}
    domains = {d.code: d for d in framework.domains}
    for domain_code, minimum in minimums.items():
        domain = domains.get(str(domain_code))
        if domain is None:
            raise FrameworkDataError(f"{where}: the certification rule names an unknown domain {domain_code}")
        if not isinstance(minimum, int) or not 0 < minimum <= len(domain.competences):
            raise FrameworkDataError(f"{where}: the minimum for domain {domain_code} must be 1 to "
                                     f"{len(domain.competences)}")


def load_mapping(session: Session, path: Path) -> LoadResult:
    document, digest = read_yaml(path)
    data = _require(document, "mapping", path.name)
    source = latest_framework(session, str(_require(data, "from", path.name)))
    target = latest_framework(session, str(_require(data, "to", path.name)))
    if source is None or target is None:
        raise FrameworkDataError(f"{path.name}: load the frameworks {data['from']} and {data['to']} first")
    label = f"{source.code} -> {target.code}"
    existing = session.scalar(
        sa.select(FrameworkMapping).where(
            FrameworkMapping.from_framework_id == source.id, FrameworkMapping.to_framework_id == target.id
        )
    )
    if existing is not None:
        if existing.source_hash != digest:
            raise FrameworkDataError(f"{path.name}: the mapping {label} is already loaded with another content")
        return LoadResult(label, created=False)

    codes = {
        framework_id: dict(
            session.execute(
                sa.select(Competence.code, Competence.id).where(Competence.framework_id == framework_id)
            ).all()
        )
        for framework_id in (source.id, target.id)
    }
    mapping = FrameworkMapping(
        from_framework_id=source.id,
        to_framework_id=target.id,
        official=bool(data.get("official", False)),
        note=str(data.get("note_fr", "")),
        source_hash=digest,
    )
    for from_code, to_codes in (data.get("pairs") or {}).items():
        from_id = codes[source.id].get(str(from_code))
        if from_id is None:
            raise FrameworkDataError(f"{path.name}: unknown competence {from_code} in {source.code}")
        for position, to_code in enumerate(to_codes or []):
            to_id = codes[target.id].get(str(to_code))
            if to_id is None:
                raise FrameworkDataError(f"{path.name}: unknown competence {to_code} in {target.code}")
            mapping.pairs.append(MappingPair(from_competence_id=from_id, to_competence_id=to_id, position=position))
    session.add(mapping)
    session.flush()
    return LoadResult(label, created=True)


# Everyday words: short enough to read at a glance on a phone.
MAX_LABEL = 80
MAX_EXAMPLE = 160


def _words(entries: Any, where: str, known: set[str], example: bool) -> dict[str, dict[str, str]]:
    if entries is None:
        return {}
    if not isinstance(entries, dict):
        raise FrameworkDataError(f"{where}: expected a mapping of codes")
    words: dict[str, dict[str, str]] = {}
    for code, entry in entries.items():
        code = str(code)
        if code not in known:
            raise FrameworkDataError(f"{where}: unknown code {code} (not in the latest version of the framework)")
        fields = ("label_fr", "example_fr") if example else ("label_fr",)
        for key in fields:
            _require(entry, key, f"{where} {code}")
        kept = {}
        for key in ("label_fr", "label_en", "example_fr", "example_en"):
            value = " ".join(str(entry.get(key) or "").split())
            limit = MAX_EXAMPLE if key.startswith("example") else MAX_LABEL
            if len(value) > limit:
                raise FrameworkDataError(f"{where} {code}: {key} is longer than {limit} characters")
            if value and (example or key.startswith("label")):
                kept[key] = value
        words[code] = kept
    return words


def load_plain_words(session: Session, path: Path) -> LoadResult:
    """Load everyday words onto a framework already loaded (every version of its code); the same content as the
    newest words of that framework changes nothing, another content becomes the newest."""
    document, digest = read_yaml(path)
    data = _require(document, "plain_words", path.name)
    code = str(_require(data, "framework", path.name))
    framework_id = latest_framework_id(session, code)
    if framework_id is None:
        raise FrameworkDataError(f"{path.name}: load the framework {code} first")
    label = f"{code} (everyday words)"
    newest = session.scalar(sa.select(PlainWords).where(PlainWords.framework_code == code)
                            .order_by(PlainWords.loaded_at.desc(), PlainWords.id.desc()).limit(1))
    if newest is not None and newest.source_hash == digest:
        return LoadResult(label, created=False)
    domains = set(session.scalars(sa.select(FrameworkDomain.code).where(FrameworkDomain.framework_id == framework_id)))
    competences = set(session.scalars(sa.select(Competence.code).where(Competence.framework_id == framework_id)))
    words = {
        "domains": _words(data.get("domains"), f"{path.name}: domain", domains, example=False),
        "competences": _words(data.get("competences"), f"{path.name}: competence", competences, example=True),
    }
    session.add(PlainWords(framework_code=code, words=words, source_hash=digest))
    session.flush()
    return LoadResult(label, created=True)


def kind_of(document: dict[str, Any]) -> str:
    """What a data file holds: ``framework``, ``plain_words`` or ``mapping`` (its top-level key)."""
    for kind in ("framework", "plain_words", "mapping"):
        if kind in document:
            return kind
    raise FrameworkDataError("expected 'framework', 'plain_words' or 'mapping' at the top level")


LOADERS = {"framework": load_framework, "plain_words": load_plain_words, "mapping": load_mapping}


def load_files(session: Session, paths: list[Path]) -> list[LoadResult]:
    """Load data files in the order they depend on each other: frameworks, then their everyday words, then the
    mappings between them (so that one run may name a framework it loads)."""
    kinds = {}
    for path in paths:
        try:
            kinds[path] = kind_of(read_yaml(path)[0])
        except FrameworkDataError as exc:
            raise FrameworkDataError(f"{path.name}: {exc}") from exc
    return [LOADERS[kind](session, path) for kind in LOADERS for path in paths if kinds[path] == kind]


def load_bundled(session: Session) -> list[LoadResult]:
    """Load the frameworks shipped with the application, their everyday words, then the mappings between them."""
    return load_files(session, sorted(FRAMEWORKS_DIR.glob("*.yaml")))


@dataclass(frozen=True)
class FrameworkCounts:
    framework: Framework
    domains: int
    competences: int
    capacities: int


def framework_counts(session: Session) -> list[FrameworkCounts]:
    domains = (
        sa.select(sa.func.count(FrameworkDomain.id))
        .where(FrameworkDomain.framework_id == Framework.id)
        .scalar_subquery()
    )
    competences = (
        sa.select(sa.func.count(Competence.id)).where(Competence.framework_id == Framework.id).scalar_subquery()
    )
    capacities = (
        sa.select(sa.func.count(Capacity.id))
        .join(Competence, Competence.id == Capacity.competence_id)
        .where(Competence.framework_id == Framework.id)
        .scalar_subquery()
    )
    rows = session.execute(
        sa.select(Framework, domains, competences, capacities).order_by(Framework.code, Framework.id)
    )
    return [FrameworkCounts(f, d, c, k) for f, d, c, k in rows]
