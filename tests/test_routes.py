"""Walk every route of the URL map, anonymously and as each role.

Every view must declare who may reach it (``@public``, ``@signed_in`` or ``@role_required``). A GET
must never answer 500; a signed-out visitor of a private page is sent to the sign-in page; a signed-in
person without the role gets 404, so that the page does not reveal that it exists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from portfolio.auth.models import Role, User
from portfolio.permissions import access_of
from tests import factories


def _account_the_walker_manages(session: Session, ctx: dict[str, Any]) -> int:
    """An account whose sign-in the walking role may manage when allowed (an animator: a learner of its EPM)."""
    if ctx["role"] is Role.ANIMATOR:
        epm = ctx["user"].organisations_for(Role.ANIMATOR)[0]
        return factories.user(session, Role.BENEFICIARY, organisation_=epm).id
    return int(ctx["people"][Role.BENEFICIARY].id)


def _identity_of_the_walker(session: Session, ctx: dict[str, Any]) -> int:
    from portfolio.sso.models import ExternalIdentity

    owner = ctx["user"] or ctx["people"][Role.BENEFICIARY]
    identity = ExternalIdentity(user_id=owner.id, provider="test", issuer="https://idp.example",
                                subject=f"walker-{owner.id}-{factories._n()}")
    session.add(identity)
    session.flush()
    return identity.id


def _session_of_the_walker(session: Session, ctx: dict[str, Any]) -> int:
    from portfolio.account.models import SignedInSession

    owner = ctx["user"] or ctx["people"][Role.BENEFICIARY]
    row = SignedInSession(user_id=owner.id, token_hash=f"{factories._n():064d}")
    session.add(row)
    session.flush()
    return row.id


# How to fill in a URL's arguments for the walk: argument name -> a function of the session and a
# context (``people``: one user per role; ``role`` and ``user``: who walks) returning a value the walker
# may see when its role allows the view. Features that add routes with arguments add them here.
def _once(name: str, make: Callable[[Session, dict[str, Any]], Any]) -> Callable[[Session, dict[str, Any]], Any]:
    """A sample made once per walk, kept in the walk's context."""

    def value(session: Session, ctx: dict[str, Any]) -> Any:
        if name not in ctx:
            ctx[name] = make(session, ctx)
        return ctx[name]

    return value


def _org_of(ctx: dict[str, Any], role: Role) -> Any:
    return ctx["people"][role].memberships[0].organisation


def _enrolment(session: Session, ctx: dict[str, Any]) -> Any:
    """A ticket of the walkers' prescriber, registered at the walkers' EPM."""
    ticket = factories.ticket(session, _org_of(ctx, Role.PRESCRIBER))
    return factories.enrolment(session, ticket, _org_of(ctx, Role.ANIMATOR), factories.user(session))


def _paid_epm(session: Session) -> int:
    """An EPM with one present session this month, so that it has a payment statement."""
    epm = factories.organisation(session)
    workshop = factories.workshop(session, epm, factories.NOW.replace(hour=10, minute=0))
    factories.attend(session, workshop, factories.enrolment(session, factories.ticket(session), epm))
    return int(epm.id)


def _journal(session: Session, ctx: dict[str, Any]) -> tuple[Any, Any]:
    """A learner and an entry the walker may read (their own, their EPM's learner's, or consented)."""
    if "journal" not in ctx:
        role = ctx["role"] if ctx["role"] in (Role.BENEFICIARY, Role.ANIMATOR, Role.ASSESSOR) else Role.BENEFICIARY
        reader = ctx["user"] if ctx["role"] is role else ctx["people"][Role.BENEFICIARY]
        ctx["journal"] = factories.readable_journal_for(session, reader, role)
    return ctx["journal"]


def _photo(session: Session, ctx: dict[str, Any]) -> int:
    from portfolio.journal.storage import FolderStorage

    entry = _journal(session, ctx)[1]
    return int(factories.photo(session, FolderStorage(ctx["app"].config["UPLOAD_DIR"]), entry).id)


