"""Competences: the animator's session grid, the learner's page, the positioning sheet as a PDF."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response

from competences import services as competences
from competences.loader import B2I_CODE
from competences.models import Level, Voice
from portfolio import navigation, permissions
from portfolio.assessment import services
from portfolio.assessment.forms import SELF_CHOICES, self_assessment_form
from portfolio.auth.models import Role, User
from portfolio.db import utcnow
from portfolio.extensions import db
from portfolio.pdf import html_to_pdf, pdf_response
from portfolio.permissions import role_required
from portfolio.sharing import services as sharing
from portfolio.timeutil import local_now

bp = Blueprint("assessment", __name__)

LEVEL_LABELS = {
    "": "—",
    Level.NOT_YET.value: _l("Pas encore"),
    Level.IN_PROGRESS.value: _l("En cours"),
    Level.ACQUIRED.value: _l("Acquis"),
}
VOICE_LABELS = {
    Voice.SELF.value: _l("Auto-positionnement"),
    Voice.ANIMATOR.value: _l("Animateur·trice"),
    Voice.ASSESSOR.value: _l("Évaluateur·trice"),
}
MAX_CELLS = 1000  # per request: far above 6 learners x 18 competences


@bp.record_once
def _register(state: Any) -> None:
    navigation.register(
        state.app,
        navigation.NavItem("assessment.mine", _l("Mes compétences"), frozenset({Role.BENEFICIARY}), order=25),
        navigation.NavItem("assessment.workshops", _l("Positionnement"), frozenset({Role.ANIMATOR}), order=30),
    )
    # Globals rather than context: the macros of templates/assessment/ use them when imported elsewhere.
    state.app.jinja_env.globals.update(LEVEL_LABELS=LEVEL_LABELS, VOICE_LABELS=VOICE_LABELS,
                                       SELF_LABELS={c.value: c.label for c in SELF_CHOICES if c.value},
                                       plain_words=plain_words)


def plain_words(framework_code: str = B2I_CODE) -> competences.Words:
    """For templates: the everyday words of a framework (``{% set words = plain_words() %}``), read once per
    request."""
    kept = g.setdefault("plain_words", {})
    if framework_code not in kept:
        kept[framework_code] = competences.plain_words(db.session, framework_code)
    return kept[framework_code]  # type: ignore[no-any-return]


# --- The animator's session grid --------------------------------------------------------------------


def _workshop_or_404(workshop_id: int) -> Any:
    workshop = services.load_workshop(db.session, workshop_id)
    if workshop is None or not permissions.can_assess_session(current_user, workshop):
        abort(404)
    return workshop


@bp.route("/epm/positionnement")
@role_required(Role.ANIMATOR)
def workshops() -> str:
    epms = current_user.organisations_for(Role.ANIMATOR)
    recent = services.recent_workshops(db.session, [e.id for e in epms], local_now())
    return render_template("assessment/workshops.html", recent=recent)


def _grid_columns() -> tuple[list[int], bool]:
    extra = list(dict.fromkeys(request.values.getlist("c", type=int)))  # the URL's and the form's, once
    return extra, request.values.get("toutes") == "1"


def _form_levels() -> dict[services.Cell, str]:
    """The grid's selects as sent by a browser without JavaScript: ``level-<learner>-<competence>``."""
    levels = {}
    for name, value in request.form.items():
        parts = name.split("-")
        if len(parts) == 3 and parts[0] == "level" and parts[1].isdigit() and parts[2].isdigit() and value:
            levels[(int(parts[1]), int(parts[2]))] = value
    return levels


@bp.route("/epm/ateliers/<int:session_id>/positionnement", methods=["GET", "POST"])
@role_required(Role.ANIMATOR)
def grid(session_id: int) -> Response | str | tuple[str, int]:
    workshop = _workshop_or_404(session_id)
    extra, everything = _grid_columns()
    submitted: dict[services.Cell, str] = {}
    error = None
    if request.method == "POST":
        submitted = _form_levels()
        column = request.form.get("all_acquired", type=int)
        if column is not None:  # "tous les présents : acquis" replaces what the column's selects said
            submitted = {cell: level for cell, level in submitted.items() if cell[1] != column}
        saved, refused = services.record_cells(db.session, workshop, submitted, current_user)
        if column is not None and not refused:
            more, refused = services.all_present_acquired(db.session, workshop, column, current_user)
            saved += more
        if not refused:
            recorded = sum(1 for s in saved if s.recorded)
            flash(ngettext("%(num)d niveau enregistré.", "%(num)d niveaux enregistrés.", recorded), "success")
            return redirect(url_for(".grid", session_id=workshop.id, c=extra or None,
                                    toutes="1" if everything else None))
        db.session.rollback()  # nothing half-saved: the animator sees the sheet again with what they chose
        error = refused[0].message
        workshop = _workshop_or_404(session_id)
    sheet = services.session_grid(db.session, workshop, extra, everything)
    if sheet is None:
        abort(404)
    page = render_template("assessment/grid.html", grid=sheet, workshop=workshop, submitted=submitted,
                           error=error, everything=everything,
                           level_names={k: str(v) for k, v in LEVEL_LABELS.items()})
    return (page, 400) if error else page


