"""Consents and partner access, evidence files sent for certification, the assessor's workspace, the
readiness export and the public verification of an attestation."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from competences import services as competences
from competences.models import Level
from portfolio import navigation, permissions
from portfolio.auth.models import Role, User
from portfolio.auth.sessions import recent_auth_required
from portfolio.csvfile import csv_response
from portfolio.db import utcnow
from portfolio.extensions import db, limiter
from portfolio.orgs.models import Organisation
from portfolio.pdf import html_to_pdf, pdf_response, qr_code_data_uri
from portfolio.permissions import public, role_required
from portfolio.sharing import readiness, services, submissions
from portfolio.sharing.forms import (
    ActionForm,
    ConsentForm,
    DecisionForm,
    PaperConsentForm,
    PaperWithdrawalForm,
    SendForm,
    organisation_choices,
)
from portfolio.sharing.models import ConsentMethod, ConsentScope, Submission
from portfolio.timeutil import local_now, local_today

bp = Blueprint("sharing", __name__)

PARTNERS = (Role.ANIMATOR, Role.ASSESSOR)


@bp.record_once
def _register(state: Any) -> None:
    navigation.register(
        state.app,
        navigation.NavItem("sharing.mine", _l("Qui peut voir mon portfolio"), frozenset({Role.BENEFICIARY}),
                           order=40, on_home_for=frozenset({Role.BENEFICIARY})),
        navigation.NavItem("sharing.reads", _l("Qui a consulté mon portfolio"), frozenset({Role.BENEFICIARY}),
                           order=41, on_home_for=frozenset({Role.BENEFICIARY})),
        navigation.NavItem("sharing.certification", _l("Ma certification"), frozenset({Role.BENEFICIARY}), order=45),
        navigation.NavItem("sharing.partners", _l("Portfolios partagés"), frozenset(PARTNERS), order=50),
        navigation.NavItem("sharing.export", _l("Export"), frozenset({Role.ASSESSOR}), order=20),
    )
    state.app.jinja_env.globals.update(SCOPE_LABELS=services.SCOPE_LABELS, READ_ACTIONS=services.READ_ACTIONS,
                                       DECISION_LABELS=submissions.DECISION_LABELS,
                                       SUBMISSION_STATUS_LABELS=submissions.STATUS_LABELS,
                                       CONSENT_TEXT_VERSION=services.TEXT_VERSION,
                                       count_texts=submissions.count_texts, count_photos=submissions.count_photos)
    state.app.jinja_env.filters["fromiso"] = _from_iso


def _from_iso(value: str | None) -> Any:
    """An ISO date or datetime of a snapshot, for the ``dateformat`` filters."""
    import datetime as dt

    if not value:
        return None
    return dt.date.fromisoformat(value) if len(value) == 10 else dt.datetime.fromisoformat(value)


def _ip() -> str:
    return request.remote_addr or ""


# --- The learner: who may see my portfolio ----------------------------------------------------------


@bp.get("/moi/partage")
@role_required(Role.BENEFICIARY)
def mine() -> str:
    now = utcnow()
    consents = services.consents_of(db.session, current_user.id)
    holding = [c for c in consents if services.is_holding(c, now)]
    ended = [c for c in consents if c not in holding]
    return render_template("sharing/mine.html", holding=holding, ended=ended, form=ActionForm(),
                           held=submissions.held_by(db.session, current_user.id), last_day=services.last_day)


def _consent_step(form: ConsentForm, owner: User) -> tuple[str, Any]:
    """Step 1 (choices) or step 2 (the text to agree to) of a consent; returns (step, draft or None)."""
    draft = None
    if request.method == "POST" and form.validate():
        if form.organisation_id.data == 0:
            form.organisation_id.errors = [_("Choisissez un organisme.")]
        else:
            try:
                draft = services.draft_consent(db.session, owner, form.organisation_id.data, form.scope.data or "",
                                               form.months.data or 0, utcnow())
            except services.ConsentError as exc:
                form.organisation_id.errors = [str(exc)]
    step = "text" if draft is not None and request.form.get("action") != "change" else "choose"
    return step, draft


@bp.route("/moi/partage/nouveau", methods=["GET", "POST"])
@role_required(Role.BENEFICIARY)
@recent_auth_required
def grant() -> Response | str | tuple[str, int]:
    form = ConsentForm()
    form.fill_organisations(services.grantee_organisations(db.session))
    step, draft = _consent_step(form, current_user)
    if draft is not None and request.form.get("action") == "accept":
        try:
            services.grant_consent(db.session, draft, shown_hash=form.text_hash.data or "", by=current_user,
                                   ip=_ip())
        except services.ConsentError as exc:
            flash(str(exc), "error")
        else:
            flash(_("C'est fait : %(org)s peut lire votre portfolio jusqu'au %(date)s.", org=draft.organisation.name,
                    date=format_date(services.last_day(draft.ends_at), "long")), "success")
            return redirect(url_for(".mine"))
    page = render_template("sharing/grant.html", form=form, step=step, draft=draft,
                           last_day=services.last_day, hints=services.SCOPE_HINTS)
    return (page, 400) if form.errors else page


@bp.post("/moi/partage/<int:consent_id>/retirer")
@role_required(Role.BENEFICIARY)
def revoke(consent_id: int) -> Response:
    consent = services.owned_consent(db.session, current_user.id, consent_id)
    if consent is None or not ActionForm().validate_on_submit():
        abort(404)
    if services.revoke_consent(db.session, consent, current_user, utcnow(), ip=_ip()):
        flash(_("C'est fait : %(org)s ne peut plus lire votre portfolio.", org=consent.organisation.name), "success")
        kept = [h for h in submissions.held_by(db.session, current_user.id)
                if h.submission.organisation_id == consent.organisation_id]
        if kept:  # the file she sent is not her portfolio: the body still holds it; the page says how to withdraw it
            flash(_("Mais %(org)s garde le dossier que vous lui avez envoyé : voyez ci-dessous ce qu'il contient et "
                    "comment le retirer.", org=consent.organisation.name), "info")
    return redirect(url_for(".mine"))


@bp.get("/moi/partage/consultations")
@role_required(Role.BENEFICIARY)
def reads() -> str:
    """Qui a consulté mon portfolio, qui s'est connecté : the reads by others, and the latest sign-ins and new
    ways into my account (all of them on ``account.history``)."""
    from portfolio.account import services as account

    page = services.reads_of(db.session, current_user.id, before=request.args.get("avant", type=int))
    return render_template("sharing/reads.html", page=page, today=local_today(),
                           access=account.access_history(db.session, current_user, limit=10),
                           labels=account.ACCESS_LABELS, ways_in=account.WAYS_IN)


# --- The animator records a consent given on paper ---------------------------------------------------


def _paper_learner_or_404(learner_id: int) -> User:
    """A learner for whom the current animator may record what was signed on paper."""
    learner = db.session.get(User, learner_id)
    if learner is None or not permissions.can_record_paper_consent(current_user, learner_id):
        abort(404)
    return learner


@bp.route("/epm/apprenants/<int:learner_id>/consentement-papier", methods=["GET", "POST"])
@role_required(Role.ANIMATOR)
def paper_consent(learner_id: int) -> Response | str | tuple[str, int]:
    learner = _paper_learner_or_404(learner_id)
    form = PaperConsentForm()
    form.fill_organisations(services.grantee_organisations(db.session))
    step, draft = _consent_step(form, learner)
    if draft is not None and request.form.get("action") == "accept":
        if not form.signed.data:
            form.signed.errors = [_("Cochez la case quand la personne a signé le texte.")]
        else:
            try:
                services.grant_consent(db.session, draft, shown_hash=form.text_hash.data or "", by=current_user,
                                       method=ConsentMethod.PAPER, ip=_ip())
            except services.ConsentError as exc:
                flash(str(exc), "error")
            else:
                flash(_("L'accord sur papier de %(name)s est enregistré.", name=learner.display_name), "success")
                return redirect(url_for("assessment.learner", learner_id=learner.id))
    page = render_template("sharing/paper.html", form=form, step=step, draft=draft, learner=learner,
                           last_day=services.last_day, hints=services.SCOPE_HINTS)
    return (page, 400) if form.errors else page


@bp.route("/epm/apprenants/<int:learner_id>/retrait-papier", methods=["GET", "POST"])
@role_required(Role.ANIMATOR)
def paper_withdrawal(learner_id: int) -> Response | str | tuple[str, int]:
    """The person withdrew a consent on paper: the animator records it; it holds from the next request."""
    learner = _paper_learner_or_404(learner_id)
    now = utcnow()
    holding = {c.id: c for c in services.holding_consents(db.session, learner.id, now)}
    form = PaperWithdrawalForm()
    form.consent_id.choices = [  # type: ignore[assignment]
        SelectChoice(c.id, _("%(org)s — peut lire : %(what)s — jusqu'au %(date)s", org=c.organisation.name,
                               what=services.SCOPE_LABELS[c.scope],
                               date=format_date(services.last_day(c.ends_at), "long")))
        for c in holding.values()]
    if form.validate_on_submit():
        consent = holding.get(form.consent_id.data)
        if consent is None:  # withdrawn or ended since the page was shown
            form.consent_id.errors = [_("Cet accord ne tient plus : il est déjà retiré ou terminé.")]
        else:
            services.revoke_consent(db.session, consent, current_user, now, ip=_ip(), method=ConsentMethod.PAPER)
            flash(_("Le retrait sur papier de %(name)s est enregistré : %(org)s ne peut plus lire son portfolio.",
                    name=learner.display_name, org=consent.organisation.name), "success")
            return redirect(url_for("assessment.learner", learner_id=learner.id))
    page = render_template("sharing/paper_withdrawal.html", form=form, learner=learner, holding=holding)
    return (page, 400) if form.errors else page


# --- Partner staff: the portfolios shared with my organisations -------------------------------------


@bp.get("/partenaires")
@role_required(*PARTNERS)
def partners() -> str:
    consents = services.people_who_consented(db.session, services.partner_organisation_ids(current_user), utcnow())
    return render_template("sharing/partners.html", consents=consents, last_day=services.last_day)


@bp.get("/partenaires/<int:owner_id>")
@role_required(*PARTNERS)
def partner_view(owner_id: int) -> str:
    now = utcnow()
    consent = services.consent_for(db.session, current_user, owner_id, ConsentScope.COMPETENCES, now)
    owner = db.session.get(User, owner_id) if consent is not None else None
    if consent is None or owner is None:
        abort(404)
    profile = competences.learner_profile(db.session, owner_id)
    attendance = (submissions.attendance_of(db.session, owner_id)
                  if services.covers(consent.scope, ConsentScope.FULL) else None)
    services.record_read(db.session, current_user, owner_id, "sharing.read", now, organisation=consent.organisation,
                         details={"scope": consent.scope}, ip=_ip())
    return render_template("sharing/partner_view.html", owner=owner, consent=consent, profile=profile,
                           attendance=attendance, last_day=services.last_day,
                           journal=services.covers(consent.scope, ConsentScope.JOURNAL))


# --- The learner sends an evidence file ---------------------------------------------------------------


@bp.get("/moi/certification")
@role_required(Role.BENEFICIARY)
def certification() -> str:
    form = SendForm()
    form.organisation_id.choices = organisation_choices(submissions.training_bodies(db.session))
    profile = competences.learner_profile(db.session, current_user.id)
    held = {h.submission.id: h for h in submissions.held_by(db.session, current_user.id)}
    return render_template("sharing/certification.html", form=form, profile=profile,
                           choices=submissions.evidence_choices(db.session, current_user.id),
                           files=submissions.submissions_of(db.session, current_user.id), held=held,
                           withdraw_form=ActionForm())


@bp.post("/moi/certification/envoyer")
@role_required(Role.BENEFICIARY)
@recent_auth_required
def send() -> Response:
    form = SendForm()
    form.organisation_id.choices = organisation_choices(submissions.training_bodies(db.session))
    if not form.validate_on_submit():
        flash(_("Choisissez un organisme de formation de la liste."), "error")
        return redirect(url_for(".certification"))
    ticked = [int(v) for v in request.form.getlist("entries") if v.isdigit()]  # the texts she chose for this file
    try:
        sent = submissions.send(db.session, current_user, form.organisation_id.data, utcnow(), ip=_ip(),
                                entries=ticked)
    except submissions.SubmissionError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".certification"))
    evidence = sent.snapshot["evidence"]
    flash(_("C'est envoyé à %(org)s, avec %(texts)s et %(photos)s. Vous verrez ici la décision.",
            org=sent.organisation.name, texts=submissions.count_texts(len(evidence)),
            photos=submissions.count_photos(sum(len(e["photos"]) for e in evidence))), "success")
    return redirect(url_for(".my_file", submission_id=sent.id))


def _my_file_or_404(submission_id: int) -> Submission:
    submission = submissions.load(db.session, submission_id)
    if submission is None or submission.owner_id != current_user.id:
        abort(404)
    return submission


@bp.get("/moi/certification/<int:submission_id>")
@role_required(Role.BENEFICIARY)
def my_file(submission_id: int) -> str:
    submission = _my_file_or_404(submission_id)
    held = next((h for h in submissions.held_by(db.session, current_user.id) if h.submission.id == submission.id),
                None)
    return render_template("sharing/my_file.html", submission=submission, snapshot=submission.snapshot, held=held,
                           withdraw_form=ActionForm())


@bp.post("/moi/certification/<int:submission_id>/retirer")
@role_required(Role.BENEFICIARY)
def withdraw(submission_id: int) -> Response:
    submission = _my_file_or_404(submission_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        submissions.withdraw(db.session, submission, current_user, utcnow(), ip=_ip())
    except submissions.SubmissionError as exc:
        flash(str(exc), "error")
    else:
        flash(_("Votre dossier est retiré : %(org)s ne le voit plus dans Ticket Net.",
                org=submission.organisation.name), "success")
        if any(h.submission.id == submission.id and h.copies for h in submissions.held_by(db.session,
                                                                                          current_user.id)):
            flash(_("%(org)s en avait téléchargé une copie : demandez-lui de l'effacer (voyez ci-dessous comment le "
                    "joindre).", org=submission.organisation.name), "info")
    return redirect(url_for(".certification"))


def _attestation_pdf(submission: Submission) -> Response:
    if submission.verification_code is None:
        abort(404)
    verify_url = f"{current_app.config['PUBLIC_URL']}{url_for('sharing.verify', code=submission.verification_code)}"
    html = render_template("sharing/attestation_pdf.html", submission=submission, snapshot=submission.snapshot,
                           verify_url=verify_url, qr=qr_code_data_uri(verify_url), printed_at=local_now())
    return pdf_response(html_to_pdf(html), f"attestation-{submission.verification_code}.pdf")


@bp.get("/moi/certification/<int:submission_id>/attestation.pdf")
@role_required(Role.BENEFICIARY)
def my_attestation(submission_id: int) -> Response:
    return _attestation_pdf(_my_file_or_404(submission_id))


# --- The assessor's workspace -------------------------------------------------------------------------


def _received_or_404(submission_id: int) -> Submission:
    submission = submissions.load(db.session, submission_id)
    if submission is None or not permissions.can_assess_submission(current_user, submission):
        abort(404)
    return submission


def _submission_page(submission: Submission, decision_form: DecisionForm,
                     typed: dict[int, tuple[str, str]] | None = None) -> str:
    record = readiness.candidates(db.session, submission.organisation_id, readiness.evidence_link, [submission])[0]
    return render_template("sharing/submission.html", submission=submission, snapshot=submission.snapshot,
                           record=record, assessed=submissions.current_assessor_judgements(db.session, submission),
                           decision_form=decision_form, judge_form=ActionForm(),
                           typed=typed or {}, levels=[lv.value for lv in (Level.ACQUIRED, Level.IN_PROGRESS,
                                                                           Level.NOT_YET)])


@bp.get("/evaluation/dossiers/<int:submission_id>")
@role_required(Role.ASSESSOR)
def submission(submission_id: int) -> str:
    found = _received_or_404(submission_id)
    services.record_read(db.session, current_user, found.owner_id, "submission.read", utcnow(),
                         organisation=found.organisation, target_type="submission", target_id=found.id, ip=_ip())
    return _submission_page(found, DecisionForm())


def _typed_judgements() -> dict[int, tuple[str, str]]:
    """``level-<competence id>`` and ``comment-<competence id>`` of the judgement form (levels left empty
    are not judged)."""
    typed = {}
    for name, value in request.form.items():
        prefix, _sep, number = name.partition("-")
        if prefix == "level" and number.isdigit() and value:
            typed[int(number)] = (value, request.form.get(f"comment-{number}", "")[:2000])
    return typed


@bp.get("/evaluation/dossiers/<int:submission_id>/photos/<int:photo_id>/<any(grande, miniature):size>")
@role_required(Role.ASSESSOR)
def submission_photo(submission_id: int, photo_id: int, size: str) -> Response:
    """A photo sent with the file (the file lists it), for the assessors of the receiving body; audited."""
    from portfolio.journal import storage
    from portfolio.journal.models import Photo

    found = _received_or_404(submission_id)
    sent = {p["id"] for e in found.snapshot.get("evidence", []) for p in e.get("photos", [])}
    photo = db.session.get(Photo, photo_id) if photo_id in sent else None
    if photo is None or photo.owner_id != found.owner_id:  # not in the file, or deleted since
        abort(404)
    try:
        data = storage.photo_storage().read(photo.storage_key if size == "grande" else photo.thumbnail_key)
    except FileNotFoundError:
        abort(404)
    services.record_read(db.session, current_user, found.owner_id, "submission.photo_read", utcnow(),
                         organisation=found.organisation, target_type="submission", target_id=found.id,
                         details={"photo": photo.id, "size": size}, ip=_ip())
    response = Response(data, mimetype=photo.content_type)
    response.headers["Cache-Control"] = "private, max-age=86400"
    response.headers["Content-Disposition"] = "inline"
    return response


@bp.post("/evaluation/dossiers/<int:submission_id>/jugements")
@role_required(Role.ASSESSOR)
def judge(submission_id: int) -> Response | tuple[str, int]:
    found = _received_or_404(submission_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    typed = _typed_judgements()
    try:
        changed = submissions.judge(db.session, found, current_user, typed, utcnow())
    except submissions.SubmissionError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _submission_page(_received_or_404(submission_id), DecisionForm(), typed=typed), 400
    flash(ngettext("%(num)d jugement enregistré.", "%(num)d jugements enregistrés.", changed) if changed
          else _("Rien n'a changé."), "success")
    return redirect(url_for(".submission", submission_id=found.id))


@bp.post("/evaluation/dossiers/<int:submission_id>/decision")
@role_required(Role.ASSESSOR)
def decide(submission_id: int) -> Response | tuple[str, int]:
    found = _received_or_404(submission_id)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            submissions.decide(db.session, found, current_user, form.decision.data or "", form.comment.data or "",
                               utcnow(), ip=_ip())
        except submissions.SubmissionError as exc:
            form.decision.errors = [str(exc)]
        else:
            flash(_("Décision enregistrée. Code de vérification : %(code)s", code=found.verification_code),
                  "success")
            return redirect(url_for(".submission", submission_id=found.id))
    return _submission_page(found, form), 400


@bp.get("/evaluation/dossiers/<int:submission_id>/preparation.pdf")
@role_required(Role.ASSESSOR)
def submission_pdf(submission_id: int) -> Response:
    found = _received_or_404(submission_id)
    record = readiness.candidates(db.session, found.organisation_id, readiness.evidence_link, [found])[0]
    services.record_read(db.session, current_user, found.owner_id, "submission.read", utcnow(),
                         organisation=found.organisation, target_type="submission", target_id=found.id,
                         details={"export": "pdf"}, ip=_ip())
    return pdf_response(readiness.candidate_pdf(record), readiness.pdf_filename(record))


@bp.get("/evaluation/export")
@role_required(Role.ASSESSOR)
def export() -> str:
    organisations = current_user.organisations_for(Role.ASSESSOR)
    counts = {o.id: readiness.count_candidates(db.session, o.id) for o in organisations}
    return render_template("sharing/export.html", organisations=organisations, counts=counts)


@bp.get("/evaluation/export/<int:organisation_id>/preparation.<any(csv, json):fmt>")
@role_required(Role.ASSESSOR)
def export_file(organisation_id: int, fmt: str) -> Response:
    if not permissions.is_staff_of(current_user, organisation_id, Role.ASSESSOR):
        abort(404)
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        abort(404)
    records = readiness.candidates(db.session, organisation_id, readiness.evidence_link)
    readiness.audit_export(db.session, records, organisation, current_user, fmt, "web", ip=_ip())
    stamp = local_now().strftime("%Y%m%d")
    if fmt == "csv":
        return csv_response(readiness.to_csv(records),  # type: ignore[no-any-return]
                            f"preparation-{organisation.code}-{stamp}.csv")
    import json

    body = json.dumps(readiness.to_json(records, organisation, utcnow()), ensure_ascii=False, indent=2)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="preparation-{organisation.code}-{stamp}.{fmt}"'
    return response


# --- Public: is this attestation genuine? --------------------------------------------------------------


def _verify_limit() -> str:
    return str(current_app.config["VERIFY_LIMIT"])


@bp.get("/verifier")
@public
@limiter.limit(_verify_limit)
def verify_form() -> Response | str:
    typed = request.args.get("code", "").strip()
    if typed:
        code = submissions.normalise_code(typed)
        if code is not None:
            return redirect(url_for(".verify", code=code))
        return render_template("sharing/verify.html", typed=typed, found=None, asked=True), 404  # type: ignore[return-value]
    return render_template("sharing/verify.html", typed="", found=None, asked=False)


@bp.get("/verifier/<code>")
@public
@limiter.limit(_verify_limit)
def verify(code: str) -> str | tuple[str, int]:
    found = submissions.by_code(db.session, code)
    page = render_template("sharing/verify.html", typed=code, found=found, asked=True,
                           snapshot=found.snapshot if found else None)
    return page if found is not None else (page, 404)
