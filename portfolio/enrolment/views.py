"""The animator's pages: register a ticket, the learners and their login cards, the positioning
interview, workshops (plan, book, attendance, attendance sheet) and the attendance dashboard."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from competences.models import Competence, Level
from portfolio import navigation
from portfolio.audit import services as audit
from portfolio.auth import cards
from portfolio.auth.models import Role, User
from portfolio.catalogue.scheme import current_scheme
from portfolio.db import utcnow
from portfolio.enrolment import services
from portfolio.enrolment.forms import BookForm, InterviewForm, PlanForm, RegisterForm
from portfolio.enrolment.models import AttendanceStatus, Enrolment, WorkshopSession
from portfolio.extensions import db
from portfolio.orgs.models import Organisation
from portfolio.pdf import pdf_response, render_pdf
from portfolio.permissions import can_manage_epm, can_print_login_card, role_required
from portfolio.tickets import services as tickets
from portfolio.tickets.services import TicketRefused
from portfolio.timeutil import LOCAL_TZ, local_now, local_today

bp = Blueprint("enrolment", __name__, url_prefix="/epm")

bp.record_once(
    lambda state: navigation.register(
        state.app,
        navigation.NavItem("enrolment.register", _l("Inscrire un ticket"), frozenset({Role.ANIMATOR}), order=20),
        navigation.NavItem("enrolment.learners", _l("Apprenants"), frozenset({Role.ANIMATOR}), order=30),
        navigation.NavItem("enrolment.workshops", _l("Ateliers"), frozenset({Role.ANIMATOR}), order=40),
        navigation.NavItem("enrolment.dashboard", _l("Présences"), frozenset({Role.ANIMATOR}), order=50),
    )
)

LEVEL_LABELS = {Level.NOT_YET: _l("Pas encore"), Level.IN_PROGRESS: _l("En cours"), Level.ACQUIRED: _l("Acquis")}
ATTENDANCE_LABELS = {AttendanceStatus.PRESENT: _l("Présent·e"), AttendanceStatus.EXCUSED: _l("Excusé·e"),
                     AttendanceStatus.ABSENT: _l("Absent·e")}


def _my_epms() -> list[Organisation]:
    return sorted(current_user.organisations_for(Role.ANIMATOR), key=lambda o: o.name)


def _with_epm_choice(form: RegisterForm | PlanForm) -> None:
    form.epm.choices = [(epm.id, epm.name) for epm in _my_epms()]
    if form.epm.data is None and form.epm.choices:
        form.epm.data = form.epm.choices[0][0]


def _chosen_epm(form: RegisterForm | PlanForm) -> Organisation:
    chosen = next((epm for epm in _my_epms() if epm.id == form.epm.data), None)
    if chosen is None:
        abort(404)
    return chosen


def _my_enrolment(enrolment_id: int) -> Enrolment:
    enrolment = services.load_enrolment(db.session, enrolment_id)
    if enrolment is None or not can_manage_epm(current_user, enrolment.epm_id):
        abort(404)
    return enrolment


def _my_session(session_id: int) -> WorkshopSession:
    workshop = services.load_session(db.session, session_id)
    if workshop is None or not can_manage_epm(current_user, workshop.epm_id):
        abort(404)
    return workshop


# --- Registration and learners ----------------------------------------------------------------------


@bp.route("/inscrire", methods=["GET", "POST"])
@role_required(Role.ANIMATOR)
def register() -> Response | str:
    form = RegisterForm()
    _with_epm_choice(form)
    refusal = None
    if form.validate_on_submit():
        epm = _chosen_epm(form)
        try:
            done = services.register_ticket(db.session, epm, current_user, form.reference.data or "",
                                            form.last_name.data or "", form.birth_date.data, local_today())
        except TicketRefused as refused:
            refusal = str(refused)
        else:
            audit.record(db.session, "enrolment.register", actor=current_user, organisation=epm,
                         target_type="ticket", target_id=done.enrolment.ticket_id, subject_user_id=done.learner.id,
                         ip=request.remote_addr or "")
            flash(_("Le ticket est inscrit. Imprimez la carte de connexion de %(name)s.",
                    name=done.learner.display_name), "success")
            return redirect(url_for("enrolment.learner", enrolment_id=done.enrolment.id))
    return render_template("enrolment/register.html", form=form, refusal=refusal)


@bp.route("/apprenants")
@role_required(Role.ANIMATOR)
def learners() -> str:
    today = local_today()
    epms = _my_epms()
    return render_template("enrolment/learners.html", today=today, rosters=[
        (epm, services.roster(db.session, epm.id, today)) for epm in epms])


@bp.route("/apprenants/<int:enrolment_id>")
@role_required(Role.ANIMATOR)
def learner(enrolment_id: int) -> str:
    enrolment = _my_enrolment(enrolment_id)
    ticket = enrolment.ticket
    return render_template(
        "enrolment/learner.html", enrolment=enrolment, ticket=ticket,
        status=ticket.effective_status(local_today()), used=tickets.ledger(db.session, [ticket.id])[ticket.id],
        sessions=services.enrolment_sessions(db.session, enrolment.id),
        card=cards.pending_card(db.session, enrolment.learner_id) if enrolment.learner_id else None,
        attendance_labels=ATTENDANCE_LABELS)


CARD_CHANGED = _l("Une carte vient d'être imprimée pour cette personne (par vous, ou par un·e collègue en même temps), "
                  "ou elle vient de choisir son mot de passe : voici où elle en est. Rien n'a été imprimé.")


def _card_pdf(epm: Organisation, printed: list[tuple[User, str]]) -> bytes:
    return render_pdf("enrolment/login_card_pdf.html", cards=printed, epm=epm,
                      first_sign_in_url=url_for("auth.first_sign_in", _external=True), days=cards.CARD_VALID_DAYS)


def _card_page(enrolment: Enrolment, message: str = "", error: str = "", status: int = 200) -> tuple[str, int]:
    assert enrolment.learner is not None
    now = utcnow()
    return render_template("enrolment/login_card.html", enrolment=enrolment, learner=enrolment.learner,
                           state=cards.access_state(db.session, enrolment.learner, now),
                           card=cards.pending_card(db.session, enrolment.learner_id or 0, now), message=message,
                           error=error), status


@bp.route("/apprenants/<int:enrolment_id>/carte", methods=["GET", "POST"])
@role_required(Role.ANIMATOR)
def login_card(enrolment_id: int) -> Response | tuple[str, int]:
    """A new login card (PDF): a one-time code that replaces any earlier card and the old password. The page
    says so, and asks before replacing a card or a password; the form names the way in it replaces, so that a
    second click or a reload never revokes the card just printed."""
    enrolment = _my_enrolment(enrolment_id)
    learner = enrolment.learner
    if learner is None or not can_print_login_card(current_user, enrolment):
        abort(404)
    if request.method == "GET":
        return _card_page(enrolment)
    expected = request.form.get("replaces", "")
    if expected != "none" and request.form.get("confirm") != "y":
        return _card_page(enrolment, error=str(_l("Cochez la case pour confirmer : l'accès actuel de la personne ne "
                                                   "marchera plus.")), status=422)
    try:
        _card, code = cards.new_card(db.session, learner, current_user, expected_state=expected)
    except cards.AccessChanged:
        return _card_page(enrolment, message=str(CARD_CHANGED), status=409)
    audit.record(db.session, "auth.login_card", actor=current_user, organisation=enrolment.epm,
                 target_type="user", target_id=learner.id, subject_user_id=learner.id,
                 details={"replaced": expected.split("-")[0]}, ip=request.remote_addr or "")
    return pdf_response(_card_pdf(enrolment.epm, [(learner, code)]), f"carte-{learner.username}.pdf")


@bp.route("/apprenants/<int:enrolment_id>/entretien", methods=["GET", "POST"])
@role_required(Role.ANIMATOR)
def interview(enrolment_id: int) -> Response | str:
    enrolment = _my_enrolment(enrolment_id)
    scheme = current_scheme(db.session)
    offered = services.offered_modules(db.session, enrolment.epm_id)
    competences = services.b2i_competences(db.session)
    existing = enrolment.interview
    form = InterviewForm(obj=existing if request.method == "GET" else None)
    form.modules.choices = [(m.id, f"{m.number}. {m.title}") for m in offered]
    if request.method == "GET":
        form.modules.data = [p.module_id for p in enrolment.path]
        if existing is None:
            form.held_on.data = local_today()
    stored = services.initial_levels(db.session, enrolment.learner_id) if enrolment.learner_id else {}
    chosen = _levels_from(request.form, competences) if request.method == "POST" else {
        cid: (_level(animator or ""), _level(learner or "")) for cid, (animator, learner) in stored.items()}
    refusal = None
    if form.validate_on_submit():
        try:
            services.record_interview(db.session, scheme, enrolment, current_user, form.held_on.data,
                                      form.projects.data or "", form.modules.data or [], chosen,
                                      notes=form.notes.data or "")
        except TicketRefused as refused:
            refusal = str(refused)
        else:
            flash(_("L'entretien de positionnement est enregistré."), "success")
            return redirect(url_for("enrolment.learner", enrolment_id=enrolment.id))
    return render_template("enrolment/interview.html", form=form, enrolment=enrolment, competences=competences,
                           chosen=chosen, levels=LEVEL_LABELS, refusal=refusal, wanted=scheme.modules_to_choose)


def _levels_from(form: Mapping[str, str], competences: list[Competence]) -> services.InitialLevels:
    """The levels chosen in the interview's grid: ``level-animator-<id>`` and ``level-self-<id>``."""
    found: dict[int, tuple[Level | None, Level | None]] = {}
    for competence in competences:
        animator, learner = (_level(form.get(f"level-{voice}-{competence.id}", "")) for voice in ("animator", "self"))
        if animator or learner:
            found[competence.id] = (animator, learner)
    return found


