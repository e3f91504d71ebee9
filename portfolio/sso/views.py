"""Single sign-on with OpenID Connect: signing in through a provider, the one-time invitation that
links a provider's identity to an account, re-authentication through the provider, and sign-out.

Every start of a flow is a POST with a CSRF token; the provider's return (``callback``) is a GET,
protected by the ``state`` kept in the session, the PKCE verifier and the ID token's nonce.
"""

from __future__ import annotations

import time
from typing import Any

import requests
import sqlalchemy as sa
from authlib.integrations.base_client import OAuthError
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from joserfc.errors import JoseError
from werkzeug.wrappers import Response

from portfolio import navigation
from portfolio.audit import services as audit
from portfolio.auth.models import Membership, Role, User
from portfolio.auth.sessions import client_address, mark_recent_auth, recent_auth_required, start_session
from portfolio.db import utcnow
from portfolio.extensions import db
from portfolio.home.services import home_endpoint
from portfolio.permissions import can_create_sign_in_means, can_manage_sign_in, public, role_required, signed_in
from portfolio.sso import oidc, services
from portfolio.sso.models import ExternalIdentity
from portfolio.urls import is_safe_next

bp = Blueprint("sso", __name__)

FLOW = "sso_flow"  # the flow under way: provider, state, intent (login, link, reauth), invitation, next
SIGNED_IN_WITH = "sso_provider"  # set when the session was opened through a provider
ID_TOKEN = "sso_id_token"  # kept for the provider's sign-out (id_token_hint)  # noqa: S105
STAFF = (Role.ADMIN, Role.COORDINATOR, Role.ANIMATOR)
FLOW_ERRORS = (OAuthError, JoseError, requests.RequestException, RuntimeError, ValueError, KeyError)


def _register(state: Any) -> None:
    oidc.init_app(state.app)
    if state.app.config["OIDC_PROVIDERS"]:
        navigation.register(state.app, navigation.NavItem(
            "sso.accounts", _l("Connexion externe"), frozenset(STAFF), order=80))


bp.record_once(_register)


@bp.app_context_processor
def _providers() -> dict[str, Any]:
    return {"sso_providers": oidc.providers(), "provider_label": _label}


def _provider_or_404(name: str) -> oidc.Provider:
    found = oidc.provider(name)
    if found is None:
        abort(404)
    return found


def _redirect_to_provider(provider: oidc.Provider, intent: str, **flow: Any) -> Response:
    client = oidc.client(provider.name)
    extra: dict[str, Any] = {"ui_locales": "fr"}
    if intent in ("reauth", "link_mine"):
        extra.update(prompt="login", max_age=0)
    try:
        redirect_uri = url_for("sso.callback", provider=provider.name, _external=True)
        found = client.create_authorization_url(redirect_uri, **extra)
    except FLOW_ERRORS as exc:
        current_app.logger.warning("identity provider %s unreachable: %s", provider.name, exc)
        flash(_("%(provider)s ne répond pas pour le moment. Réessayez dans quelques minutes, ou utilisez "
                "votre identifiant et votre mot de passe.", provider=provider.label), "error")
        return redirect(url_for("auth.login"))
    client.save_authorize_data(redirect_uri=redirect_uri, **found)
    session[FLOW] = {"provider": provider.name, "state": found["state"], "intent": intent,
                     "started": int(time.time()), **flow}
    return redirect(found["url"])


@bp.route("/connexion/externe/<provider>", methods=["POST"])
@public
def start(provider: str) -> Response:
    chosen = _provider_or_404(provider)
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint(current_user)))
    next_url = request.form.get("next")
    return _redirect_to_provider(chosen, "login", next=next_url if is_safe_next(next_url) else None)


@bp.route("/connexion/externe/<provider>/confirmer", methods=["POST"])
@signed_in
def reauthenticate(provider: str) -> Response:
    chosen = _provider_or_404(provider)
    if not any(i.provider == chosen.name for i in services.identities_of(db.session, current_user)):
        abort(404)
    next_url = request.form.get("next")
    return _redirect_to_provider(chosen, "reauth", next=next_url if is_safe_next(next_url) else None)


@bp.route("/compte/connexion-externe/<provider>/relier", methods=["POST"])
@signed_in
@recent_auth_required
def link_mine(provider: str) -> Response:
    """Link an identity of this provider to my own account: the one way a learner's account gets one (at
    home, or at the EPM after signing in with her login card); staff use it for their own accounts too."""
    chosen = _provider_or_404(provider)
    return _redirect_to_provider(chosen, "link_mine", user=current_user.id)


