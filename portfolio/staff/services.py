"""Staff accounts: the rules of creating them, giving and removing their roles, deactivating them and
inviting them, shared by the pages (``/personnel``) and the commands (``ticketnet admin``, ``ticketnet
accounts``). Whoever acts is checked here (``permissions.can_grant`` / ``can_manage_staff``); the commands
act as the site's IT staff (``actor=None``), who may do everything an administrator may.

- Nothing is deleted: an account is deactivated (every session of it ends at once, its invitations and
  cards stop working) and may be reactivated; a role is removed from an account, the account stays.
- An invitation is a way into an account: a link (sent by e-mail, or shown once to the inviter who hands
  it over) or a printed access card (a ``LoginCard``). Only the latest works; it works once, for
  ``STAFF_INVITATION_DAYS``; the first sign-in chooses the password through the site's policy. It is only
  ever made for a staff account the inviter manages, never for a learner's (``can_invite_staff``).
- Every change writes an audit event in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from portfolio import permissions
from portfolio.audit import services as audit
from portfolio.auth import cards
from portfolio.auth import services as accounts
from portfolio.auth.models import STAFF_ROLE_KIND, LoginCard, Membership, Role, User
from portfolio.auth.password_policy import password_problems
from portfolio.auth.passwords import hash_password
from portfolio.auth.sessions import end_every_session
from portfolio.db import utcnow
from portfolio.orgs.models import Organisation, OrgKind
from portfolio.staff.models import StaffInvitation

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,79}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
STAFF_ROLES = tuple(STAFF_ROLE_KIND)

ROLE_LABELS = {
    Role.ANIMATOR.value: _l("Animateur·trice"),
    Role.PRESCRIBER.value: _l("Prescripteur·trice"),
    Role.ASSESSOR.value: _l("Évaluateur·trice"),
    Role.COORDINATOR.value: _l("Coordinateur·trice"),
    Role.ADMIN.value: _l("Administrateur·trice"),
    Role.BENEFICIARY.value: _l("Bénéficiaire"),
}
LEAD_LABEL = _l("Animateur·trice référent·e")


class StaffRefused(ValueError):
    """The action is refused; the message says why, in French (``field``: the form field it concerns)."""

    def __init__(self, message: object, field: str = "") -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message)


def _via(actor: User | None) -> str:
    return "web" if actor is not None else "cli"


# --- Accounts -------------------------------------------------------------------------------------


def check_username(session: Session, username: str) -> str:
    name = accounts.normalise_username(username)
    if not USERNAME.match(name):
        raise StaffRefused(_l("L'identifiant s'écrit en minuscules sans accents, chiffres, points ou tirets, de 3 "
                              "à 80 caractères (par exemple claire.vidal)."), "username")
    if accounts.find_user(session, name) is not None:
        raise _taken(name)
    return name


def _taken(name: str) -> StaffRefused:
    return StaffRefused(_l("L'identifiant « %(username)s » est déjà pris : choisissez-en un autre (par exemple "
                           "avec l'initiale du deuxième prénom).", username=name), "username")


def check_email(email: str | None) -> str | None:
    email = (email or "").strip()
    if email and (len(email) > 200 or not EMAIL.match(email)):
        raise StaffRefused(_l("Cette adresse électronique n'est pas complète (par exemple claire.vidal@mairie.fr)."),
                           "email")
    return email or None


def create_account(session: Session, username: str, *, first_name: str = "", last_name: str = "",
                   email: str | None = None, password: str | None = None, actor: User | None = None,
                   ip: str = "") -> User:
    """A new account without any role yet (give it one with ``grant``). With ``password``, checked by the
    site's password policy; without, the person chooses one through an invitation."""
    name = check_username(session, username)
    first_name, last_name = (first_name or "").strip(), (last_name or "").strip()
    if len(first_name) > 100 or len(last_name) > 100:
        raise StaffRefused(_l("Le prénom et le nom ont 100 caractères au plus."), "last_name")
    email = check_email(email)
    if password is not None:
        problems = password_problems(password, username=name)
        if problems:
            raise StaffRefused(problems[0], "password")
    user = accounts.create_user(session, name, first_name=first_name, last_name=last_name, email=email,
                                password=password)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # the same form twice, or two people choosing the same name at once
        raise _taken(name) from None
    audit.record(session, "staff.account_created", actor=actor, target_type="user", target_id=user.id,
                 subject_user_id=user.id, details={"username": name, "via": _via(actor)}, ip=ip)
    return user


