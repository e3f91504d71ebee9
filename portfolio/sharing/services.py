"""Consents: the one rule on who outside the learner's own EPM may read their portfolio.

- ``valid_consent(session, owner_id, organisation_ids, scope, now)`` is the rule. It runs one query at
  every call: nothing is cached across requests, so a revocation holds from the very next request, and
  an expired consent stops by itself (no job to run).
- Scopes are nested: ``competences`` < ``journal`` (competences, and the journal entries opened to
  organisations) < ``full`` (also the workshops attended and the hours).
- ``consent_text`` is the exact text the owner agrees to, in plain words; the SHA-256 of the text shown
  is stored with the consent, with the version and the language of the text.
- Partner staff are the animators and the assessors of the organisation that holds the consent; every
  read of someone else's portfolio is written to the audit log (``record_read``), and the owner sees
  those reads on "Qui a consulté mon portfolio" (``reads_of``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, joinedload, lazyload

from portfolio.audit import services as audit
from portfolio.audit.models import AuditEvent
from portfolio.auth.models import Role, User
from portfolio.db import local_date, utcnow
from portfolio.enrolment.models import Enrolment
from portfolio.orgs.models import Organisation, OrgKind
from portfolio.sharing.models import Consent, ConsentMethod, ConsentScope
from portfolio.timeutil import LOCAL_TZ, add_months

SCOPE_RANK: dict[str, int] = {ConsentScope.COMPETENCES: 1, ConsentScope.JOURNAL: 2, ConsentScope.FULL: 3}
# Who reads through a consent given to their organisation.
PARTNER_ROLES: tuple[Role, ...] = (Role.ANIMATOR, Role.ASSESSOR)
# The kinds of organisation a learner may give a consent to.
GRANTEE_KINDS: tuple[str, ...] = (OrgKind.EPM.value, OrgKind.TRAINING_BODY.value)
DURATIONS_MONTHS: tuple[int, ...] = (1, 3, 6, 12)
DEFAULT_MONTHS = 6
TEXT_VERSION = "1"

SCOPE_LABELS = {
    ConsentScope.COMPETENCES.value: _l("Mes compétences"),
    ConsentScope.JOURNAL.value: _l("Mes compétences et mon journal"),
    ConsentScope.FULL.value: _l("Tout mon portfolio"),
}
SCOPE_HINTS = {
    ConsentScope.COMPETENCES.value: _l("Ce que je sais faire : ce que j'en pense, ce qu'en dit mon animateur "
                                       "ou mon animatrice, et la décision d'un évaluateur ou d'une évaluatrice."),
    ConsentScope.JOURNAL.value: _l("Mes compétences, et les textes de mon journal que j'ouvre aux organismes."),
    ConsentScope.FULL.value: _l("Mes compétences, les textes de mon journal que j'ouvre aux organismes, "
                                "mes ateliers et mes heures."),
}
# What each read action of the audit log means, for "Qui a consulté mon portfolio".
READ_ACTIONS = {
    "competences.read": _l("vos compétences"),
    "journal.read": _l("votre journal"),
    "journal.entry_read": _l("un texte de votre journal"),
    "journal.photo_read": _l("une photo de votre journal"),
    "sharing.read": _l("votre portfolio"),
    "submission.read": _l("le dossier que vous avez envoyé"),
    "submission.photo_read": _l("une photo du dossier que vous avez envoyé"),
    "api.submission_read": _l("le dossier que vous avez envoyé (par le logiciel de l'organisme)"),
}


class ConsentError(ValueError):
    """A consent that cannot be given or revoked; the message says why, in French."""


def scopes_covering(scope: ConsentScope | str) -> list[str]:
    """The scopes that include ``scope`` (``journal``: journal and full)."""
    rank = SCOPE_RANK[ConsentScope(scope)]
    return [s for s, r in SCOPE_RANK.items() if r >= rank]


def covers(consent_scope: str, wanted: ConsentScope | str) -> bool:
    return SCOPE_RANK[ConsentScope(consent_scope)] >= SCOPE_RANK[ConsentScope(wanted)]


def partner_organisation_ids(user: Any) -> list[int]:
    """The organisations through which ``user`` may read portfolios shared with them."""
    if not getattr(user, "is_authenticated", False):
        return []
    return sorted({m.organisation_id for m in user.memberships if m.role in PARTNER_ROLES})


def _valid_at(now: dt.datetime) -> tuple[Any, ...]:
    return Consent.revoked_at.is_(None), Consent.starts_at <= now, Consent.ends_at > now


def valid_consent(session: Session, owner_id: int, organisation_ids: Iterable[int], scope: ConsentScope | str,
                  now: dt.datetime) -> Consent | None:
    """The widest consent of ``owner_id`` to one of ``organisation_ids`` that covers ``scope`` and holds at
    ``now`` (not revoked, started, not ended), with its organisation loaded; None if there is none."""
    ids = list(organisation_ids)
    if not ids:
        return None
    candidates = session.scalars(
        sa.select(Consent).options(joinedload(Consent.organisation))
        .where(Consent.owner_id == owner_id, Consent.organisation_id.in_(ids),
               Consent.scope.in_(scopes_covering(scope)), *_valid_at(now))
        .order_by(Consent.ends_at.desc(), Consent.id)
    ).all()
    return max(candidates, key=lambda c: SCOPE_RANK[c.scope], default=None)


def consent_for(session: Session, user: Any, owner_id: int, scope: ConsentScope | str,
                now: dt.datetime) -> Consent | None:
    """The consent through which ``user`` (partner staff) may read ``owner_id`` within ``scope``."""
    if not getattr(user, "is_authenticated", False) or user.id == owner_id:
        return None
    return valid_consent(session, owner_id, partner_organisation_ids(user), scope, now)


def consent_state(consent: Consent, now: dt.datetime) -> str:
    if consent.revoked_at is not None:
        return "revoked"
    if consent.ends_at <= now:
        return "expired"
    if consent.starts_at > now:
        return "future"
    return "valid"


def is_holding(consent: Consent, now: dt.datetime) -> bool:
    """It holds now or will (not revoked, not ended): the owner, or their EPM on paper, may still withdraw it."""
    return consent_state(consent, now) in ("valid", "future")


# --- The text the owner agrees to -----------------------------------------------------------------


def grantee_organisations(session: Session) -> list[Organisation]:
    return list(session.scalars(
        sa.select(Organisation).where(Organisation.kind.in_(GRANTEE_KINDS), Organisation.active.is_(True))
        .order_by(Organisation.kind, Organisation.name)))


def end_of(starts_at: dt.datetime, months: int) -> dt.datetime:
    """The end of a consent of ``months`` months: midnight (Paris) after the same day ``months`` later."""
    first_day = starts_at.astimezone(LOCAL_TZ).date()
    last_day = add_months(first_day, months)
    return dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), LOCAL_TZ).astimezone(dt.UTC)


def last_day(ends_at: dt.datetime) -> dt.date:
    """The last day a consent holds, as people say it ("jusqu'au 29 mai inclus")."""
    return (ends_at.astimezone(LOCAL_TZ) - dt.timedelta(microseconds=1)).date()


def consent_text(owner_name: str, organisation_name: str, scope: ConsentScope | str, ends_at: dt.datetime,
                 version: str = TEXT_VERSION) -> list[str]:
    """The exact text of a consent, one short sentence a line, in the current language (FALC)."""
    if version != TEXT_VERSION:
        raise ConsentError(_("Cette version du texte n'existe pas."))
    what = {
        ConsentScope.COMPETENCES.value: _("mes compétences : ce que je sais faire."),
        ConsentScope.JOURNAL.value: _("mes compétences et les textes de mon journal que j'ouvre aux organismes."),
        ConsentScope.FULL.value: _("tout mon portfolio : mes compétences, les textes de mon journal que j'ouvre "
                                   "aux organismes, mes ateliers et mes heures."),
    }[ConsentScope(scope).value]
    return [
        _("Je m'appelle %(name)s.", name=owner_name),
        _("Je suis d'accord : %(org)s peut lire %(what)s", org=organisation_name, what=what),
        _("%(org)s ne peut rien changer dans mon portfolio.", org=organisation_name),
        _("Mon accord dure jusqu'au %(date)s.", date=format_date(last_day(ends_at), "long")),
        _("Je peux retirer mon accord quand je veux, sur la page « Qui peut voir mon portfolio »."),
        _("Chaque fois que %(org)s lit mon portfolio, c'est noté. Je peux voir qui a lu, et quand.",
          org=organisation_name),
    ]


def text_hash(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


@dataclass(frozen=True)
class ConsentDraft:
    """A consent as the owner sees it before agreeing: the organisation, the scope, the dates, the text."""

    owner: User
    organisation: Organisation
    scope: str
    months: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    text: list[str]

    @property
    def hash(self) -> str:
        return text_hash(self.text)


def draft_consent(session: Session, owner: User, organisation_id: int, scope: str, months: int,
                  now: dt.datetime) -> ConsentDraft:
    organisation = session.get(Organisation, organisation_id)
    if organisation is None or organisation.kind not in GRANTEE_KINDS or not organisation.active:
        raise ConsentError(_("Choisissez un EPM ou un organisme de formation de la liste."))
    if scope not in SCOPE_RANK:
        raise ConsentError(_("Choisissez ce que l'organisme peut lire."))
    if months not in DURATIONS_MONTHS:
        raise ConsentError(_("Choisissez une durée de la liste."))
    ends_at = end_of(now, months)
    text = consent_text(owner.display_name, organisation.name, scope, ends_at)
    return ConsentDraft(owner, organisation, scope, months, now, ends_at, text)


def grant_consent(session: Session, draft: ConsentDraft, *, shown_hash: str, by: User,
                  method: ConsentMethod = ConsentMethod.ONLINE, ip: str = "") -> Consent:
    """Record the consent of ``draft`` if ``shown_hash`` is the hash of its text (the text the person saw).
    An earlier valid consent to the same organisation is replaced (revoked now): one holds at a time."""
    if shown_hash != draft.hash:
        raise ConsentError(_("Le texte a changé depuis que vous l'avez lu. Lisez-le à nouveau, puis "
                             "confirmez."))
    now = draft.starts_at
    for earlier in session.scalars(sa.select(Consent).where(
            Consent.owner_id == draft.owner.id, Consent.organisation_id == draft.organisation.id, *_valid_at(now))):
        earlier.revoked_at = now
    consent = Consent(owner_id=draft.owner.id, organisation_id=draft.organisation.id, scope=draft.scope,
                      starts_at=now, ends_at=draft.ends_at, method=method.value,
                      recorded_by_id=by.id if method is ConsentMethod.PAPER else None,
                      text_hash=draft.hash, text_version=TEXT_VERSION, text_language=str(get_locale() or "fr"))
    session.add(consent)
    session.flush()
    audit.record(session, "consent.granted", actor=by, organisation=draft.organisation, target_type="consent",
                 target_id=consent.id, subject_user_id=draft.owner.id, ip=ip,
                 details={"scope": draft.scope, "method": method.value, "ends_at": draft.ends_at.isoformat(),
                          "text_hash": draft.hash})
    return consent


def revoke_consent(session: Session, consent: Consent, by: User, now: dt.datetime, ip: str = "",
                   method: ConsentMethod = ConsentMethod.ONLINE) -> bool:
    """Revoke now; False if it was not holding any more (already revoked or ended). ``method``: the owner
    online, or on paper (``by`` is then the animator who records the signed withdrawal)."""
    if not is_holding(consent, now):
        return False
    consent.revoked_at = now
    consent.revoked_method = method.value
    consent.revoked_by_id = by.id if method is ConsentMethod.PAPER else None
    session.flush()
    audit.record(session, "consent.revoked", actor=by, organisation=consent.organisation, target_type="consent",
                 target_id=consent.id, subject_user_id=consent.owner_id, ip=ip, details={"method": method.value})
    return True


def consents_of(session: Session, owner_id: int) -> list[Consent]:
    """Every consent the person gave, newest first, with organisation and recorder loaded."""
    return list(session.scalars(
        sa.select(Consent).where(Consent.owner_id == owner_id)
        .options(joinedload(Consent.organisation), joinedload(Consent.recorded_by).lazyload(User.memberships),
                 joinedload(Consent.revoked_by).lazyload(User.memberships))
        .order_by(Consent.created_at.desc(), Consent.id.desc())))


def holding_consents(session: Session, owner_id: int, now: dt.datetime) -> list[Consent]:
    """The person's consents that hold now or will (the ones a withdrawal can end), newest first."""
    return [c for c in consents_of(session, owner_id) if is_holding(c, now)]