@bp.route("/invitation/<token>")
@public
def invitation(token: str) -> tuple[str, int] | str:
    found = services.find_invitation(db.session, token)
    if found is None:
        return render_template("sso/invitation_closed.html"), 404
    return render_template("sso/invitation.html", invitation=found, token=token)


@bp.route("/invitation/<token>", methods=["POST"])
@public
def accept(token: str) -> Response | tuple[str, int]:
    found = services.find_invitation(db.session, token)
    if found is None:
        return render_template("sso/invitation_closed.html"), 404
    if current_user.is_authenticated:
        return redirect(url_for("sso.invitation", token=token))
    chosen = _provider_or_404(request.form.get("provider", ""))
    return _redirect_to_provider(chosen, "link", invitation=found.id)


def _fail(provider: oidc.Provider, reason: str, message: str) -> Response:
    audit.record(db.session, "auth.sso_failed", details={"provider": provider.name, "reason": reason},
                 actor=current_user._get_current_object() if current_user.is_authenticated else None,
                 ip=client_address())
    flash(message, "error")
    return redirect(url_for("account.index") if current_user.is_authenticated else url_for("auth.login"))


@bp.route("/connexion/externe/<provider>/retour")
@public
def callback(provider: str) -> Response | str:
    chosen = _provider_or_404(provider)
    flow = session.pop(FLOW, None) or {}
    if flow.get("provider") != chosen.name or not flow.get("state") or flow["state"] != request.args.get("state"):
        return _fail(chosen, "state", _("La connexion avec %(provider)s n'a pas abouti. Recommencez depuis la "
                                        "page de connexion.", provider=chosen.label))
    if request.args.get("error"):
        return _fail(chosen, f"provider:{request.args.get('error', '')[:40]}",
                     _("La connexion avec %(provider)s a été annulée.", provider=chosen.label))
    try:
        token = oidc.client(chosen.name).authorize_access_token()
        claims = token["userinfo"]
        issuer, subject = str(claims["iss"]), str(claims["sub"])
    except FLOW_ERRORS as exc:
        current_app.logger.warning("sign-in through %s failed: %r", chosen.name, exc)
        return _fail(chosen, "token", _("La connexion avec %(provider)s n'a pas abouti. Réessayez dans quelques "
                                        "minutes, ou utilisez votre identifiant et votre mot de passe.",
                                        provider=chosen.label))
    intent = flow.get("intent")
    if intent == "reauth":
        return _reauthenticated(chosen, flow, issuer, subject, claims)
    if intent == "link":
        return _link(chosen, flow, issuer, subject, token)
    if intent == "link_mine":
        return _link_mine(chosen, flow, issuer, subject, claims)
    identity = services.identity_for(db.session, issuer, subject)
    if identity is None or not identity.user.active:
        audit.record(db.session, "auth.sso_unknown", details={"provider": chosen.name}, ip=client_address())
        return render_template("sso/unknown.html", provider=chosen)
    return _sign_in(chosen, identity, token, flow.get("next"))


def _sign_in(provider: oidc.Provider, identity: ExternalIdentity, token: dict[str, Any], next_url: str | None,
             ) -> Response:
    identity.last_used_at = utcnow()
    start_session(identity.user, method="oidc", details={"provider": provider.name})
    session[SIGNED_IN_WITH] = provider.name
    if token.get("id_token"):
        session[ID_TOKEN] = token["id_token"]
    return redirect(next_url if is_safe_next(next_url) else url_for(home_endpoint(identity.user)))


def _link(provider: oidc.Provider, flow: dict[str, Any], issuer: str, subject: str, token: dict[str, Any]) -> Response:
    from portfolio.sso.models import SignInInvitation

    invitation = db.session.get(SignInInvitation, flow.get("invitation") or 0)
    if invitation is None or not invitation.is_open(utcnow()):
        return _fail(provider, "invitation_closed", _("Cette invitation n'est plus valable. Demandez-en une "
                                                      "nouvelle à la personne qui vous l'a donnée."))
    try:
        identity = services.link_identity(db.session, invitation, provider.name, issuer, subject)
    except services.LinkRefused as refused:
        if refused.reason == "invitation_closed":
            return _fail(provider, "invitation_closed", _("Cette invitation n'est plus valable. Demandez-en une "
                                                          "nouvelle à la personne qui vous l'a donnée."))
        return _fail(provider, "linked_elsewhere", _("Ce compte %(provider)s est déjà relié à un autre compte "
                                                     "Ticket Net. Demandez de l'aide à votre EPM.",
                                                     provider=provider.label))
    db.session.refresh(identity, ["user"])
    audit.record(db.session, "sso.linked", actor=identity.user, target_type="external_identity",
                 target_id=identity.id, subject_user_id=identity.user_id,
                 details={"provider": provider.name, "invitation": invitation.id}, ip=client_address())
    response = _sign_in(provider, identity, token, None)
    flash(_("C'est fait : votre compte %(provider)s est relié à Ticket Net. La prochaine fois, choisissez "
            "« Se connecter avec %(provider)s ».", provider=provider.label), "success")
    return response