def grant(session: Session, account: User, organisation: Organisation, role: Role | str, *, lead: bool = False,
          actor: User | None = None, ip: str = "") -> Membership:
    """Give ``account`` a staff role in ``organisation``. ``actor`` must be allowed to grant it
    (``permissions.can_grant``): nobody gives more rights than they hold."""
    try:
        wanted = Role(role)
    except ValueError:
        raise StaffRefused(_l("Rôle inconnu : %(role)s.", role=role), "role") from None
    if wanted not in STAFF_ROLE_KIND:
        raise StaffRefused(_l("Ce rôle ne se donne pas ici : un compte d'apprenant naît de l'inscription d'un "
                              "ticket dans un EPM."), "role")
    kind = STAFF_ROLE_KIND[wanted]
    if organisation.kind != kind.value:
        raise StaffRefused(_l("Le rôle « %(role)s » se tient dans un organisme de type « %(kind)s » : %(org)s n'en "
                              "est pas un.", role=ROLE_LABELS[wanted.value], kind=_kind_label(kind),
                              org=organisation.name), "organisation")
    if lead and wanted is not Role.ANIMATOR:
        raise StaffRefused(_l("Seul·e un·e animateur·trice peut être référent·e d'un EPM."), "lead")
    if not organisation.active:
        raise StaffRefused(_l("%(org)s est désactivé : réactivez-le d'abord.", org=organisation.name), "organisation")
    if actor is not None and not permissions.can_grant(actor, organisation, wanted, lead):
        raise StaffRefused(_l("Vous ne pouvez pas donner ce rôle : personne ne donne plus de droits qu'il n'en a."),
                           "role")
    existing = next((m for m in account.memberships if m.organisation_id == organisation.id and m.role == wanted),
                    None)
    if existing is not None:
        if existing.lead == lead:
            raise StaffRefused(_l("%(name)s a déjà ce rôle à %(org)s.", name=account.display_name,
                                  org=organisation.name), "role")
        existing.lead = lead
        session.flush()
        membership = existing
    else:
        membership = Membership(user=account, organisation=organisation, role=wanted.value, lead=lead)
        session.add(membership)
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError:  # the same role given twice at once
            raise StaffRefused(_l("%(name)s a déjà ce rôle à %(org)s.", name=account.display_name,
                                  org=organisation.name), "role") from None
    audit.record(session, "staff.role_granted", actor=actor, organisation=organisation, target_type="user",
                 target_id=account.id, subject_user_id=account.id,
                 details={"role": wanted.value, "lead": lead, "via": _via(actor)}, ip=ip)
    return membership


def _kind_label(kind: OrgKind) -> str:
    from portfolio.orgs.services import KIND_LABELS

    return str(KIND_LABELS[kind.value])


def active_admin_count(session: Session, excluding: int | None = None) -> int:
    statement = (sa.select(sa.func.count(sa.distinct(User.id))).join(Membership, Membership.user_id == User.id)
                 .where(Membership.role == Role.ADMIN.value, User.active.is_(True)))
    if excluding is not None:
        statement = statement.where(User.id != excluding)
    return int(session.scalar(statement) or 0)


