"""The prescriber's desk: issue tickets (one or a batch), print them, follow them; the coordination sees all."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response

from importers.apply_tickets import TicketCheck, check_tickets, import_tickets
from importers.errors import ImportRefused
from importers.staging import StagingStore, staging_store
from importers.tickets import MAX_BYTES as IMPORT_MAX_BYTES
from importers.tickets import parse_ticket_file
from portfolio import navigation
from portfolio.audit import services as audit
from portfolio.auth.models import Role
from portfolio.catalogue.scheme import current_scheme
from portfolio.extensions import db
from portfolio.orgs.models import Organisation
from portfolio.pdf import pdf_response, qr_code_data_uri, render_pdf
from portfolio.permissions import can_coordinate, can_follow_ticket, role_required
from portfolio.tickets import services
from portfolio.tickets.forms import BatchForm, ImportConfirmForm, ImportForm, TicketForm
from portfolio.tickets.models import Ticket, TicketStatus
from portfolio.timeutil import local_today

bp = Blueprint("tickets", __name__)
PAGE_SIZE = 50
PRINT_LIMIT = 200  # tickets in one PDF

bp.record_once(
    lambda state: navigation.register(
        state.app,
        navigation.NavItem("tickets.index", _l("Liste des tickets"), frozenset({Role.PRESCRIBER, Role.COORDINATOR}),
                           order=20),
        navigation.NavItem("tickets.issue", _l("Émettre des tickets"), frozenset({Role.PRESCRIBER}), order=30),
        navigation.NavItem("tickets.import_file", _l("Importer un fichier"), frozenset({Role.PRESCRIBER}), order=35),
    )
)


def _my_prescribers() -> list[Organisation]:
    return current_user.organisations_for(Role.PRESCRIBER)


def _visible_ticket(ticket_id: int) -> Ticket:
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or not can_follow_ticket(current_user, ticket):
        abort(404)
    return ticket


def _prepare(form: TicketForm | BatchForm | ImportForm) -> None:
    scheme = current_scheme(db.session)
    form.prescriber.choices = [(org.id, org.name) for org in _my_prescribers()]
    form.public_category.choices = [("", _("Choisissez…")), *scheme.public_categories.items()]


def _chosen_prescriber(form: TicketForm | BatchForm | ImportForm) -> Organisation:
    mine = {org.id: org for org in _my_prescribers()}
    if form.prescriber.data not in mine:
        abort(404)
    return mine[form.prescriber.data]


@bp.route("/tickets")
@role_required(Role.PRESCRIBER, Role.COORDINATOR)
def index() -> str:
    today = local_today()
    status_text = request.args.get("etat", "")
    status = TicketStatus(status_text) if status_text in TicketStatus.__members__.values() else None
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    search = request.args.get("q", "")[:100]
    prescriber_ids = None if can_coordinate(current_user) else [org.id for org in _my_prescribers()]
    total, rows = services.list_tickets(db.session, today, prescriber_ids, status, search,
                                        limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render_template("tickets/index.html", rows=rows, total=total, page=page, pages=max(
        (total + PAGE_SIZE - 1) // PAGE_SIZE, 1), status=status, search=search, statuses=list(TicketStatus),
        expiring=services.expiring_soon(db.session, today, prescriber_ids=prescriber_ids))


@bp.route("/tickets/emettre", methods=["GET", "POST"])
@role_required(Role.PRESCRIBER)
def issue() -> Response | str:
    form = TicketForm()
    _prepare(form)
    if form.validate_on_submit():
        holder = services.Holder(
            last_name=form.last_name.data or "", first_name=form.first_name.data or "",
            birth_date=form.birth_date.data, commune=form.commune.data or "",
            public_category=form.public_category.data or "", phone=form.phone.data or "",
            email=form.email.data or "")
        taken = services.active_ticket_problems(db.session, [holder], local_today())
        if not taken:
            return _issue_and_show([holder], _chosen_prescriber(form))
        form.last_name.errors = [*form.last_name.errors, *taken]
    return render_template("tickets/issue.html", form=form)


@bp.route("/tickets/emettre-plusieurs", methods=["GET", "POST"])
@role_required(Role.PRESCRIBER)
def issue_batch() -> Response | str:
    form = BatchForm()
    _prepare(form)
    problems: list[str] = []
    if form.validate_on_submit():
        holders, problems = services.parse_holders(form.people.data or "", form.public_category.data or "",
                                                   local_today())
        problems += services.active_ticket_problems(db.session, holders, local_today())
        if not problems:
            return _issue_and_show(holders, _chosen_prescriber(form))
    return render_template("tickets/batch.html", form=form, problems=problems)


def _issue_and_show(holders: list[services.Holder], prescriber: Organisation) -> str:
    issued = services.issue_tickets(db.session, current_scheme(db.session), prescriber, holders, local_today(),
                                    current_user)
    for ticket in issued:
        audit.record(db.session, "ticket.issue", actor=current_user, organisation=prescriber, target_type="ticket",
                     target_id=ticket.reference, ip=request.remote_addr or "")
    flash(ngettext("%(num)d ticket émis. Imprimez-le et remettez-le à la personne.",
                   "%(num)d tickets émis. Imprimez-les et remettez-les aux personnes.", len(issued)), "success")
    return render_template("tickets/issued.html", tickets=issued)


# --- Importing a spreadsheet: upload -> report -> confirm ------------------------------------------------
# The uploaded file is kept server-side for an hour (importers.staging), keyed by a random token, so
# that confirming does not need the file again; confirming parses and checks it again before issuing.

PROBLEMS_SHOWN = 1_000


def _staging() -> StagingStore:
    return staging_store(current_app.config["UPLOAD_DIR"])


def _check_staged(data: bytes, filename: str, default_category: str) -> TicketCheck:
    parsed = parse_ticket_file(data, filename, current_scheme(db.session).public_categories, local_today(),
                               default_category or None)
    return check_tickets(db.session, parsed, local_today())


def _import_form() -> ImportForm:
    form = ImportForm()
    _prepare(form)
    form.public_category.choices = [("", _("Indiqué dans le fichier (colonne Public)")),
                                    *form.public_category.choices[1:]]
    return form


def _report(form: ImportForm, check: TicketCheck, token: str) -> str:
    return render_template("tickets/import_report.html", form=form, check=check, token=token,
                           confirm=ImportConfirmForm(token=token), shown=check.problems[:PROBLEMS_SHOWN],
                           preview=check.importable[:20], categories=current_scheme(db.session).public_categories)


@bp.route("/tickets/importer", methods=["GET", "POST"])
@role_required(Role.PRESCRIBER)
def import_file() -> str:
    """Send a CSV or XLSX file; every problem is listed by line, nothing is issued yet."""
    form = _import_form()
    if form.validate_on_submit():
        prescriber = _chosen_prescriber(form)
        upload = form.file.data
        filename = (upload.filename or "fichier")[:200]
        data = upload.read(IMPORT_MAX_BYTES + 1)
        try:
            check = _check_staged(data, filename, form.public_category.data or "")
        except ImportRefused as refused:
            form.file.errors = [str(refused)]
        else:
            token = _staging().put(current_user.id, filename, data, prescriber_id=prescriber.id,
                                   default_category=form.public_category.data or "")
            return _report(form, check, token)
    return render_template("tickets/import.html", form=form)


@bp.route("/tickets/importer/confirmer", methods=["POST"])
@role_required(Role.PRESCRIBER)
def import_confirm() -> Response | str:
    """Issue the tickets of a checked file: all of them, or only the valid rows when asked explicitly."""
    confirm = ImportConfirmForm()
    staged = _staging().get(confirm.token.data or "", current_user.id) if confirm.validate_on_submit() else None
    mine = {org.id: org for org in _my_prescribers()}
    if staged is None or staged.meta.get("prescriber_id") not in mine:
        flash(_("Le fichier n'est plus disponible (il est gardé une heure) : envoyez-le à nouveau."), "error")
        return redirect(url_for("tickets.import_file"))
    prescriber = mine[staged.meta["prescriber_id"]]
    default_category = str(staged.meta.get("default_category") or "")
    try:
        check = _check_staged(staged.data, staged.filename, default_category)
    except ImportRefused as refused:
        flash(str(refused), "error")
        return redirect(url_for("tickets.import_file"))
    try:
        references = import_tickets(db.session, current_scheme(db.session), prescriber, check, local_today(),
                                    current_user, valid_only=confirm.valid_only.data == "1",
                                    ip=request.remote_addr or "")
    except ImportRefused as refused:
        flash(str(refused), "error")
        form = _import_form()
        form.prescriber.data, form.public_category.data = prescriber.id, default_category
        return _report(form, check, staged.token)
    _staging().discard(staged.token)
    issued = list(db.session.scalars(
        sa.select(Ticket).where(Ticket.reference.in_(references[:PRINT_LIMIT])).order_by(Ticket.reference)))
    flash(ngettext("%(num)d ticket émis. Imprimez-le et remettez-le à la personne.",
                   "%(num)d tickets émis. Imprimez-les et remettez-les aux personnes.", len(references)), "success")
    return render_template("tickets/import_done.html", count=len(references), first=references[0],
                           last=references[-1], tickets=issued, left_out=len(check.problems),
                           filename=staged.filename)


@bp.route("/tickets/<int:ticket_id>")
@role_required(Role.PRESCRIBER, Role.COORDINATOR)
def detail(ticket_id: int) -> str:
    ticket = _visible_ticket(ticket_id)
    today = local_today()
    return render_template("tickets/detail.html", ticket=ticket, status=ticket.effective_status(today),
                           used=services.ledger(db.session, [ticket.id])[ticket.id],
                           prescriber=db.session.get(Organisation, ticket.prescriber_id),
                           category=current_scheme(db.session).public_categories.get(ticket.public_category, ""))


@bp.route("/tickets/<int:ticket_id>/annuler", methods=["POST"])
@role_required(Role.PRESCRIBER)
def cancel(ticket_id: int) -> Response:
    ticket = _visible_ticket(ticket_id)
    try:
        services.cancel_ticket(db.session, ticket, local_today())
    except services.TicketRefused as refused:
        flash(str(refused), "error")
    else:
        audit.record(db.session, "ticket.cancel", actor=current_user, target_type="ticket",
                     target_id=ticket.reference, ip=request.remote_addr or "")
        flash(_("Le ticket %(ref)s est annulé.", ref=ticket.reference), "success")
    return redirect(url_for("tickets.detail", ticket_id=ticket.id))


@bp.route("/tickets/<int:ticket_id>/annuler-pour-fraude", methods=["POST"])
@role_required(Role.PRESCRIBER, Role.COORDINATOR)
def cancel_for_fraud(ticket_id: int) -> Response:
    ticket = _visible_ticket(ticket_id)
    if request.form.get("confirm") != "1":
        flash(_("Cochez la case pour confirmer la fraude."), "error")
        return redirect(url_for("tickets.detail", ticket_id=ticket.id))
    services.cancel_ticket(db.session, ticket, local_today(), fraud=True)
    audit.record(db.session, "ticket.cancel", actor=current_user, target_type="ticket", target_id=ticket.reference,
                 details={"reason": "fraud"}, ip=request.remote_addr or "")
    flash(_("Le ticket %(ref)s est annulé pour fraude ; les badges obtenus avec lui sont révoqués.",
            ref=ticket.reference), "success")
    return redirect(url_for("tickets.detail", ticket_id=ticket.id))


@bp.route("/tickets/imprimer")
@role_required(Role.PRESCRIBER, Role.COORDINATOR)
def print_tickets() -> Response:
    """One PDF page per ticket: ``?id=1&id=2``."""
    ids = request.args.getlist("id", type=int)[:PRINT_LIMIT]
    if not ids:
        return redirect(url_for("tickets.index"))
    found = {t.id: t for t in db.session.scalars(sa.select(Ticket).where(Ticket.id.in_(ids)))}
    chosen = [found[i] for i in dict.fromkeys(ids) if i in found and can_follow_ticket(current_user, found[i])]
    if len(chosen) != len(dict.fromkeys(ids)):
        abort(404)
    name = f"ticket-{chosen[0].reference}.pdf" if len(chosen) == 1 else f"tickets-{len(chosen)}.pdf"
    return pdf_response(ticket_pdf(chosen), name)


def ticket_pdf(tickets: list[Ticket]) -> bytes:
    prescribers = {o.id: o for o in db.session.scalars(
        sa.select(Organisation).where(Organisation.id.in_({t.prescriber_id for t in tickets})))}
    return render_pdf("tickets/ticket_pdf.html", tickets=tickets, prescribers=prescribers,
                      qr={t.id: qr_code_data_uri(t.reference) for t in tickets},
                      epms=services.participating_epms(db.session))


@bp.app_template_global()
def ticket_status_label(status: str) -> str:
    return str(services.STATUS_LABELS[TicketStatus(status)])