@bp.route("/epm/ateliers/<int:session_id>/positionnement/niveaux", methods=["POST"])
@role_required(Role.ANIMATOR)
def save_cells(session_id: int) -> dict[str, Any]:
    """JSON: ``{"cells": [{"learner": id, "competence": id, "level": "acquired"}, ...]}`` (see docs/competences.md)."""
    workshop = _workshop_or_404(session_id)
    payload = request.get_json(silent=True)
    cells = payload.get("cells") if isinstance(payload, dict) else None
    if not isinstance(cells, list) or not 0 < len(cells) <= MAX_CELLS:
        abort(400, description=_l("La demande doit contenir une liste de cases (« cells »)."))
    levels: dict[services.Cell, str] = {}
    for cell in cells:
        try:
            learner, competence, level = int(cell["learner"]), int(cell["competence"]), str(cell["level"])
        except (KeyError, TypeError, ValueError):
            abort(400, description=_l("Chaque case doit avoir « learner », « competence » et « level »."))
        levels[(learner, competence)] = level
    saved, refused = services.record_cells(db.session, workshop, levels, current_user)
    return {
        "saved": [
            {"learner": s.learner_id, "competence": s.competence_id, "level": s.assessment.level,
             "label": str(LEVEL_LABELS[s.assessment.level]), "recorded": s.recorded,
             "here": s.assessment.session_id == workshop.id}
            for s in saved
        ],
        "refused": [{"learner": r.learner_id, "competence": r.competence_id, "message": r.message} for r in refused],
    }


# --- A learner's competences: the learner's page and the animator's --------------------------------


@bp.route("/moi/competences")
@role_required(Role.BENEFICIARY)
def mine() -> str:
    profile = competences.learner_profile(db.session, current_user.id)
    return render_template("assessment/mine.html", profile=profile)


@bp.route("/moi/competences/pix")
@role_required(Role.BENEFICIARY)
def mine_pix() -> str:
    profile = competences.learner_profile(db.session, current_user.id)
    if profile is None or profile.bridge is None:
        abort(404)
    return render_template("assessment/pix.html", profile=profile, learner=current_user)


@bp.route("/moi/competences/je-me-positionne", methods=["GET", "POST"])
@role_required(Role.BENEFICIARY)
def declare() -> Response | str:
    profile = competences.learner_profile(db.session, current_user.id)
    if profile is None:
        abort(404)
    declared = {cid: s.declared.level for cid, s in profile.states.items() if s.declared is not None}
    form = self_assessment_form([s.competence for s in profile.states.values()], declared, profile.words)
    if form.validate_on_submit():
        changed = 0
        for competence_id, field in form.competence_fields():
            if field.data and field.data != declared.get(competence_id):
                competences.record_assessment(db.session, current_user, competence_id, Voice.SELF, field.data,
                                              current_user)
                changed += 1
        flash(ngettext("C'est noté : %(num)d réponse enregistrée.", "C'est noté : %(num)d réponses enregistrées.",
                       changed) if changed else _("Rien n'a changé."), "success")
        return redirect(url_for(".mine"))
    return render_template("assessment/declare.html", form=form, profile=profile)


def _learner_or_404(learner_id: int) -> tuple[User, list[int]]:
    """The learner, and the EPMs where they are (or were) enrolled."""
    learner = db.session.get(User, learner_id)
    epm_ids = services.enrolling_epm_ids(db.session, learner_id) if learner is not None else []
    if learner is None or not permissions.can_read_competences(current_user, learner_id, epm_ids):
        abort(404)
    mine_epms = [e for e in current_user.organisations_for(Role.ANIMATOR) if e.id in epm_ids]
    sharing.record_read(db.session, current_user, learner.id, "competences.read", utcnow(),
                        organisation=mine_epms[0] if mine_epms else None,  # else the consent's organisation
                        details={"page": request.endpoint}, ip=request.remote_addr or "")
    return learner, epm_ids


@bp.route("/epm/apprenants/<int:learner_id>/competences")
@role_required(Role.ANIMATOR)
def learner(learner_id: int) -> str:
    person, epm_ids = _learner_or_404(learner_id)
    profile = competences.learner_profile(db.session, person.id)
    return render_template("assessment/learner.html", learner=person, profile=profile,
                           history=competences.history(db.session, person.id),
                           paper_consent=any(permissions.can_manage_epm(current_user, e) for e in epm_ids))


def _sheet_pdf(person: User) -> Response:
    sheet = services.positioning_sheet(db.session, person)
    if sheet is None:
        abort(404)
    html = render_template("assessment/sheet.html", sheet=sheet, printed_at=local_now())
    filename = f"feuille-de-positionnement-{person.username}.pdf"
    return pdf_response(html_to_pdf(html, "css/print-sheet.css"), filename)


@bp.route("/moi/competences/feuille-de-positionnement.pdf")
@role_required(Role.BENEFICIARY)
def my_sheet() -> Response:
    return _sheet_pdf(current_user)


@bp.route("/epm/apprenants/<int:learner_id>/feuille-de-positionnement.pdf")
@role_required(Role.ANIMATOR)
def learner_sheet(learner_id: int) -> Response:
    return _sheet_pdf(_learner_or_404(learner_id)[0])