def remove_role(session: Session, account: User, membership: Membership, *, actor: User | None = None,
                ip: str = "") -> None:
    """Take a staff role away from ``account`` (the account and everything it did stay). Never the last
    administrator's."""
    if membership not in account.memberships:
        raise StaffRefused(_l("Ce rôle n'est pas celui de ce compte."), "role")
    if membership.role == Role.BENEFICIARY.value:
        raise StaffRefused(_l("Le rôle d'apprenant ne se retire pas ici."), "role")
    if actor is not None and not (permissions.can_manage_staff(actor, account) and permissions.can_grant(
            actor, membership.organisation, membership.role, membership.lead)):
        raise StaffRefused(_l("Vous ne pouvez pas retirer ce rôle."), "role")
    if membership.role == Role.ADMIN.value and account.active:
        others = sum(1 for m in account.memberships if m.role == Role.ADMIN.value and m.id != membership.id)
        if not others and active_admin_count(session, excluding=account.id) == 0:
            raise StaffRefused(_l("C'est le dernier compte administrateur actif : créez-en un autre avant de retirer "
                                  "celui-ci."), "role")
    organisation = membership.organisation
    details = {"role": membership.role, "lead": membership.lead, "via": _via(actor)}
    account.memberships.remove(membership)  # its rights are gone from the account's next request
    session.flush()
    audit.record(session, "staff.role_removed", actor=actor, organisation=organisation, target_type="user",
                 target_id=account.id, subject_user_id=account.id, details=details, ip=ip)


def set_active(session: Session, account: User, active: bool, *, actor: User | None = None, ip: str = "") -> bool:
    """Deactivate (every session ends at once; invitations and cards stop working) or reactivate an
    account; False if it already was. Never one's own account, nor the last active administrator."""
    if account.active == active:
        return False
    if actor is not None and not permissions.can_manage_staff(actor, account):
        raise StaffRefused(_l("Vous ne pouvez pas changer ce compte."))
    if not active:
        if Role.ADMIN in account.roles and active_admin_count(session, excluding=account.id) == 0:
            raise StaffRefused(_l("C'est le dernier compte administrateur actif : il ne peut pas être désactivé."))
        now = utcnow()
        end_every_session(session, account)
        _close_ways_in(session, account, now)
    account.active = active
    session.flush()
    audit.record(session, "staff.reactivated" if active else "staff.deactivated", actor=actor, target_type="user",
                 target_id=account.id, subject_user_id=account.id, details={"via": _via(actor)}, ip=ip)
    return True


def _close_ways_in(session: Session, account: User, now: dt.datetime) -> None:
    session.execute(sa.update(StaffInvitation).where(
        StaffInvitation.user_id == account.id, StaffInvitation.used_at.is_(None),
        StaffInvitation.revoked_at.is_(None)).values(revoked_at=now))
    session.execute(sa.update(LoginCard).where(
        LoginCard.user_id == account.id, LoginCard.used_at.is_(None), LoginCard.revoked_at.is_(None)
    ).values(revoked_at=now))


# --- Lists ----------------------------------------------------------------------------------------


def load_account(session: Session, account_id: int) -> User | None:
    return session.scalar(sa.select(User).where(User.id == account_id))


def staff_accounts(session: Session, viewer: User | None, *, organisation_id: int | None = None, query: str = "",
                   limit: int = 200) -> list[User]:
    """The staff accounts ``viewer`` may see (``None``: the commands, every one): an administrator every
    staff account; a coordinator those they manage; an animator the animators of their EPMs. Two queries."""
    staff_roles = [r.value for r in STAFF_ROLES]
    statement = sa.select(User).where(User.id.in_(sa.select(Membership.user_id).where(
        Membership.role.in_(staff_roles)))).order_by(User.last_name, User.first_name, User.id)
    if organisation_id is not None:
        statement = statement.where(User.id.in_(sa.select(Membership.user_id).where(
            Membership.organisation_id == organisation_id, Membership.role.in_(staff_roles))))
    words = query.strip().lower()[:80]
    if words:
        pattern = f"%{words}%"
        statement = statement.where(sa.or_(User.username.like(pattern), sa.func.lower(User.last_name).like(pattern),
                                           sa.func.lower(User.first_name).like(pattern)))
    if viewer is not None and not viewer.has_role(Role.ADMIN):
        if viewer.has_role(Role.COORDINATOR):
            statement = statement.where(~User.id.in_(sa.select(Membership.user_id).where(Membership.role.in_(
                [Role.COORDINATOR.value, Role.ADMIN.value, Role.BENEFICIARY.value]))))
        else:
            epms = [m.organisation_id for m in viewer.memberships if m.role == Role.ANIMATOR]
            statement = statement.where(User.id.in_(sa.select(Membership.user_id).where(
                Membership.organisation_id.in_(epms), Membership.role == Role.ANIMATOR.value)))
    return list(session.scalars(statement.limit(limit)))


