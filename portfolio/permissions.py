"""Permissions as named predicates, used by views and templates alike.

Views declare who may reach them with one of three decorators, which also record the rule on the
view (``view.access``) so that the route-walking test can check every endpoint for every role:

- ``@public``: anybody, signed in or not;
- ``@signed_in``: any signed-in person;
- ``@role_required(Role.ANIMATOR, ...)``: people holding one of these roles;
- ``@token_required("scope", ...)``: partner systems holding an OAuth2 access token with these scopes
  (the API: no cookie, no CSRF; a signed-in person without a token gets 401 like everybody else).

Resource checks (is this learner's journal readable by this person?) are plain predicates such as
``can_manage_epm(user, epm_id)``; a refused resource answers 404, never 403, so that it does not
reveal that it exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import abort, g, has_app_context
from flask_babel import gettext
from flask_login import current_user

from portfolio.auth.models import STAFF_ROLE_KIND, Role
from portfolio.db import utcnow
from portfolio.enrolment.models import Enrolment
from portfolio.extensions import db, login_manager
from portfolio.journal.models import EntryStatus, Visibility
from portfolio.sharing import services as sharing
from portfolio.sharing.models import ConsentScope, SubmissionStatus

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Access:
    """Who may reach a view: ``public``, or signed in with one of ``roles`` (None: any role)."""

    public: bool = False
    roles: frozenset[Role] | None = None
    api: bool = False  # a JSON endpoint: a signed-out caller gets 401, never a redirect to the sign-in page
    # A bearer-token endpoint of the API: the scopes its token needs. Nobody reaches it with a cookie.
    token_scopes: frozenset[str] | None = None

    def allows(self, user: Any) -> bool:
        if self.public:
            return True
        if self.token_scopes is not None:
            return False
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


def signed_in_api(*roles: Role) -> Callable[[F], F]:
    """For JSON endpoints called by scripts: a signed-out caller gets 401 (never a redirect to the
    sign-in page), so that the page can keep what the person typed and ask them to sign in again.
    Mark the view ``csrf.exempt`` and call ``csrf.protect()`` in it: the session is checked before the
    CSRF token, which an expired session no longer matches."""

    access = Access(roles=frozenset(roles) if roles else None, api=True)

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return {"error": "signed_out", "message": gettext(
                    "Votre session a expiré. Votre texte est gardé : reconnectez-vous pour continuer.")}, 401
            if not access.allows(current_user):
                abort(404)
            return view(*args, **kwargs)

        _mark(wrapped, access)
        return wrapped  # type: ignore[return-value]

    return decorator


def role_required(*roles: Role) -> Callable[[F], F]:
    if not roles:
        raise ValueError("role_required needs at least one role")

    def decorator(view: F) -> F:
        return _guarded(view, Access(roles=frozenset(roles)))

    return decorator


def token_required(*scopes: str) -> Callable[[F], F]:
    """For the API of partner systems: the request must carry a valid OAuth2 bearer token holding
    ``scopes`` (``portfolio.api.oauth``); otherwise 401 (no or bad token) or 403 (insufficient scope),
    as RFC 6750 says, in JSON. The token is then ``portfolio.api.oauth.current_token``."""

    access = Access(api=True, token_scopes=frozenset(scopes))

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            from portfolio.api.oauth import refuse_without_token

            refused = refuse_without_token(list(scopes))
            if refused is not None:
                return refused
            return view(*args, **kwargs)

        _mark(wrapped, access)
        return wrapped  # type: ignore[return-value]

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


def can_follow_ticket(user: Any, ticket: Any) -> bool:
    """A prescriber follows the tickets it issued (status and hours, never the journal); the coordination all."""
    return is_staff_of(user, ticket.prescriber_id, Role.PRESCRIBER) or can_coordinate(user)


def can_issue_for(user: Any, prescriber_id: int) -> bool:
    return is_staff_of(user, prescriber_id, Role.PRESCRIBER)


def readable_visibilities(user: Any, owner_id: int) -> frozenset[str]:
    """Which published journal entries of ``owner_id`` this person may read, as a set of visibilities.

    The one place that says who reads a journal; everything else (``can_read_entry``, the journal
    pages, photos) asks it. The owner reads everything, drafts included (see ``can_read_entry``);
    the animators of an EPM where the owner is (or was) enrolled read what is shared with the EPM;
    the staff of an organisation holding a valid consent of scope ``journal`` or ``full`` read what is
    open to consented organisations. Prescribers and the coordination never read journals.
    """
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    if user.id == owner_id:
        return frozenset(v.value for v in Visibility)
    cache = g.setdefault("_readable_visibilities", {}) if has_app_context() else {}
    key = (user.id, owner_id)
    if key not in cache:
        allowed: set[str] = set()
        if _animates_an_epm_of(user, owner_id):
            allowed.add(Visibility.EPM.value)
        if _holds_journal_consent(user, owner_id):
            allowed.add(Visibility.CONSENTED.value)
        cache[key] = frozenset(allowed)
    result: frozenset[str] = cache[key]
    return result


def _animates_an_epm_of(user: Any, owner_id: int) -> bool:
    epm_ids = [m.organisation_id for m in user.memberships if m.role == Role.ANIMATOR]
    if not epm_ids:
        return False
    return db.session.scalar(
        sa.select(sa.func.count(Enrolment.id)).where(Enrolment.learner_id == owner_id, Enrolment.epm_id.in_(epm_ids))
    ) > 0


def holds_consent(user: Any, owner_id: int, scope: ConsentScope | str) -> bool:
    """A valid consent (not revoked, within its dates) covering ``scope``, given by the owner to an
    organisation where this person is an animator or an assessor: ``sharing.valid_consent``, the one
    rule, asked at every call (nothing kept across requests, so a revocation holds at once)."""
    return sharing.consent_for(db.session, user, owner_id, scope, utcnow()) is not None


def _holds_journal_consent(user: Any, owner_id: int) -> bool:
    return holds_consent(user, owner_id, ConsentScope.JOURNAL)


def can_read_journal(user: Any, owner_id: int) -> bool:
    return bool(readable_visibilities(user, owner_id))


def can_read_entry(user: Any, entry: Any) -> bool:
    """The owner reads every entry of theirs; others only published entries their visibility allows."""
    if not getattr(user, "is_authenticated", False):
        return False
    if entry.owner_id == user.id:
        return True
    published = entry.status == EntryStatus.PUBLISHED.value
    return published and entry.visibility in readable_visibilities(user, entry.owner_id)


def can_edit_entry(user: Any, entry: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and entry.owner_id == user.id


def can_assess_session(user: Any, workshop: Any) -> bool:
    """The animators of a workshop's EPM fill its positioning sheet (the animator's voice)."""
    return can_manage_epm(user, workshop.epm_id)


def can_read_competences(user: Any, learner_id: int, enrolling_epm_ids: list[int]) -> bool:
    """A learner's competence assessments: the learner, the animators of an EPM where the learner is
    (or was) enrolled, and the staff of an organisation the learner gave a consent to (any scope)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return (user.id == learner_id or any(can_manage_epm(user, epm_id) for epm_id in enrolling_epm_ids)
            or holds_consent(user, learner_id, ConsentScope.COMPETENCES))


