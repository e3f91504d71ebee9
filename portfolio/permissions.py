"""Permissions as named predicates, used by views and templates alike.

Views declare who may reach them with one of three decorators, which also record the rule on the
view (``view.access``) so that the route-walking test can check every endpoint for every role:

- ``@public``: anybody, signed in or not;
- ``@signed_in``: any signed-in person;
- ``@role_required(Role.ANIMATOR, ...)``: people holding one of these roles.

Resource checks (is this learner's journal readable by this person?) are plain predicates such as
``can_manage_epm(user, epm_id)``; a refused resource answers 404, never 403, so that it does not
reveal that it exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user

from portfolio.auth.models import Role
from portfolio.extensions import login_manager

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Access:
    """Who may reach a view: ``public``, or signed in with one of ``roles`` (None: any role)."""

    public: bool = False
    roles: frozenset[Role] | None = None

    def allows(self, user: Any) -> bool:
        if self.public:
            return True
        if not getattr(user, "is_authenticated", False):
            return False
        return self.roles is None or user.has_role(*self.roles)


def _mark(view: Callable[..., Any], access: Access) -> None:
    view.access = access  # type: ignore[attr-defined]


def public(view: F) -> F:
    _mark(view, Access(public=True))
    return view


def _guarded(view: F, access: Access) -> F:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not access.allows(current_user):
            abort(404)
        return view(*args, **kwargs)

    _mark(wrapped, access)
    return wrapped  # type: ignore[return-value]


def signed_in(view: F) -> F:
    return _guarded(view, Access())


def role_required(*roles: Role) -> Callable[[F], F]:
    if not roles:
        raise ValueError("role_required needs at least one role")

    def decorator(view: F) -> F:
        return _guarded(view, Access(roles=frozenset(roles)))

    return decorator


def access_of(view: Callable[..., Any]) -> Access | None:
    return getattr(view, "access", None)


# --- Named predicates -------------------------------------------------------------------------


def has_role(user: Any, *roles: Role | str) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.has_role(*roles)


def is_staff_of(user: Any, organisation_id: int, *roles: Role | str) -> bool:
    """Whether ``user`` holds one of ``roles`` (any staff role if none given) in that organisation."""
    if not getattr(user, "is_authenticated", False):
        return False
    wanted = roles or tuple(r for r in Role if r is not Role.BENEFICIARY)
    return any(m.organisation_id == organisation_id and m.role in wanted for m in user.memberships)


def can_manage_epm(user: Any, epm_id: int) -> bool:
    """Animators run their own EPM's registrations, interviews, workshops and attendance."""
    return is_staff_of(user, epm_id, Role.ANIMATOR)


def can_administer(user: Any) -> bool:
    return has_role(user, Role.ADMIN)


def can_coordinate(user: Any) -> bool:
    return has_role(user, Role.COORDINATOR, Role.ADMIN)


def can_manage_sign_in(user: Any, account: Any) -> bool:
    """Who may give ``account`` an invitation to sign in through an identity provider, or remove
    its links: an administrator (any account), a coordinator (accounts without a coordinator or
    administrator role), an animator (the learners of their own EPMs). Whoever invites could follow
    the link themselves, so nobody may invite an account that holds more rights than they do."""
    if not getattr(user, "is_authenticated", False) or account is None:
        return False
    if user.has_role(Role.ADMIN):
        return True
    roles = account.roles
    if user.has_role(Role.COORDINATOR):
        return not roles & {Role.COORDINATOR, Role.ADMIN}
    if user.has_role(Role.ANIMATOR) and roles == {Role.BENEFICIARY}:
        epms = {org.id for org in user.organisations_for(Role.ANIMATOR)}
        return any(m.organisation_id in epms for m in account.memberships)
    return False


# Everything a template may call, as ``permissions.<name>(...)``.
TEMPLATE_PREDICATES: dict[str, Callable[..., bool]] = {
    "has_role": has_role,
    "is_staff_of": is_staff_of,
    "can_manage_epm": can_manage_epm,
    "can_administer": can_administer,
    "can_coordinate": can_coordinate,
    "can_manage_sign_in": can_manage_sign_in,
}