@dataclass(frozen=True)
class AccountRow:
    account: User
    state: str  # the way in: invitation-<id>, card-<id>, password or none


def with_states(session: Session, found: list[User], now: dt.datetime | None = None) -> list[AccountRow]:
    """Each account with how it gets in now (two queries, whatever the number of accounts)."""
    now = now or utcnow()
    states = cards.access_states(session, found, now)
    open_links = set(session.scalars(sa.select(StaffInvitation.user_id).where(
        StaffInvitation.user_id.in_([u.id for u in found]), StaffInvitation.used_at.is_(None),
        StaffInvitation.revoked_at.is_(None), StaffInvitation.expires_at > now))) if found else set()
    return [AccountRow(u, "invitation" if u.id in open_links and states[u.id] == "none" else states[u.id])
            for u in found]


# --- Invitations ----------------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_invitation(session: Session, account: User, now: dt.datetime | None = None) -> StaffInvitation | None:
    now = now or utcnow()
    return session.scalar(sa.select(StaffInvitation).where(
        StaffInvitation.user_id == account.id, StaffInvitation.used_at.is_(None),
        StaffInvitation.revoked_at.is_(None), StaffInvitation.expires_at > now
    ).order_by(StaffInvitation.id.desc()).limit(1))


def access_state(session: Session, account: User, now: dt.datetime | None = None) -> str:
    """How the account gets in now: ``invitation-<id>``, ``card-<id>``, ``password`` or ``none``. The page
    that invites carries it, so that an invitation made meanwhile is never replaced without a warning."""
    invitation = open_invitation(session, account, now)
    return f"invitation-{invitation.id}" if invitation is not None else cards.access_state(session, account, now)


def _check_invitable(session: Session, account: User, actor: User | None, expected_state: str | None,
                     now: dt.datetime) -> None:
    if not account.active or Role.BENEFICIARY in account.roles or not account.memberships:
        raise StaffRefused(_l("Une invitation se fait seulement pour un compte du personnel actif (jamais pour un "
                              "compte d'apprenant : sa carte de connexion vient de son EPM)."))
    if actor is not None and not permissions.can_invite_staff(actor, account):
        raise StaffRefused(_l("Vous ne pouvez pas inviter ce compte."))
    if expected_state is not None:
        cards.lock_account(session, account)
        if access_state(session, account, now) != expected_state:
            raise cards.AccessChanged(account.id)


def _replace_ways_in(session: Session, account: User, now: dt.datetime) -> None:
    """Only the newest way in works: the older links and cards stop, and so does the old password."""
    _close_ways_in(session, account, now)
    account.password_hash = None
    end_every_session(session, account)


def invite_by_link(session: Session, account: User, *, actor: User | None, days: int, email: str | None = None,
                   expected_state: str | None = None, ip: str = "", now: dt.datetime | None = None
                   ) -> tuple[StaffInvitation, str]:
    """A new one-time link for ``account`` and its secret token (in the e-mail to ``email``, or shown once).
    Older links and cards stop working, and so does the password, if any."""
    now = now or utcnow()
    _check_invitable(session, account, actor, expected_state, now)
    email = check_email(email)
    _replace_ways_in(session, account, now)
    if email:
        account.email = email
    token = secrets.token_urlsafe(32)
    invitation = StaffInvitation(user_id=account.id, token_hash=_digest(token), delivery="email" if email else "shown",
                                 sent_to=email or "", created_by_id=actor.id if actor else None, created_at=now,
                                 expires_at=now + dt.timedelta(days=days))
    session.add(invitation)
    session.flush()
    audit.record(session, "staff.invitation_created", actor=actor, target_type="staff_invitation",
                 target_id=invitation.id, subject_user_id=account.id,
                 details={"delivery": invitation.delivery, "days": days, "via": _via(actor)}, ip=ip)
    return invitation, token