def can_read_attendance(user: Any, learner_id: int, enrolling_epm_ids: list[int]) -> bool:
    """Workshops attended and hours: the learner, the animators of an enrolling EPM, and the staff of an
    organisation holding a consent to the whole portfolio."""
    if not getattr(user, "is_authenticated", False):
        return False
    return (user.id == learner_id or any(can_manage_epm(user, epm_id) for epm_id in enrolling_epm_ids)
            or holds_consent(user, learner_id, ConsentScope.FULL))


def can_read_submission(user: Any, submission: Any) -> bool:
    """An evidence file sent for certification: its owner, and the assessors of the training body it was
    sent to (not the EPM: the learner sent it to that body only)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if submission.owner_id == user.id:
        return True
    return submission.status != SubmissionStatus.WITHDRAWN and is_staff_of(user, submission.organisation_id,
                                                                          Role.ASSESSOR)


def can_assess_submission(user: Any, submission: Any) -> bool:
    """The assessors of the training body judge the competences of a file it received and decide on it."""
    return submission.status != SubmissionStatus.WITHDRAWN and is_staff_of(user, submission.organisation_id,
                                                                          Role.ASSESSOR)


def can_record_paper_consent(user: Any, learner_id: int) -> bool:
    """An animator records a consent given on paper by a learner of one of their EPMs."""
    return bool(getattr(user, "is_authenticated", False)) and _animates_an_epm_of(user, learner_id)


def can_administer(user: Any) -> bool:
    return has_role(user, Role.ADMIN)


def can_coordinate(user: Any) -> bool:
    return has_role(user, Role.COORDINATOR, Role.ADMIN)


def can_manage_sign_in(user: Any, account: Any) -> bool:
    """Who may look after ``account``'s links to identity providers (see them, remove one, cancel an
    invitation): an administrator (any account), a coordinator (accounts without a coordinator or
    administrator role), an animator (the learners of their own EPMs). Nobody outranked looks after an
    account with more rights. Creating a way in is stricter: ``can_create_sign_in_means``."""
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


def account_in_use(account: Any) -> bool:
    """An account that has a way in already (a password) or has been signed in to: it holds a person's work."""
    return account.password_hash is not None or account.last_login_at is not None