def _level(raw: str) -> Level | None:
    return Level(raw) if raw in {level.value for level in Level} else None


# --- Workshops --------------------------------------------------------------------------------------


@bp.route("/ateliers")
@role_required(Role.ANIMATOR)
def workshops() -> str:
    now = local_now()
    return render_template("enrolment/workshops.html", epms=[
        (epm, services.sessions_of(db.session, epm.id, now - dt.timedelta(days=28))) for epm in _my_epms()], now=now)


@bp.route("/ateliers/nouveau", methods=["GET", "POST"])
@role_required(Role.ANIMATOR)
def plan() -> Response | str:
    scheme = current_scheme(db.session)
    form = PlanForm()
    _with_epm_choice(form)
    epm = _chosen_epm(form) if form.epm.choices else None
    offered = services.offered_modules(db.session, epm.id) if epm else []
    form.module.choices = [(m.id, f"{m.number}. {m.title}") for m in offered]
    if request.method == "GET":
        form.capacity.data = scheme.group_size
    refusal = None
    if form.validate_on_submit() and epm is not None:
        starts = dt.datetime.combine(form.day.data, form.start.data, tzinfo=LOCAL_TZ)
        try:
            workshop = services.plan_session(db.session, scheme, epm, current_user, form.module.data, starts,
                                             form.capacity.data)
        except TicketRefused as refused:
            refusal = str(refused)
        else:
            flash(_("L'atelier est prévu. Inscrivez-y des apprenants."), "success")
            return redirect(url_for("enrolment.workshop", session_id=workshop.id))
    return render_template("enrolment/plan.html", form=form, refusal=refusal,
                           biggest=services.max_capacity(scheme, epm) if epm else scheme.group_size)


