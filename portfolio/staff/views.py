"""Staff accounts' pages: the list (``/personnel``), a new account with its role and its way in, an
account's page (roles, invitation, access card, deactivation), and the public page where an invited
person chooses their password (``/acces/<token>``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from portfolio import mail, navigation
from portfolio.auth import cards
from portfolio.auth.models import Role, User
from portfolio.auth.password_policy import PASSPHRASE_HINT
from portfolio.auth.sessions import client_address, start_session
from portfolio.db import utcnow
from portfolio.extensions import db
from portfolio.home.services import home_endpoint
from portfolio.orgs.models import Organisation
from portfolio.orgs.services import KIND_LABELS
from portfolio.pdf import pdf_response
from portfolio.permissions import can_add_staff, can_grant, can_invite_staff, can_manage_staff, public, role_required
from portfolio.staff import invitations, services
from portfolio.staff.forms import AcceptForm, CardForm, InvitationForm, RoleFields, StaffForm

bp = Blueprint("staff", __name__)

STAFF_PAGES = (Role.ADMIN, Role.COORDINATOR, Role.ANIMATOR)

bp.record_once(lambda state: navigation.register(
    state.app,
    navigation.NavItem("staff.index", _l("Personnel"), frozenset({Role.ADMIN, Role.COORDINATOR}), order=13),
    navigation.NavItem("staff.index", _l("Équipe"), frozenset({Role.ANIMATOR}), order=60),
))

CHANGED = _l("Une invitation ou une carte vient d'être faite pour ce compte (par vous, ou par quelqu'un d'autre "
             "en même temps) : voici son état actuel. Rien d'autre n'a changé.")
NOT_CONFIRMED = _l("Cochez la case pour confirmer : l'accès actuel de la personne ne marchera plus.")


def _actor() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined,no-any-return]


def _account_or_404(staff_id: int) -> User:
    account = services.load_account(db.session, staff_id)
    if account is None or not can_manage_staff(current_user, account):
        abort(404)
    return account


def _with_role_choices(form: RoleFields) -> list[Organisation]:
    organisations = services.grantable_organisations(db.session, _actor())
    form.organisation.choices = [(o.id, f"{o.name} ({KIND_LABELS[o.kind]})") for o in organisations]
    roles = [r for r in services.STAFF_ROLES if any(can_grant(current_user, o, r) for o in organisations)]
    form.role.choices = [(r.value, services.ROLE_LABELS[r.value]) for r in roles]
    return organisations


def _may_name_leads() -> bool:
    return current_user.has_role(Role.ADMIN, Role.COORDINATOR)


@bp.route("/personnel")
@role_required(*STAFF_PAGES)
def index() -> str:
    query = request.args.get("q", "").strip()[:80]
    organisation_id = request.args.get("organisation", type=int)
    found = services.staff_accounts(db.session, _actor(), organisation_id=organisation_id, query=query)
    rows = services.with_states(db.session, found)
    organisations = services.grantable_organisations(db.session, _actor()) if can_add_staff(current_user) else []
    return render_template("staff/index.html", rows=rows, query=query, organisation_id=organisation_id,
                           organisations=organisations, role_labels=services.ROLE_LABELS, limit=200)


def _create_page(form: StaffForm, refusal: str = "", status: int = 200) -> tuple[str, int]:
    return render_template("staff/create.html", form=form, refusal=refusal, may_name_leads=_may_name_leads(),
                           smtp=current_app.config["SMTP_URL"] != ""), status


@bp.route("/personnel/nouveau", methods=["GET", "POST"])
@role_required(*STAFF_PAGES)
def create() -> Response | tuple[str, int] | str:
    if not can_add_staff(current_user):
        flash(_("Seul·e l'animateur·trice référent·e de votre EPM ajoute des animateurs : demandez-le-lui, ou à la "
                "coordination."), "info")
        return redirect(url_for("staff.index"))
    form = StaffForm()
    organisations = _with_role_choices(form)
    if request.method == "GET" and request.args.get("organisation", type=int):
        form.organisation.data = request.args.get("organisation", type=int)
    if not form.validate_on_submit():
        return _create_page(form, status=422 if request.method == "POST" else 200)
    organisation = next((o for o in organisations if o.id == form.organisation.data), None)
    lead = bool(form.lead.data) and _may_name_leads()
    if organisation is None or not can_grant(current_user, organisation, form.role.data, lead):
        form.role.errors = [_("Ce rôle ne se tient pas dans cet organisme, ou vous ne pouvez pas le donner.")]
        return _create_page(form, status=422)
    if form.access.data == "email" and not (form.email.data or "").strip():
        form.email.errors = [_("Écrivez son adresse électronique, ou choisissez la carte à imprimer.")]
        return _create_page(form, status=422)
    try:
        account = services.create_account(
            db.session, form.username.data or "", first_name=form.first_name.data or "",
            last_name=form.last_name.data or "", email=form.email.data, actor=_actor(), ip=client_address())
        services.grant(db.session, account, organisation, form.role.data, lead=lead, actor=_actor(),
                       ip=client_address())
    except services.StaffRefused as refused:
        if refused.field in form:
            form[refused.field].errors = [str(refused)]
            return _create_page(form, status=422)
        return _create_page(form, str(refused), 422)
    if form.access.data == "card":
        flash(_("Le compte de %(name)s est créé. Imprimez maintenant sa carte d'accès et remettez-la-lui.",
                name=account.display_name), "success")
        return redirect(url_for("staff.show", staff_id=account.id, _anchor="carte"))
    return _invite(account, email=form.email.data if form.access.data == "email" else None)


def _invite(account: User, email: str | None, expected_state: str | None = None) -> Response | tuple[str, int]:
    try:
        invitation, token = services.invite_by_link(
            db.session, account, actor=_actor(), days=current_app.config["STAFF_INVITATION_DAYS"], email=email,
            expected_state=expected_state, ip=client_address())
    except cards.AccessChanged:
        return _show_page(account, message=str(CHANGED), status=409)
    except services.StaffRefused as refused:
        return _show_page(account, message=str(refused), status=422)
    link = url_for("staff.accept", token=token, _external=True)
    if email and invitations.send_invitation(db.session, invitation, account, link, _actor()):
        flash(_("L'invitation est partie à %(email)s. Le lien est valable %(days)s jours.", email=email,
                days=current_app.config["STAFF_INVITATION_DAYS"]), "success")
        return redirect(url_for("staff.show", staff_id=account.id))
    return _show_page(account, new_link=link, not_sent=bool(email) and mail.configured())


def _show_page(account: User, *, new_link: str | None = None, not_sent: bool = False, message: str = "",
               invitation_form: InvitationForm | None = None, card_form: CardForm | None = None,
               role_form: RoleFields | None = None, status: int = 200) -> tuple[str, int]:
    now = utcnow()
    state = services.access_state(db.session, account, now)
    invitation_form = invitation_form or InvitationForm(formdata=None, email=account.email or "")
    card_form = card_form or CardForm(formdata=None)
    invitation_form.replaces.data = card_form.replaces.data = state
    role_form = role_form or RoleFields(formdata=None)
    _with_role_choices(role_form)
    return render_template(
        "staff/show.html", account=account, state=state, memberships=services.memberships_of(db.session, account),
        open_invitation=services.open_invitation(db.session, account, now),
        pending_card=cards.pending_card(db.session, account.id, now), new_link=new_link, not_sent=not_sent,
        message=message, invitation_form=invitation_form, card_form=card_form, role_form=role_form,
        may_invite=can_invite_staff(current_user, account), may_name_leads=_may_name_leads(),
        role_labels=services.ROLE_LABELS, kind_labels=KIND_LABELS, smtp=current_app.config["SMTP_URL"] != "",
        days=current_app.config["STAFF_INVITATION_DAYS"]), status


@bp.route("/personnel/<int:staff_id>")
@role_required(*STAFF_PAGES)
def show(staff_id: int) -> tuple[str, int]:
    return _show_page(_account_or_404(staff_id))


def _confirmed(form: InvitationForm | CardForm) -> bool:
    """Replacing a way in (a link, a card, a password) needs the box ticked; a first one does not."""
    return form.replaces.data == "none" or bool(form.confirm.data)


@bp.route("/personnel/<int:staff_id>/invitation", methods=["POST"])
@role_required(*STAFF_PAGES)
def invite(staff_id: int) -> Response | tuple[str, int]:
    account = _account_or_404(staff_id)
    form = InvitationForm()
    if not form.validate_on_submit():
        return _show_page(account, invitation_form=form, status=422)
    if not _confirmed(form):
        form.confirm.errors = [str(NOT_CONFIRMED)]
        return _show_page(account, invitation_form=form, status=422)
    email = (form.email.data or "").strip() if form.delivery.data == "email" else None
    if form.delivery.data == "email" and not email:
        form.email.errors = [_("Écrivez l'adresse électronique où envoyer le lien.")]
        return _show_page(account, invitation_form=form, status=422)
    return _invite(account, email, expected_state=form.replaces.data or "")


@bp.route("/personnel/<int:staff_id>/carte", methods=["POST"])
@role_required(*STAFF_PAGES)
def card(staff_id: int) -> Response | tuple[str, int]:
    """The printed access card (PDF); the page's form names the way in it replaces."""
    account = _account_or_404(staff_id)
    form = CardForm()
    if not form.validate_on_submit():
        return _show_page(account, card_form=form, status=422)
    if not _confirmed(form):
        form.confirm.errors = [str(NOT_CONFIRMED)]
        return _show_page(account, card_form=form, status=422)
    days = current_app.config["STAFF_INVITATION_DAYS"]
    try:
        _card, code = services.new_access_card(db.session, account, actor=_actor(), days=days,
                                               expected_state=form.replaces.data or "", ip=client_address())
    except cards.AccessChanged:
        return _show_page(account, message=str(CHANGED), status=409)
    except services.StaffRefused as refused:
        return _show_page(account, message=str(refused), status=422)
    return pdf_response(invitations.access_card_pdf(account, code, days), f"carte-acces-{account.username}.pdf")