def owned_consent(session: Session, owner_id: int, consent_id: int) -> Consent | None:
    consent = session.scalar(sa.select(Consent).options(joinedload(Consent.organisation))
                             .where(Consent.id == consent_id, Consent.owner_id == owner_id))
    return consent


def people_who_consented(session: Session, organisation_ids: list[int], now: dt.datetime) -> list[Consent]:
    """The consents holding now for these organisations, with their owners, by name (one query)."""
    if not organisation_ids:
        return []
    return list(session.scalars(
        sa.select(Consent).join(User, User.id == Consent.owner_id)
        .options(joinedload(Consent.owner).lazyload(User.memberships), joinedload(Consent.organisation))
        .where(Consent.organisation_id.in_(organisation_ids), *_valid_at(now))
        .order_by(User.last_name, User.first_name, Consent.id)))


def learners_of(session: Session, epm_ids: list[int]) -> list[User]:
    """The learners enrolled (now or before) at these EPMs, by name: whose paper consent an animator records."""
    if not epm_ids:
        return []
    return list(session.scalars(
        sa.select(User).where(User.id.in_(sa.select(Enrolment.learner_id).where(Enrolment.epm_id.in_(epm_ids))))
        .options(lazyload(User.memberships))
        .order_by(User.last_name, User.first_name)))