def mark_shown(session: Session, invitation: StaffInvitation) -> None:
    """The e-mail could not be sent: the link is shown to the inviter instead."""
    invitation.delivery = "shown"
    session.flush()


def new_access_card(session: Session, account: User, *, actor: User | None, days: int,
                    expected_state: str | None = None, ip: str = "", now: dt.datetime | None = None
                    ) -> tuple[LoginCard, str]:
    """A printed access card (a one-time code exchanged for a password at ``/premiere-connexion``)."""
    now = now or utcnow()
    _check_invitable(session, account, actor, expected_state, now)
    _replace_ways_in(session, account, now)
    card, code = cards.new_card(session, account, actor, now, days=days)
    audit.record(session, "staff.card_printed", actor=actor, target_type="login_card", target_id=card.id,
                 subject_user_id=account.id, details={"days": days, "via": _via(actor)}, ip=ip)
    return card, code


def find_invitation(session: Session, token: str, now: dt.datetime | None = None) -> StaffInvitation | None:
    """The open invitation of this token, for an active account, or None."""
    if not token or len(token) > 100:
        return None
    invitation = session.scalar(sa.select(StaffInvitation).options(
        joinedload(StaffInvitation.user).selectinload(User.memberships))
        .where(StaffInvitation.token_hash == _digest(token)))
    if invitation is None or not invitation.is_open(now or utcnow()) or not invitation.user.active:
        return None
    return invitation


def accept(session: Session, invitation: StaffInvitation, password: str, now: dt.datetime | None = None) -> User:
    """Use the invitation to choose the password; it works once (two sends at once: one wins)."""
    now = now or utcnow()
    used = session.execute(sa.update(StaffInvitation).where(
        StaffInvitation.id == invitation.id, StaffInvitation.used_at.is_(None), StaffInvitation.revoked_at.is_(None),
        StaffInvitation.expires_at > now).values(used_at=now))
    if used.rowcount != 1:
        raise StaffRefused(_l("Ce lien a déjà servi ou n'est plus valable. Demandez une nouvelle invitation."))
    user = invitation.user
    user.password_hash = hash_password(password)
    user.session_version += 1
    session.flush()
    audit.record(session, "staff.invitation_used", actor=user, target_type="staff_invitation",
                 target_id=invitation.id, subject_user_id=user.id)
    return user


def invitation_history(session: Session, account: User, limit: int = 10) -> list[StaffInvitation]:
    return list(session.scalars(sa.select(StaffInvitation).where(StaffInvitation.user_id == account.id)
                                .order_by(StaffInvitation.id.desc()).limit(limit)))


def memberships_of(session: Session, account: User) -> list[Membership]:
    return sorted(account.memberships, key=lambda m: (m.organisation.name, m.role))


def grantable_organisations(session: Session, actor: User) -> list[Organisation]:
    """The active organisations where ``actor`` may grant at least one role (for the form's choices)."""
    orgs = list(session.scalars(sa.select(Organisation).where(Organisation.active.is_(True))
                                .order_by(Organisation.kind, Organisation.name)))
    return [o for o in orgs if any(permissions.can_grant(actor, o, role) for role in STAFF_ROLES)]


def describe(row: AccountRow) -> dict[str, object]:
    """A staff account as ``ticketnet accounts list --json`` prints it."""
    account = row.account
    return {
        "username": account.username, "name": account.display_name, "email": account.email or "",
        "active": account.active, "sign_in": row.state.split("-")[0],
        "roles": [{"role": m.role, "organisation": m.organisation.code, "lead": m.lead}
                  for m in sorted(account.memberships, key=lambda m: (m.organisation.code, m.role))],
    }