@bp.route("/ateliers/<int:session_id>")
@role_required(Role.ANIMATOR)
def workshop(session_id: int) -> str:
    return _workshop_page(_my_session(session_id))


def _workshop_page(workshop: WorkshopSession, submitted: dict[int, AttendanceStatus] | None = None) -> str:
    book_form = BookForm()
    book_form.enrolment.choices = [(e.id, f"{e.ticket.last_name} {e.ticket.first_name}")
                                   for e in services.bookable_enrolments(db.session, workshop)]
    return render_template("enrolment/workshop.html", workshop=workshop, book_form=book_form,
                           people=services.participants(db.session, workshop.id), statuses=ATTENDANCE_LABELS,
                           started=local_now() >= workshop.starts_at, submitted=submitted or {})


@bp.route("/ateliers/<int:session_id>/reserver", methods=["POST"])
@role_required(Role.ANIMATOR)
def book(session_id: int) -> Response:
    workshop = _my_session(session_id)
    enrolment = db.session.get(Enrolment, request.form.get("enrolment", 0, type=int))
    if enrolment is None or not can_manage_epm(current_user, enrolment.epm_id):
        flash(_("Choisissez une personne."), "error")
        return redirect(url_for("enrolment.workshop", session_id=workshop.id))
    try:
        services.book(db.session, workshop, enrolment)
    except TicketRefused as refused:
        flash(str(refused), "error")
    else:
        flash(_("La personne est inscrite à l'atelier."), "success")
    return redirect(url_for("enrolment.workshop", session_id=workshop.id))