# --- Reads ----------------------------------------------------------------------------------------


def reading_organisation(session: Session, reader: Any, owner_id: int, now: dt.datetime) -> Organisation | None:
    """The organisation through which ``reader`` reads ``owner_id``: an EPM where the owner is enrolled and
    the reader animates, else the organisation holding the widest consent."""
    animated = [m.organisation for m in reader.memberships if m.role == Role.ANIMATOR]
    if animated:
        enrolled = set(session.scalars(sa.select(Enrolment.epm_id).where(
            Enrolment.learner_id == owner_id, Enrolment.epm_id.in_([o.id for o in animated]))))
        for organisation in animated:
            if organisation.id in enrolled:
                return organisation
    consent = valid_consent(session, owner_id, partner_organisation_ids(reader), ConsentScope.COMPETENCES, now)
    return consent.organisation if consent is not None else None


def record_read(session: Session, reader: Any, owner_id: int, action: str, now: dt.datetime, *,
                organisation: Organisation | None = None, target_type: str = "user", target_id: object = "",
                details: dict[str, Any] | None = None, ip: str = "") -> AuditEvent | None:
    """Write to the audit log that ``reader`` read ``owner_id``'s data (nothing when they read their own)."""
    if reader is not None and reader.id == owner_id:
        return None
    if organisation is None and reader is not None:
        organisation = reading_organisation(session, reader, owner_id, now)
    return audit.record(session, action, actor=reader, organisation=organisation, target_type=target_type,
                        target_id=target_id if target_id != "" else owner_id, subject_user_id=owner_id,
                        details=details, ip=ip)