@bp.route("/personnel/<int:staff_id>/roles", methods=["POST"])
@role_required(*STAFF_PAGES)
def add_role(staff_id: int) -> Response | tuple[str, int]:
    account = _account_or_404(staff_id)
    form = RoleFields()
    organisations = _with_role_choices(form)
    if not form.validate_on_submit():
        return _show_page(account, role_form=form, status=422)
    organisation = next((o for o in organisations if o.id == form.organisation.data), None)
    if organisation is None:
        form.organisation.errors = [_("Choisissez l'organisme.")]
        return _show_page(account, role_form=form, status=422)
    try:
        services.grant(db.session, account, organisation, form.role.data,
                       lead=bool(form.lead.data) and _may_name_leads(), actor=_actor(), ip=client_address())
    except services.StaffRefused as refused:
        form.role.errors = [str(refused)]
        return _show_page(account, role_form=form, status=422)
    flash(_("%(name)s est maintenant aussi %(role)s à %(org)s.", name=account.display_name,
            role=services.ROLE_LABELS[form.role.data].lower(), org=organisation.name), "success")
    return redirect(url_for("staff.show", staff_id=account.id))


@bp.route("/personnel/<int:staff_id>/retirer-role", methods=["POST"])
@role_required(*STAFF_PAGES)
def remove_role(staff_id: int) -> Response | tuple[str, int]:
    account = _account_or_404(staff_id)
    membership_id = request.form.get("membership", type=int)
    membership = next((m for m in account.memberships if m.id == membership_id), None)
    if membership is None:
        flash(_("Choisissez un rôle de la liste."), "error")
        return redirect(url_for("staff.show", staff_id=account.id))
    organisation_name = membership.organisation.name
    try:
        services.remove_role(db.session, account, membership, actor=_actor(), ip=client_address())
    except services.StaffRefused as refused:
        return _show_page(account, message=str(refused), status=422)
    flash(_("Ce rôle à %(org)s est retiré ; tout ce que la personne y a fait est gardé.", org=organisation_name),
          "success")
    if not can_manage_staff(current_user, account):
        return redirect(url_for("staff.index"))
    return redirect(url_for("staff.show", staff_id=account.id))