def _link_mine(provider: oidc.Provider, flow: dict[str, Any], issuer: str, subject: str,
               claims: dict[str, Any]) -> Response:
    """The signed-in person linked an identity of the provider to her own account (she signed in there
    just now: ``prompt=login``, so that a provider session someone left open on an EPM computer is not
    linked by mistake)."""
    if not current_user.is_authenticated or current_user.id != flow.get("user"):
        return _fail(provider, "link_other_session", _("La connexion avec %(provider)s n'a pas abouti. "
                                                       "Recommencez depuis « Mon compte ».", provider=provider.label))
    auth_time = claims.get("auth_time")
    if not isinstance(auth_time, int) or auth_time < flow.get("started", 0) - 60:
        return _fail(provider, "link_not_fresh", _("%(provider)s n'a pas redemandé votre identité : rien n'a été "
                                                   "relié. Recommencez depuis « Mon compte ».",
                                                   provider=provider.label))
    user = current_user._get_current_object()
    try:
        identity, created = services.link_own_identity(db.session, user, provider.name, issuer, subject)
    except services.LinkRefused:
        return _fail(provider, "linked_elsewhere", _("Ce compte %(provider)s est déjà relié à un autre compte "
                                                     "Ticket Net. Demandez de l'aide à votre EPM.",
                                                     provider=provider.label))
    if created:
        audit.record(db.session, "sso.linked", actor=user, target_type="external_identity", target_id=identity.id,
                     subject_user_id=user.id, details={"provider": provider.name, "by": "owner"},
                     ip=client_address())
        flash(_("C'est fait : votre compte %(provider)s est relié à Ticket Net. La prochaine fois, vous pourrez "
                "choisir « Se connecter avec %(provider)s ».", provider=provider.label), "success")
    else:
        flash(_("Ce compte %(provider)s était déjà relié au vôtre.", provider=provider.label), "info")
    return redirect(url_for("account.index"))


def _reauthenticated(provider: oidc.Provider, flow: dict[str, Any], issuer: str, subject: str,
                     claims: dict[str, Any]) -> Response:
    identity = services.identity_for(db.session, issuer, subject)
    auth_time = claims.get("auth_time")
    if not current_user.is_authenticated or identity is None or identity.user_id != current_user.id:
        return _fail(provider, "reauth_other_identity", _("Ce n'est pas le compte %(provider)s relié à votre "
                                                          "compte. Confirmez avec votre mot de passe.",
                                                          provider=provider.label))
    if not isinstance(auth_time, int) or auth_time < flow.get("started", 0) - 60:
        return _fail(provider, "reauth_not_fresh", _("%(provider)s n'a pas redemandé votre identité. Confirmez "
                                                     "avec votre mot de passe.", provider=provider.label))
    mark_recent_auth()
    audit.record(db.session, "auth.reauthenticated", actor=current_user._get_current_object(),
                 details={"method": "oidc", "provider": provider.name}, ip=client_address())
    next_url = flow.get("next")
    return redirect(next_url if is_safe_next(next_url) else url_for("account.index"))


def provider_logout_redirect(post_logout_url: str) -> Response | None:
    """For a session opened through a provider that offers RP-initiated logout: the redirect that
    ends the provider's session too (then comes back to ``post_logout_url``)."""
    name, id_token = session.get(SIGNED_IN_WITH), session.get(ID_TOKEN)
    if not name or not id_token or oidc.provider(name) is None:
        return None
    client = oidc.client(name)
    try:
        if not client.load_server_metadata().get("end_session_endpoint"):
            return None
        return client.logout_redirect(post_logout_redirect_uri=post_logout_url, id_token_hint=id_token)  # type: ignore[no-any-return]
    except FLOW_ERRORS as exc:
        current_app.logger.warning("sign-out at %s failed: %r", name, exc)
        return None


# --- The staff's side: invitations and links of the accounts they look after ----------------------


def _account_or_404(account_id: int) -> User:
    account = db.session.get(User, account_id)
    if account is None or not can_manage_sign_in(current_user, account):
        abort(404)
    return account