@bp.route("/ateliers/<int:session_id>/retirer", methods=["POST"])
@role_required(Role.ANIMATOR)
def unbook(session_id: int) -> Response:
    workshop = _my_session(session_id)
    try:
        services.unbook(db.session, workshop, request.form.get("enrolment", 0, type=int))
    except TicketRefused as refused:
        flash(str(refused), "error")
    else:
        flash(_("La personne n'est plus inscrite à cet atelier."), "success")
    return redirect(url_for("enrolment.workshop", session_id=workshop.id))


@bp.route("/ateliers/<int:session_id>/presences", methods=["POST"])
@role_required(Role.ANIMATOR)
def attendance(session_id: int) -> Response | tuple[str, int]:
    workshop = _my_session(session_id)
    people = services.participants(db.session, workshop.id)
    marks = {}
    for person in people:
        raw = request.form.get(f"status-{person.enrolment.id}", "")
        if raw in {s.value for s in ATTENDANCE_LABELS}:
            marks[person.enrolment.id] = AttendanceStatus(raw)
    try:
        services.record_attendance(db.session, workshop, marks, current_user, local_now())
    except TicketRefused as refused:
        db.session.rollback()
        flash(str(refused), "error")
        return _workshop_page(_my_session(session_id), submitted=marks), 422
    flash(_("Les présences sont enregistrées."), "success")
    return redirect(url_for("enrolment.workshop", session_id=workshop.id))


@bp.route("/ateliers/<int:session_id>/emargement.pdf")
@role_required(Role.ANIMATOR)
def attendance_sheet(session_id: int) -> Response:
    workshop = _my_session(session_id)
    data = render_pdf("enrolment/attendance_sheet_pdf.html", workshop=workshop,
                      people=services.participants(db.session, workshop.id), statuses=ATTENDANCE_LABELS)
    return pdf_response(data, f"emargement-{workshop.starts_at.astimezone(LOCAL_TZ):%Y-%m-%d-%H%M}.pdf")


def _card_holders(workshop: WorkshopSession) -> list[services.Participant]:
    """The workshop's participants whose login card this animator may print (``can_print_login_card``)."""
    return [p for p in services.participants(db.session, workshop.id)
            if p.enrolment.learner is not None and can_print_login_card(current_user, p.enrolment)]


def _group_cards_page(workshop: WorkshopSession, message: str = "", status: int = 200) -> tuple[str, int]:
    people = _card_holders(workshop)
    learners = [p.enrolment.learner for p in people if p.enrolment.learner is not None]
    states = cards.access_states(db.session, learners)
    return render_template("enrolment/group_cards.html", workshop=workshop, people=people, states=states,
                           message=message), status


@bp.route("/ateliers/<int:session_id>/cartes", methods=["GET", "POST"])
@role_required(Role.ANIMATOR)
def group_cards(session_id: int) -> Response | tuple[str, int]:
    """The login cards of a workshop's group in one PDF. Those who have no way in yet are ticked; a card waiting
    for its first use or a password chosen is replaced only when ticked, the page saying that it stops working."""
    workshop = _my_session(session_id)
    if request.method == "GET":
        return _group_cards_page(workshop)
    people = {p.enrolment.learner.id: p.enrolment.learner for p in _card_holders(workshop)
              if p.enrolment.learner is not None}
    chosen = [people[i] for i in dict.fromkeys(request.form.getlist("learner", type=int)) if i in people]
    if not chosen:
        return _group_cards_page(workshop, message=str(_l("Cochez au moins une personne.")), status=422)
    wanted = [(learner, request.form.get(f"state-{learner.id}", "")) for learner in chosen]
    try:
        printed = cards.new_cards(db.session, wanted, current_user)
    except cards.AccessChanged:
        return _group_cards_page(workshop, message=str(CARD_CHANGED), status=409)
    for learner, expected in wanted:
        audit.record(db.session, "auth.login_card", actor=current_user, organisation=workshop.epm,
                     target_type="user", target_id=learner.id, subject_user_id=learner.id,
                     details={"replaced": expected.split("-")[0], "workshop": workshop.id},
                     ip=request.remote_addr or "")
    pairs = [(learner, code) for learner, (_card, code) in zip(chosen, printed, strict=True)]
    return pdf_response(_card_pdf(workshop.epm, pairs),
                        f"cartes-{workshop.starts_at.astimezone(LOCAL_TZ):%Y-%m-%d-%H%M}.pdf")


@bp.route("/presences")
@role_required(Role.ANIMATOR)
def dashboard() -> str:
    today = local_today()
    return render_template("enrolment/dashboard.html", boards=[
        (epm, *services.attendance_dashboard(db.session, epm.id, today)) for epm in _my_epms()])