def _reads_what_they_read(user: Any, membership: Any) -> bool:
    """Whether ``user`` may read everything a holder of ``membership`` may read (who sees what, DESIGN §4)."""
    role, organisation_id = membership.role, membership.organisation_id
    if role in (Role.ADMIN, Role.COORDINATOR):
        return user.has_role(Role.ADMIN)  # the coordination's figures; an administrator reads them too
    if role == Role.PRESCRIBER:  # a prescriber's tickets: the coordination reads every ticket
        return can_coordinate(user) or is_staff_of(user, organisation_id, Role.PRESCRIBER)
    if role in (Role.ANIMATOR, Role.ASSESSOR):  # learners' journals and files: only the same organisation's staff
        return is_staff_of(user, organisation_id, role)
    return False  # a learner's portfolio: nobody but she reads all of it


def can_create_sign_in_means(user: Any, account: Any) -> bool:
    """Who may create a way into ``account`` for someone to use (an invitation that links an identity
    provider; a staff invitation): whoever creates it could use it, so **nobody creates a way into an
    account with rights over data they may not read**.

    - An account that owns a portfolio (a learner): never. What she keeps private, her files and her
      consents, nobody but she reads; she links an identity herself, from *Mon compte* (signed in with her
      password, or at the EPM with her login card). Her login card is the one way back in that staff make
      for her: ``can_print_login_card``.
    - A staff account in use (a password, or a sign-in already): only someone who reads everything it reads
      (an administrator for a coordinator; the coordination for a prescriber; an animator or an assessor of
      the same organisation for theirs).
    - A new staff account, never used: its first way in comes from whoever may look after it (the rank rule,
      ``can_manage_sign_in``: nobody grants more rights than their own).

    Every new way in is announced to the account's holder at her next sign-in and listed on "Qui s'est
    connecté" (``portfolio.account.services``)."""
    if not getattr(user, "is_authenticated", False) or account is None or account.id == user.id:
        return False
    if not account.active or Role.BENEFICIARY in account.roles:
        return False
    if not account_in_use(account):
        return can_manage_sign_in(user, account)
    return bool(account.memberships) and all(_reads_what_they_read(user, m) for m in account.memberships)


def can_print_login_card(user: Any, enrolment: Any) -> bool:
    """A learner's login card (a one-time code that replaces her password): printed at her EPM by one of its
    animators, when she lost her password or her card (the scheme's way back in for a person without e-mail).
    Never for an account that holds a staff role too (a card would let an animator into a colleague's
    account). Printing one ends her password and her sessions, so she notices; it is announced at her next
    sign-in and listed on "Qui s'est connecté"."""
    learner = enrolment.learner
    return (learner is not None and learner.roles <= {Role.BENEFICIARY} and learner.active
            and can_manage_epm(user, enrolment.epm_id))


# --- Running the scheme: organisations, staff accounts, everyday settings -------------------------


def can_manage_organisations(user: Any) -> bool:
    """Who creates and edits organisations: administrators (every kind) and coordinators (EPMs,
    prescribers and training bodies; see ``can_edit_organisation``)."""
    return has_role(user, Role.ADMIN, Role.COORDINATOR)


def can_edit_organisation(user: Any, kind: str) -> bool:
    """An organisation of this kind: administrators any; coordinators all but the coordination's own."""
    if has_role(user, Role.ADMIN):
        return True
    return has_role(user, Role.COORDINATOR) and kind != "coordination"


def can_change_settings(user: Any) -> bool:
    """The module catalogue, the annual plan and budget, the terms of the tickets issued from now on."""
    return has_role(user, Role.ADMIN, Role.COORDINATOR)


