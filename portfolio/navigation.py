"""The main navigation: each feature registers its own entries with the roles that see them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from flask_babel import LazyString

from portfolio.auth.models import Role

EXTENSION_KEY = "ticketnet.nav"


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: LazyString | str
    roles: frozenset[Role]
    order: int = 100


def register(app: Flask, *items: NavItem) -> None:
    app.extensions.setdefault(EXTENSION_KEY, []).extend(items)
    app.extensions[EXTENSION_KEY].sort(key=lambda item: item.order)


def items_for(user: Any) -> list[NavItem]:
    if not getattr(user, "is_authenticated", False):
        return []
    mine = user.roles
    return [item for item in current_app.extensions.get(EXTENSION_KEY, []) if item.roles & mine]