def _submission(session: Session, ctx: dict[str, Any]) -> int:
    """A decided file the walker may open when allowed: an assessor's organisation received it; a learner
    sent it. For an assessor and a learner it carries the journal sample's entry and photo (ticked)."""
    from portfolio.sharing import submissions

    assessor = ctx["user"] if ctx["role"] is Role.ASSESSOR else ctx["people"][Role.ASSESSOR]
    entries: list[int] = []
    if ctx["role"] in (Role.ASSESSOR, Role.BENEFICIARY):
        owner, entry = _journal(session, ctx)
        URL_VALUES["photo_id"](session, ctx)
        entry.in_portfolio = True  # chosen for her portfolio: a text that may go in a file
        session.flush()
        entries = [entry.id]
    else:
        owner = factories.user(session, Role.BENEFICIARY)
    sent = submissions.send(session, owner, assessor.organisations_for(Role.ASSESSOR)[0].id, factories.NOW,
                            entries=entries)
    return submissions.decide(session, sent, assessor, "ready", "", factories.NOW).id


def _credential(session: Session, ctx: dict[str, Any]) -> int:
    """A signed badge of the walker (a learner)."""
    from portfolio.credentials.models import Credential

    owner = ctx["user"] if ctx["role"] is Role.BENEFICIARY else ctx["people"][Role.BENEFICIARY]
    badge = Credential(public_id=f"urn:uuid:00000000-0000-4000-8000-{factories._n():012d}", holder_id=owner.id,
                       organisation_id=_org_of(ctx, Role.ANIMATOR).id, kind="path", status="active",
                       status_index=factories._n() % 131_072, title="Parcours Ticket Net terminé",
                       content={}, document={"name": "Parcours Ticket Net"}, awarded_at=factories.NOW)
    session.add(badge)
    session.flush()
    return badge.id


def _consent(session: Session, ctx: dict[str, Any]) -> int:
    """A consent of the walker (a learner) to an organisation."""
    from portfolio.sharing.models import Consent

    owner = ctx["user"] if ctx["role"] is Role.BENEFICIARY else ctx["people"][Role.BENEFICIARY]
    consent = Consent(owner_id=owner.id, organisation_id=_org_of(ctx, Role.ASSESSOR).id, scope="competences",
                      ends_at=factories.NOW + dt.timedelta(days=30), text_hash="0" * 64)
    session.add(consent)
    session.flush()
    return consent.id


def _api_client(session: Session, ctx: dict[str, Any]) -> int:
    from portfolio.api.models import ApiClient

    client = ApiClient(client_id=f"tn-walker-{factories._n()}", secret_hash="0" * 64, name="Walker",
                       organisation_id=_org_of(ctx, Role.ASSESSOR).id, scope="submissions:read")
    session.add(client)
    session.flush()
    return client.id


def _journal_owner(session: Session, ctx: dict[str, Any]) -> int:
    """The journal sample's learner; for partner staff, one who also consented to the walker's organisation
    (the partner's page of a learner)."""
    from portfolio.sharing.models import Consent

    owner = _journal(session, ctx)[0]
    if ctx["role"] in (Role.ANIMATOR, Role.ASSESSOR) and "partner_consent" not in ctx:
        ctx["partner_consent"] = Consent(owner_id=owner.id, organisation_id=ctx["user"].memberships[0].organisation_id,
                                         scope="competences", ends_at=factories.NOW + dt.timedelta(days=30),
                                         text_hash="0" * 64)
        session.add(ctx["partner_consent"])
        session.flush()
    return int(owner.id)


def _staff_the_walker_manages(session: Session, ctx: dict[str, Any]) -> int:
    """A staff account the walking role may manage when allowed: for an animator, a colleague of its EPM (the
    walker made its lead animator); for the others, an account holding a prescriber's role."""
    if ctx["role"] is Role.ANIMATOR:
        membership = ctx["user"].memberships[0]
        membership.lead = True
        return factories.user(session, Role.ANIMATOR, organisation_=membership.organisation).id
    return factories.user(session, Role.PRESCRIBER).id


def _organisation_the_walker_edits(session: Session, ctx: dict[str, Any]) -> int:
    """An organisation an administrator or a coordinator may edit: an EPM."""
    return int(factories.organisation(session).id)


def _module(session: Session, ctx: dict[str, Any]) -> int:
    """A module of the catalogue added for the walk (retiring it changes nothing else)."""
    from portfolio.catalogue.models import Module, ModuleFamily

    n = factories._n()
    module = Module(number=900 + n, title=f"Module de la promenade {n}",
                    family_id=session.scalars(sa.select(ModuleFamily.id)).first())
    session.add(module)
    session.flush()
    return module.id