def _manage_page(account: User, new_link: str | None = None) -> str:
    return render_template("sso/manage.html", account=account, new_link=new_link,
                           identities=services.identities_of(db.session, account),
                           invitations=services.open_invitations(db.session, account),
                           may_invite=can_create_sign_in_means(current_user, account))


@bp.route("/comptes/connexion-externe")
@role_required(*STAFF)
def accounts() -> str:
    query = request.args.get("q", "").strip()[:80]
    statement = sa.select(User).where(User.active.is_(True)).order_by(User.last_name, User.first_name, User.id)
    if query:
        pattern = f"%{query.lower()}%"
        statement = statement.where(sa.or_(User.username.like(pattern), sa.func.lower(User.last_name).like(pattern),
                                           sa.func.lower(User.first_name).like(pattern)))
    if not current_user.has_role(Role.ADMIN, Role.COORDINATOR):
        epms = [org.id for org in current_user.organisations_for(Role.ANIMATOR)]
        statement = statement.where(User.id.in_(sa.select(Membership.user_id).where(
            Membership.organisation_id.in_(epms), Membership.role == Role.BENEFICIARY.value)))
    found = [u for u in db.session.scalars(statement.limit(100)) if can_manage_sign_in(current_user, u)]
    return render_template("sso/accounts.html", accounts=found[:50], query=query)


@bp.route("/comptes/<int:account_id>/connexion-externe")
@role_required(*STAFF)
def manage(account_id: int) -> str:
    return _manage_page(_account_or_404(account_id))


@bp.route("/comptes/<int:account_id>/connexion-externe/invitation", methods=["POST"])
@role_required(*STAFF)
def invite(account_id: int) -> str:
    account = _account_or_404(account_id)
    if not can_create_sign_in_means(current_user, account):  # a learner links her identity herself
        abort(404)
    invitation, token = services.create_invitation(db.session, account, current_user,
                                                   current_app.config["SSO_INVITATION_DAYS"])
    audit.record(db.session, "sso.invitation_created", actor=current_user._get_current_object(),
                 target_type="sign_in_invitation", target_id=invitation.id, subject_user_id=account.id,
                 ip=client_address())
    return _manage_page(account, new_link=url_for("sso.invitation", token=token, _external=True))


@bp.route("/comptes/<int:account_id>/connexion-externe/invitation/annuler", methods=["POST"])
@role_required(*STAFF)
def revoke(account_id: int) -> Response:
    account = _account_or_404(account_id)
    if services.revoke_invitations(db.session, account):
        audit.record(db.session, "sso.invitation_revoked", actor=current_user._get_current_object(),
                     subject_user_id=account.id, ip=client_address())
    flash(_("L'invitation est annulée : le lien ne marche plus."), "success")
    return redirect(url_for("sso.manage", account_id=account.id))


def _remove(identity: ExternalIdentity, account: User) -> None:
    services.unlink_identity(db.session, identity)
    audit.record(db.session, "sso.unlinked", actor=current_user._get_current_object(),
                 target_type="external_identity", target_id=identity.id, subject_user_id=account.id,
                 details={"provider": identity.provider}, ip=client_address())


@bp.route("/comptes/<int:account_id>/connexion-externe/<int:identity_id>/retirer", methods=["POST"])
@role_required(*STAFF)
def unlink_for(account_id: int, identity_id: int) -> Response:
    account = _account_or_404(account_id)
    identity = db.session.get(ExternalIdentity, identity_id)
    if identity is None or identity.user_id != account.id:
        abort(404)
    _remove(identity, account)
    flash(_("Ce compte ne peut plus se connecter par %(provider)s.", provider=_label(identity.provider)), "success")
    return redirect(url_for("sso.manage", account_id=account.id))


@bp.route("/compte/connexion-externe/<int:identity_id>/retirer", methods=["POST"])
@signed_in
@recent_auth_required
def unlink_mine(identity_id: int) -> Response:
    identity = db.session.get(ExternalIdentity, identity_id)
    if identity is None or identity.user_id != current_user.id:
        abort(404)
    if not services.can_unlink(db.session, identity, current_user):
        flash(_("Vous ne pourriez plus vous connecter : demandez d'abord un mot de passe à votre EPM."), "error")
        return redirect(url_for("account.index"))
    _remove(identity, current_user)
    flash(_("Vous ne vous connecterez plus par %(provider)s.", provider=_label(identity.provider)), "success")
    return redirect(url_for("account.index"))


def _label(name: str) -> str:
    found = oidc.provider(name)
    return found.label if found else name
