"""Figures kept between two computations.

At national scale (100 000 tickets, two million assessments) the dashboard's aggregates take seconds: every
coordinator's visit cannot pay for them. The last computation is kept in ``kept_figures`` as JSON and served
while it is younger than ``DASHBOARD_MAX_AGE_SECONDS`` and of the same day (statuses depend on the date);
the first visit after that computes again. On PostgreSQL the row is locked while it is computed (``FOR
UPDATE SKIP LOCKED``): meanwhile, other visits get the previous figures instead of computing them too.
``ticketnet stats refresh`` computes them ahead of the visits (a timer every few minutes), and the page's
"Recalculer" button on demand. A maximum age of 0 keeps nothing: every visit computes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portfolio.stats.models import KeptFigures
from portfolio.stats.services import CompetenceRow, Dashboard, Figures, ModuleRow
from portfolio.tickets.models import TicketStatus
from portfolio.timeutil import LOCAL_TZ

T = TypeVar("T")


@dataclass(frozen=True)
class Kept(Generic[T]):
    value: T
    computed_at: dt.datetime | None  # None: computed for this request, not kept


def figures(session: Session, name: str, now: dt.datetime, max_age_seconds: int, compute: Callable[[], T],
            dump: Callable[[T], dict[str, Any]], load: Callable[[dict[str, Any]], T],
            refresh: bool = False) -> Kept[T]:
    """The kept figures ``name`` if they are fresh, else computed now (and kept, unless the age is 0)."""
    if max_age_seconds <= 0:
        return Kept(compute(), None)
    kept = session.get(KeptFigures, name, populate_existing=True)
    if kept is not None and not refresh and _fresh(kept.computed_at, now, max_age_seconds):
        return Kept(load(kept.payload), kept.computed_at)
    if kept is not None and session.get_bind().dialect.name == "postgresql":
        mine = session.scalar(sa.select(KeptFigures.name).where(KeptFigures.name == name)
                              .with_for_update(skip_locked=True))
        if mine is None:  # being computed by another visit: its previous figures will do
            return Kept(load(kept.payload), kept.computed_at)
    value = compute()
    store(session, name, now, dump(value))
    return Kept(value, now)


def store(session: Session, name: str, now: dt.datetime, payload: dict[str, Any]) -> None:
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(KeptFigures).values(name=name, computed_at=now, payload=payload)
    session.execute(statement.on_conflict_do_update(
        index_elements=[KeptFigures.name], set_={"computed_at": now, "payload": payload}))


def _fresh(computed_at: dt.datetime, now: dt.datetime, max_age_seconds: int) -> bool:
    same_day = computed_at.astimezone(LOCAL_TZ).date() == now.astimezone(LOCAL_TZ).date()
    return same_day and dt.timedelta(0) <= now - computed_at < dt.timedelta(seconds=max_age_seconds)


# --- The dashboard and the competences, to and from JSON -----------------------------------------------


def _dump_figures(f: Figures) -> dict[str, Any]:
    data = {field.name: getattr(f, field.name) for field in dataclasses.fields(f)}
    data["counts"] = {status.value: n for status, n in f.counts.items()}
    return data


_STATUS = {s.value: s for s in TicketStatus}


def _load_figures(data: dict[str, Any]) -> Figures:
    return Figures(**{**data, "counts": {_STATUS[k]: v for k, v in data["counts"].items()}})


GROUPS = ("by_prescriber", "by_epm", "by_public", "by_month", "by_year")


def dump_dashboard(d: Dashboard) -> dict[str, Any]:
    return {
        "overall": _dump_figures(d.overall),
        **{group: [_dump_figures(f) for f in getattr(d, group)] for group in GROUPS},
        "modules": [dataclasses.asdict(m) for m in d.modules],
        "targets": d.targets,
        "other_share_cents": d.other_share_cents,
        "hidden": d.hidden,
    }


def load_dashboard(data: dict[str, Any], none_label: str) -> Dashboard:
    """``none_label`` names the group of tickets without an EPM in the reader's language."""
    groups = {group: [_load_figures(f) for f in data[group]] for group in GROUPS}
    groups["by_epm"] = [dataclasses.replace(f, label=none_label) if f.key is None else f for f in groups["by_epm"]]
    return Dashboard(overall=_load_figures(data["overall"]), **groups,
                     modules=[ModuleRow(**m) for m in data["modules"]], targets=dict(data["targets"]),
                     other_share_cents=int(data["other_share_cents"]), hidden=data.get("hidden"))


def dump_competences(rows: list[CompetenceRow]) -> dict[str, Any]:
    return {"rows": [dataclasses.asdict(r) for r in rows]}


def load_competences(data: dict[str, Any]) -> list[CompetenceRow]:
    return [CompetenceRow(**r) for r in data["rows"]]