URL_VALUES: dict[str, Callable[[Session, dict[str, Any]], Any]] = {
    "filename": lambda session, ctx: "css/site.css",
    "ticket_id": lambda session, ctx: _once("enrolment", _enrolment)(session, ctx).ticket_id,
    "enrolment_id": lambda session, ctx: _once("enrolment", _enrolment)(session, ctx).id,
    "session_id": _once("workshop", lambda session, ctx: factories.workshop(
        session, _org_of(ctx, Role.ANIMATOR), factories.NOW).id),
    "entry_id": lambda session, ctx: _journal(session, ctx)[1].id,
    "owner_id": _journal_owner,
    "photo_id": _once("photo", _photo),
    "size": lambda session, ctx: "miniature",
    "learner_id": lambda session, ctx: _once("enrolment", _enrolment)(session, ctx).learner_id,
    "epm_id": _once("paid_epm", lambda session, ctx: _paid_epm(session)),
    "account_id": _account_the_walker_manages,
    "identity_id": _identity_of_the_walker,
    "provider": lambda session, ctx: "test",
    "token": lambda session, ctx: "an-invitation-token-that-does-not-exist",
    "connection_id": _session_of_the_walker,
    # Coordination figures (portfolio/stats).
    "dataset": lambda session, ctx: "etats",
    "period": lambda session, ctx: f"{factories.NOW:%Y-%m}",
    "fmt": lambda session, ctx: "csv",
    "submission_id": _once("submission", _submission),
    "consent_id": _once("consent", _consent),
    "organisation_id": lambda session, ctx: (ctx["user"] if ctx["role"] is Role.ASSESSOR else
                                             ctx["people"][Role.ASSESSOR]).memberships[0].organisation_id,
    "code": lambda session, ctx: "TN-2345-6789",
    "client_id": _once("api_client", _api_client),
    # Running the scheme: organisations, staff accounts, the module catalogue.
    "kind": lambda session, ctx: "epm",
    "org_id": _organisation_the_walker_edits,
    "staff_id": _staff_the_walker_manages,
    "module_id": _once("module", _module),
    # Open Badges (portfolio/credentials).
    "slug": lambda session, ctx: "parcours-ticket-net",
    "extension": lambda session, ctx: "png",
    "domain_code": lambda session, ctx: "D1",
    "credential_id": _once("credential", _credential),
}


def routes(app: Flask) -> Iterator[Rule]:
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint != "static":
            yield rule


def build_url(app: Flask, rule: Rule, session: Session, ctx: dict[str, Any]) -> str:
    values = {}
    for argument in rule.arguments:
        if argument not in URL_VALUES:
            pytest.fail(f"{rule.rule}: add a sample value for <{argument}> to URL_VALUES in tests/test_routes.py")
        values[argument] = URL_VALUES[argument](session, ctx)
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def test_every_view_declares_its_access(app: Flask) -> None:
    missing = [rule.endpoint for rule in routes(app) if access_of(app.view_functions[rule.endpoint]) is None]
    assert missing == [], f"views without @public, @signed_in or @role_required: {missing}"


@pytest.fixture
def people(db_session: Session) -> dict[Role, User]:
    return {role: factories.user(db_session, role) for role in Role}


@pytest.mark.parametrize("role", [None, *Role], ids=lambda r: r.value if r else "anonymous")
def test_walk_every_get_route(app: Flask, client: Any, login_as: Any, people: dict[Role, User],
                              db_session: Session, role: Role | None) -> None:
    if role is not None:
        login_as(user=people[role])
    ctx = {"people": people, "role": role, "user": people[role] if role else None, "app": app}
    problems = []
    for rule in routes(app):
        if "GET" not in (rule.methods or ()):
            continue
        url = build_url(app, rule, db_session, ctx)
        access = access_of(app.view_functions[rule.endpoint])
        response = client.get(url)
        status = response.status_code
        if status >= 500:
            problems.append(f"{url}: {status}")
        elif access.public:
            continue
        elif access.token_scopes is not None:  # the partner API: a bearer token or 401, cookie or not
            if status != 401:
                problems.append(f"{url}: {role.value if role else 'anonymous'} without a token got {status}")
        elif role is None:
            if not (status == 302 and "/login" in response.headers["Location"]):
                problems.append(f"{url}: anonymous got {status}, expected a redirect to /login")
        elif not access.allows(people[role]):
            if status != 404:
                problems.append(f"{url}: {role.value} may not see it but got {status}")
        elif status not in (200, 302):
            problems.append(f"{url}: {role.value} may see it but got {status}")
    assert problems == []
