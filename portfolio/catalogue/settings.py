"""Everyday settings, changed without a developer by the coordination and the administrators:

- the terms of the tickets issued from now on (value, hours, workshops, the split of the value): a ticket
  keeps the terms printed on it when it was issued (``Ticket.value_cents``, ``hours``...), so a change never
  touches the tickets already issued;
- the annual plan (beneficiaries aimed at) and the annual budget lines (their total is their sum);
- the module catalogue: add a module, retire one (never deleted: paths and workshops name it), bring one back.

The figures changed are kept in ``SchemeConfig.overrides`` over the bundled ``scheme.yaml`` (reloading it
keeps them); every change is a ``SettingChange`` row (before, after, who, when) and an audit event. A form
carries the id of the newest change it was shown; a save made on an older one is refused, so that two people
never overwrite each other's figures without seeing them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, has_app_context
from flask_babel import LazyString, format_decimal
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from portfolio.audit import services as audit
from portfolio.auth.models import User
from portfolio.catalogue.models import Module, ModuleFamily, SchemeConfig, SettingChange
from portfolio.catalogue.scheme import Scheme, apply_overrides
from portfolio.db import utcnow
from portfolio.enrolment.models import PathModule, WorkshopSession


class SettingsRefused(ValueError):
    """The change is refused; the message says why, in French (``field``: the figure it concerns)."""

    def __init__(self, message: object, field: str = "") -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message)


@dataclass(frozen=True)
class Figure:
    key: str  # a dotted path in the scheme's data, e.g. ticket.hours
    label: LazyString
    minimum: int
    maximum: int

    @property
    def field(self) -> str:
        return self.key.replace(".", "__")


TICKET_FIGURES: tuple[Figure, ...] = (
    Figure("ticket.nominal_value_eur", _l("Valeur d'un ticket (euros)"), 1, 10_000),
    Figure("ticket.hours", _l("Heures d'atelier par ticket"), 1, 200),
    Figure("ticket.sessions", _l("Nombre d'ateliers par ticket"), 1, 100),
    Figure("split_per_ticket_eur.epm_reception_and_animation", _l("Part de l'EPM : accueil et animation (euros)"),
           0, 10_000),
    Figure("split_per_ticket_eur.administrative_and_financial_management",
           _l("Gestion administrative et financière (euros)"), 0, 10_000),
    Figure("split_per_ticket_eur.pedagogical_coordination", _l("Coordination pédagogique (euros)"), 0, 10_000),
    Figure("split_per_ticket_eur.communication", _l("Communication (euros)"), 0, 10_000),
)
PLAN_FIGURES: tuple[Figure, ...] = (
    Figure("targets.beneficiaries_per_year", _l("Bénéficiaires visés par an"), 0, 1_000_000),
    Figure("annual_budget_eur.epm_remuneration", _l("Rémunération des EPM (euros par an)"), 0, 100_000_000),
    Figure("annual_budget_eur.management_fees", _l("Frais de gestion (euros par an)"), 0, 100_000_000),
    Figure("annual_budget_eur.pedagogical_coordination", _l("Coordination pédagogique (euros par an)"), 0,
           100_000_000),
    Figure("annual_budget_eur.communication", _l("Communication (euros par an)"), 0, 100_000_000),
)
BUDGET_TOTAL = "annual_budget_eur.total"
SPLIT_PREFIX = "split_per_ticket_eur."
BUDGET_PREFIX = "annual_budget_eur."


def value_of(data: dict[str, Any], key: str) -> Any:
    node: Any = data
    for part in key.split("."):
        node = node[part]
    return node


def current_values(scheme: Scheme, figures: tuple[Figure, ...]) -> dict[str, int]:
    return {f.key: int(value_of(scheme.data, f.key)) for f in figures}


def last_change_id(session: Session) -> int:
    return int(session.scalar(sa.select(sa.func.max(SettingChange.id))) or 0)


def latest_changes(session: Session, prefix: str = "") -> dict[str, SettingChange]:
    """The newest change of each setting (whose key starts with ``prefix``), in one query."""
    newest = sa.select(sa.func.max(SettingChange.id)).group_by(SettingChange.key)
    if prefix:
        newest = newest.where(SettingChange.key.like(f"{prefix}%"))
    return {c.key: c for c in session.scalars(sa.select(SettingChange).where(SettingChange.id.in_(newest)))}


def history(session: Session, limit: int = 30) -> list[SettingChange]:
    return list(session.scalars(sa.select(SettingChange).order_by(SettingChange.id.desc()).limit(limit)))


def _forget_cached_scheme() -> None:
    if has_app_context():
        g.pop("_scheme", None)


def _record(session: Session, key: str, previous: Any, value: Any, actor: User | None) -> None:
    session.add(SettingChange(key=key, previous=previous, value=value, changed_by_id=actor.id if actor else None,
                              changed_by_name=actor.display_name if actor else "ticketnet", changed_at=utcnow()))


def _check_coherence(after: dict[str, Any], figures: tuple[Figure, ...]) -> None:
    if figures is TICKET_FIGURES:
        ticket = after["ticket"]
        minutes = int(ticket["session_minutes"])
        if int(ticket["hours"]) * 60 != int(ticket["sessions"]) * minutes:
            hours = format_decimal(int(ticket["sessions"]) * minutes / 60)
            raise SettingsRefused(_l("Les heures et les ateliers ne vont pas ensemble : %(sessions)s ateliers de "
                                     "%(minutes)s minutes font %(hours)s heures.", sessions=ticket["sessions"],
                                     minutes=minutes, hours=hours), "ticket__hours")
        split = sum(int(v) for v in after["split_per_ticket_eur"].values())
        if split != int(ticket["nominal_value_eur"]):
            raise SettingsRefused(_l("Les parts du ticket font %(split)s euros, mais sa valeur est %(value)s euros : "
                                     "elles doivent faire exactement sa valeur.", split=split,
                                     value=ticket["nominal_value_eur"]),
                                  "split_per_ticket_eur__epm_reception_and_animation")


def change_figures(session: Session, code: str, figures: tuple[Figure, ...], values: dict[str, int],
                   actor: User | None, seen: int, ip: str = "") -> list[str]:
    """Save the figures of one form (``TICKET_FIGURES`` or ``PLAN_FIGURES``); returns the keys changed.
    Refused (nothing saved) when a figure is out of its range, when they do not hold together (hours and
    workshops; the split and the value), or when a change newer than ``seen`` was saved meanwhile."""
    row = session.scalar(sa.select(SchemeConfig).where(SchemeConfig.code == code).with_for_update())
    if row is None:
        raise SettingsRefused(_l("Le dispositif n'est pas chargé : lancez « ticketnet init »."))
    if last_change_id(session) != seen:
        raise SettingsRefused(_l("Quelqu'un a changé des réglages pendant que vous les modifiiez : voici les valeurs "
                                 "actuelles. Refaites vos changements."), "seen")
    for figure in figures:
        value = values.get(figure.key)
        if value is None or not figure.minimum <= value <= figure.maximum:
            biggest = format_decimal(figure.maximum)
            raise SettingsRefused(_l("« %(label)s » : un nombre entier de %(min)s à %(max)s.", label=figure.label,
                                     min=figure.minimum, max=biggest), figure.field)
    before = apply_overrides(row.data, row.overrides)
    overrides = dict(row.overrides or {})
    changed = [f.key for f in figures if int(value_of(before, f.key)) != values[f.key]]
    overrides.update({key: values[key] for key in changed})
    if figures is PLAN_FIGURES and changed:
        overrides[BUDGET_TOTAL] = sum(values[f.key] for f in figures if f.key.startswith(BUDGET_PREFIX))
    after = apply_overrides(row.data, overrides)
    _check_coherence(after, figures)
    if not changed:
        return []
    for key in changed:
        _record(session, key, {"value": value_of(before, key)}, {"value": values[key]}, actor)
    if BUDGET_TOTAL in overrides and value_of(before, BUDGET_TOTAL) != overrides[BUDGET_TOTAL]:
        _record(session, BUDGET_TOTAL, {"value": value_of(before, BUDGET_TOTAL)}, {"value": overrides[BUDGET_TOTAL]},
                actor)
    row.overrides = overrides
    session.flush()
    _forget_cached_scheme()
    audit.record(session, "settings.changed", actor=actor, target_type="scheme", target_id=code, ip=ip,
                 details={key: [value_of(before, key), values[key]] for key in changed})
    return changed


# --- The module catalogue ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ModuleRow:
    module: Module
    paths: int  # learning paths that hold it
    workshops: int
    change: SettingChange | None  # its newest change here (added, retired, brought back)


def catalogue(session: Session) -> list[tuple[ModuleFamily, list[ModuleRow]]]:
    """Every family with its modules, how much they were followed and their newest change (four queries)."""
    families = list(session.scalars(sa.select(ModuleFamily).options(selectinload(ModuleFamily.modules))
                                    .order_by(ModuleFamily.position)))
    paths = dict(session.execute(sa.select(PathModule.module_id, sa.func.count()).group_by(PathModule.module_id)).all())
    workshops = dict(session.execute(sa.select(WorkshopSession.module_id, sa.func.count())
                                     .group_by(WorkshopSession.module_id)).all())
    changes = latest_changes(session, "module.")
    return [(family, [ModuleRow(m, int(paths.get(m.id, 0)), int(workshops.get(m.id, 0)),
                                changes.get(f"module.{m.number}")) for m in family.modules]) for family in families]


def add_module(session: Session, family_id: int, title: str, actor: User | None, ip: str = "") -> Module:
    """A new module at the end of the catalogue (the next number). A title already there is refused (the same
    form sent twice adds one module)."""
    title = " ".join((title or "").split())
    family = session.get(ModuleFamily, family_id)
    if family is None:
        raise SettingsRefused(_l("Choisissez la famille du module."), "family")
    if not 3 <= len(title) <= 300:
        raise SettingsRefused(_l("Écrivez le titre du module (de 3 à 300 caractères)."), "title")
    existing = session.scalar(sa.select(Module).where(sa.func.lower(Module.title) == title.lower()))
    if existing is not None:
        raise SettingsRefused(_l("Le module « %(title)s » existe déjà (n° %(number)s).", title=existing.title,
                                 number=existing.number), "title")
    number = int(session.scalar(sa.select(sa.func.max(Module.number))) or 0) + 1
    module = Module(number=number, title=title, family_id=family.id)
    module.suggested = []
    try:
        with session.begin_nested():
            session.add(module)
            session.flush()
    except IntegrityError:  # two modules added at once: the same number, or the same title
        raise SettingsRefused(_l("Un module vient d'être ajouté en même temps : rechargez la page et vérifiez le "
                                 "catalogue avant de recommencer."), "title") from None
    _record(session, f"module.{number}", None, {"action": "added", "title": title}, actor)
    audit.record(session, "catalogue.module_added", actor=actor, target_type="module", target_id=module.id, ip=ip,
                 details={"number": number, "title": title, "family": family.code})
    return module


def set_retired(session: Session, module: Module, retired: bool, actor: User | None, ip: str = "") -> bool:
    """Retire a module (nobody may choose it for a new path, a workshop or an EPM's offer; paths and workshops
    that hold it keep it) or bring it back; False when it already was."""
    if (module.retired_at is not None) == retired:
        return False
    module.retired_at = utcnow() if retired else None
    session.flush()
    action = "retired" if retired else "restored"
    _record(session, f"module.{module.number}", {"title": module.title}, {"action": action, "title": module.title},
            actor)
    audit.record(session, f"catalogue.module_{action}", actor=actor, target_type="module", target_id=module.id, ip=ip,
                 details={"number": module.number})
    return True


def scheme_code() -> str:
    return str(current_app.config["SCHEME_CODE"])