def record_reads(session: Session, owner_ids: list[int], action: str, *, actor: User | None, actor_name: str,
                 organisation: Organisation, target_type: str, target_ids: list[int], details: dict[str, Any],
                 ip: str = "") -> None:
    """One audit event per person whose data was read in one go (an export, a page of the API), written
    with one statement whatever their number."""
    if not owner_ids:
        return
    now = utcnow()
    session.execute(sa.insert(AuditEvent), [
        {"created_at": now, "action": action, "actor_id": actor.id if actor else None, "actor_name": actor_name,
         "organisation_id": organisation.id, "organisation_name": organisation.name, "target_type": target_type,
         "target_id": str(target_id), "subject_user_id": owner_id, "details": details, "ip": ip}
        for owner_id, target_id in zip(owner_ids, target_ids, strict=True)])


@dataclass(frozen=True)
class ReadGroup:
    """The reads of one thing by one person of one organisation on one day (local time): "GRETA a consulté
    votre journal 11 fois, le 3 décembre"."""

    day: dt.date
    action: str
    actor_name: str
    organisation_name: str
    times: int
    first_at: dt.datetime
    last_at: dt.datetime
    last_id: int  # the newest read of the group: groups are listed newest first, and continued from it


@dataclass(frozen=True)
class ReadsPage:
    groups: list[ReadGroup]
    older: int | None  # the ``last_id`` to continue from, if there are older reads


def reads_of(session: Session, owner_id: int, before: int | None = None, limit: int = 50) -> ReadsPage:
    """Who read the owner's data (other people than the owner), grouped by day, reader and what was read,
    newest first, a page of groups at a time (one query, whatever the number of reads)."""
    day = local_date(AuditEvent.created_at)
    last_id = sa.func.max(AuditEvent.id)
    query = (sa.select(day, AuditEvent.action, AuditEvent.actor_name, AuditEvent.organisation_name,
                       sa.func.count(AuditEvent.id), sa.func.min(AuditEvent.created_at),
                       sa.func.max(AuditEvent.created_at), last_id)
             .where(AuditEvent.subject_user_id == owner_id, AuditEvent.action.in_(list(READ_ACTIONS)),
                    sa.or_(AuditEvent.actor_id.is_(None), AuditEvent.actor_id != owner_id))
             .group_by(day, AuditEvent.action, AuditEvent.actor_id, AuditEvent.actor_name,
                       AuditEvent.organisation_id, AuditEvent.organisation_name)
             .order_by(last_id.desc()).limit(limit + 1))
    if before is not None:
        query = query.having(last_id < before)
    groups = [ReadGroup(_as_date(d), action, actor or "", organisation or "", times, _aware(first), _aware(last),
                        newest)
              for d, action, actor, organisation, times, first, last, newest in session.execute(query)]
    older = groups[limit - 1].last_id if len(groups) > limit else None
    return ReadsPage(groups[:limit], older)


def _as_date(value: dt.date | str) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _aware(value: dt.datetime | str) -> dt.datetime:
    """An aggregate of a UTC column, read back as an aware datetime (SQLite gives its text)."""
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment
