"""The main navigation: each feature registers its own entries with the roles that see them.

A learner's menu holds at most ``LEARNER_MENU_SIZE`` entries: the others are registered with
``on_home_for={Role.BENEFICIARY}`` and listed on her home page ("Mon espace") instead."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from flask_babel import LazyString

from portfolio.auth.models import Role

EXTENSION_KEY = "ticketnet.nav"
LEARNER_MENU_SIZE = 5


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: LazyString | str
    roles: frozenset[Role]
    order: int = 100
    on_home_for: frozenset[Role] = frozenset()  # roles that find this entry on their home page, not in the menu


def register(app: Flask, *items: NavItem) -> None:
    app.extensions.setdefault(EXTENSION_KEY, []).extend(items)
    app.extensions[EXTENSION_KEY].sort(key=lambda item: item.order)


def items_for(user: Any) -> list[NavItem]:
    """The menu of a signed-in person: the entries of any of their roles, except those their roles all find on
    their home page."""
    if not getattr(user, "is_authenticated", False):
        return []
    mine = user.roles
    return [item for item in current_app.extensions.get(EXTENSION_KEY, []) if (item.roles & mine) - item.on_home_for]


def home_items_for(user: Any, role: Role) -> list[NavItem]:
    """The entries that ``role``'s home page lists for this person (they are not in the menu)."""
    if not getattr(user, "is_authenticated", False) or role not in user.roles:
        return []
    return [item for item in current_app.extensions.get(EXTENSION_KEY, [])
            if role in item.roles and role in item.on_home_for]
