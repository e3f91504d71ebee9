"""The scheme's rules and figures, read from the database (loaded from ``scheme.yaml`` by ``ticketnet init``)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, has_app_context
from sqlalchemy.orm import Session

from portfolio.catalogue.models import SchemeConfig


class SchemeNotLoaded(RuntimeError):
    """The scheme figures are missing: run ``ticketnet init``."""


@dataclass(frozen=True)
class Scheme:
    data: dict[str, Any]

    @property
    def ticket(self) -> dict[str, Any]:
        return self.data["ticket"]

    @property
    def value_cents(self) -> int:
        return int(self.ticket["nominal_value_eur"]) * 100

    @property
    def hours(self) -> int:
        return int(self.ticket["hours"])

    @property
    def sessions(self) -> int:
        return int(self.ticket["sessions"])

    @property
    def session_minutes(self) -> int:
        return int(self.ticket["session_minutes"])

    @property
    def validity_months(self) -> int:
        return int(self.ticket["validity_months"])

    @property
    def modules_to_choose(self) -> int:
        return int(self.ticket["modules_to_choose"])

    @property
    def group_size(self) -> int:
        return int(self.data["workshops"]["group_size"])

    @property
    def public_categories(self) -> dict[str, str]:
        return {c["code"]: c["label_fr"] for c in self.data["public_categories"]}

    @property
    def epm_share_cents(self) -> int:
        return int(self.data["split_per_ticket_eur"]["epm_reception_and_animation"]) * 100


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``data`` with the figures changed on the settings page: ``{"ticket.hours": 24}`` sets
    ``data["ticket"]["hours"]`` (a copy; ``data`` is left as it is)."""
    merged = copy.deepcopy(data)
    for key, value in (overrides or {}).items():
        *path, last = key.split(".")
        target = merged
        for part in path:
            target = target.setdefault(part, {})
        target[last] = value
    return merged


def load_scheme_config(session: Session, code: str) -> Scheme:
    row = session.execute(sa.select(SchemeConfig.data, SchemeConfig.overrides).where(SchemeConfig.code == code)).first()
    if row is None:
        raise SchemeNotLoaded(f"the scheme {code!r} is not loaded: run 'ticketnet init'")
    return Scheme(apply_overrides(row.data, row.overrides))


def current_scheme(session: Session) -> Scheme:
    """The scheme of this application, read once per application context."""
    if has_app_context() and "_scheme" in g:
        return g._scheme
    scheme = load_scheme_config(session, current_app.config["SCHEME_CODE"])
    if has_app_context():
        g._scheme = scheme
    return scheme