def is_lead_animator(user: Any, epm_id: int) -> bool:
    """The EPM's lead animator (animateur·trice référent·e), who adds animators to it."""
    if not getattr(user, "is_authenticated", False):
        return False
    return any(m.organisation_id == epm_id and m.role == Role.ANIMATOR and m.lead for m in user.memberships)


def can_grant(user: Any, organisation: Any, role: Role | str, lead: bool = False) -> bool:
    """Whether ``user`` may give someone ``role`` in ``organisation`` (a lead animator's role if ``lead``).

    The project's rule, as for ``can_manage_sign_in``: nobody grants more rights than they hold. An
    administrator grants every staff role; a coordinator the roles of EPMs, prescribers and training bodies
    (never coordinator or administrator); an EPM's lead animator makes animators of their own EPM (not
    leads). Each role goes with its kind of organisation (``STAFF_ROLE_KIND``), which must be active. A
    learner's role is never granted here: it comes from registering a ticket."""
    if not getattr(user, "is_authenticated", False) or organisation is None:
        return False
    try:
        wanted = Role(role)
    except ValueError:
        return False
    if wanted not in STAFF_ROLE_KIND or organisation.kind != STAFF_ROLE_KIND[wanted].value or not organisation.active:
        return False
    if lead and wanted is not Role.ANIMATOR:
        return False
    if user.has_role(Role.ADMIN):
        return True
    if user.has_role(Role.COORDINATOR) and wanted in (Role.ANIMATOR, Role.PRESCRIBER, Role.ASSESSOR):
        return True
    return wanted is Role.ANIMATOR and not lead and is_lead_animator(user, organisation.id)


def can_add_staff(user: Any) -> bool:
    """Who may create staff accounts at all (the pages that list them are open to every animator)."""
    if has_role(user, Role.ADMIN, Role.COORDINATOR):
        return True
    return any(m.role == Role.ANIMATOR and m.lead for m in getattr(user, "memberships", ()))


def can_manage_staff(user: Any, account: Any) -> bool:
    """Who may change ``account``'s roles, invite it and deactivate it: an administrator any account but
    their own; anyone else an account all of whose roles they could have granted (so never an account
    holding more rights than theirs, nor a learner's, nor an account without any role)."""
    if not getattr(user, "is_authenticated", False) or account is None or account.id == user.id:
        return False
    if user.has_role(Role.ADMIN):
        return True
    memberships = account.memberships
    return bool(memberships) and all(can_grant(user, m.organisation, m.role, m.lead) for m in memberships)


def can_invite_staff(user: Any, account: Any) -> bool:
    """Who may give ``account`` a way in (an invitation link or an access card): whoever manages it,
    for an active staff account only. Whoever manages a staff account could grant its roles to an account
    of their own, so a new way in gives them no reading right they could not have; it is announced to the
    holder at her next sign-in all the same (``portfolio.account.services.WAYS_IN``). Never a way into a
    learner's account: it holds someone's portfolio (learners get their login card from their EPM)."""
    return (can_manage_staff(user, account) and account.active
            and Role.BENEFICIARY not in account.roles and bool(account.memberships))


# Everything a template may call, as ``permissions.<name>(...)``.
TEMPLATE_PREDICATES: dict[str, Callable[..., bool]] = {
    "has_role": has_role,
    "is_staff_of": is_staff_of,
    "can_manage_epm": can_manage_epm,
    "can_follow_ticket": can_follow_ticket,
    "can_assess_session": can_assess_session,
    "can_read_competences": can_read_competences,
    "can_administer": can_administer,
    "can_coordinate": can_coordinate,
    "can_read_journal": can_read_journal,
    "can_read_entry": can_read_entry,
    "can_edit_entry": can_edit_entry,
    "can_manage_sign_in": can_manage_sign_in,
    "can_create_sign_in_means": can_create_sign_in_means,
    "can_print_login_card": can_print_login_card,
    "can_read_attendance": can_read_attendance,
    "can_read_submission": can_read_submission,
    "can_assess_submission": can_assess_submission,
    "can_record_paper_consent": can_record_paper_consent,
    "can_manage_organisations": can_manage_organisations,
    "can_edit_organisation": can_edit_organisation,
    "can_change_settings": can_change_settings,
    "is_lead_animator": is_lead_animator,
    "can_grant": can_grant,
    "can_add_staff": can_add_staff,
    "can_manage_staff": can_manage_staff,
    "can_invite_staff": can_invite_staff,
}