def _set_active(staff_id: int, active: bool) -> Response | tuple[str, int]:
    account = _account_or_404(staff_id)
    try:
        services.set_active(db.session, account, active, actor=_actor(), ip=client_address())
    except services.StaffRefused as refused:
        return _show_page(account, message=str(refused), status=422)
    if active:
        flash(_("Le compte de %(name)s est de nouveau actif.", name=account.display_name), "success")
    else:
        flash(_("Le compte de %(name)s est désactivé : ses sessions sont fermées, ses invitations ne marchent plus. "
                "Tout ce qu'il a fait est gardé.", name=account.display_name), "success")
    return redirect(url_for("staff.show", staff_id=account.id))


@bp.route("/personnel/<int:staff_id>/desactiver", methods=["POST"])
@role_required(*STAFF_PAGES)
def deactivate(staff_id: int) -> Response | tuple[str, int]:
    return _set_active(staff_id, False)


@bp.route("/personnel/<int:staff_id>/reactiver", methods=["POST"])
@role_required(*STAFF_PAGES)
def reactivate(staff_id: int) -> Response | tuple[str, int]:
    return _set_active(staff_id, True)


# --- The invited person's side ----------------------------------------------------------------------


def _closed() -> tuple[str, int]:
    return render_template("staff/invitation_closed.html"), 404


@bp.route("/acces/<token>", methods=["GET", "POST"])
@public
def accept(token: str) -> Any:
    invitation = services.find_invitation(db.session, token)
    if invitation is None:
        return _closed()
    account = invitation.user
    form = AcceptForm()
    form.policy_username = account.username
    if form.validate_on_submit():
        try:
            user = services.accept(db.session, invitation, form.new_password.data or "")
        except services.StaffRefused:
            return _closed()
        start_session(user, method="invitation")
        flash(_("Bienvenue ! Votre mot de passe est enregistré : la prochaine fois, connectez-vous avec votre "
                "identifiant %(username)s et ce mot de passe.", username=user.username), "success")
        return redirect(url_for(home_endpoint(user)))
    return render_template("staff/accept.html", form=form, account=account, invitation=invitation,
                           memberships=services.memberships_of(db.session, account),
                           role_labels=services.ROLE_LABELS, hint=PASSPHRASE_HINT), \
        422 if request.method == "POST" else 200
