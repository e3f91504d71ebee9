"""Open Badges credentials: the learner's badges and their downloads, the issuers' DID documents and status
lists, the public pages of each achievement, the check of a credential or of a code at /verifier, and the
training body withdrawing a positive decision."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from competences import services as competences
from competences.loader import latest_framework_id
from portfolio import navigation, permissions
from portfolio.auth.models import Role
from portfolio.credentials import services, verify
from portfolio.credentials.models import Credential, CredentialStatus
from portfolio.db import utcnow
from portfolio.extensions import db, limiter
from portfolio.orgs.models import Organisation
from portfolio.permissions import public, role_required
from portfolio.sharing import submissions
from portfolio.sharing.forms import ActionForm

bp = Blueprint("credentials", __name__)

MAX_PASTE = 200_000  # characters of a pasted credential
MAX_FILE = 2 * 1024 * 1024  # bytes of an uploaded credential or baked image


@bp.record_once
def _register(state: Any) -> None:
    navigation.register(state.app, navigation.NavItem("credentials.mine", _l("Mes badges"),
                                                      frozenset({Role.BENEFICIARY}), order=47,
                                                      on_home_for=frozenset({Role.BENEFICIARY})))
    state.app.jinja_env.globals.update(CREDENTIAL_KINDS=services.KIND_LABELS,
                                       CREDENTIAL_STATUSES=services.STATUS_LABELS,
                                       REVOCATION_REASONS=services.REASON_LABELS,
                                       decision_withdrawn_at=_decision_withdrawn_at)


def _decision_withdrawn_at(submission_id: int) -> Any:
    return services.decision_withdrawn_at(db.session, submission_id)


def _ip() -> str:
    return request.remote_addr or ""


# --- The learner's badges --------------------------------------------------------------------------


@bp.get("/moi/badges")
@role_required(Role.BENEFICIARY)
def mine() -> str:
    holder = services.holder_row(db.session, current_user.id)
    return render_template("credentials/mine.html", credentials=services.credentials_of(db.session, current_user.id),
                           offers=services.domain_offers(db.session, current_user.id),
                           include_email=bool(holder and holder.include_email))


@bp.post("/moi/badges/adresse")
@role_required(Role.BENEFICIARY)
def email_choice() -> Response:
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.set_email_choice(db.session, current_user, request.form.get("include") == "1", utcnow())
    except services.CredentialError as exc:
        flash(str(exc), "error")
    else:
        flash(_("C'est noté. Cela vaut pour les prochains badges."), "success")
    return redirect(url_for(".mine"))


@bp.route("/moi/badges/domaine/<domain_code>", methods=["GET", "POST"])
@role_required(Role.BENEFICIARY)
def domain(domain_code: str) -> Response | str | tuple[str, int]:
    code = domain_code
    framework = competences.certification_framework(db.session)
    known = next((d for d in framework.domains if d.code == code), None) if framework is not None else None
    if known is None:
        abort(404)
    offer = next((o for o in services.domain_offers(db.session, current_user.id) if o.domain.code == code), None)
    if offer is None or offer.organisation is None:
        return render_template("credentials/domain.html", domain=known, offer=None, entries=[], chosen=[],
                               error=None)
    entries = services.evidence_choices(db.session, current_user.id)
    chosen: list[int] = []
    error = None
    if request.method == "POST":
        if not ActionForm().validate_on_submit():
            abort(400)
        chosen = [int(v) for v in request.form.getlist("entry") if v.isdigit()]
        try:
            credential = services.issue_domain(db.session, current_user, code, chosen, utcnow())
        except services.CredentialError as exc:
            error = str(exc)
        else:
            flash(_("Votre badge est prêt."), "success")
            return redirect(url_for(".detail", credential_id=credential.id))
    page = render_template("credentials/domain.html", domain=known, offer=offer, entries=entries, chosen=chosen,
                           error=error)
    return (page, 400) if error else page


def _mine_or_404(credential_id: int) -> Credential:
    credential = services.owned(db.session, current_user.id, credential_id)
    if credential is None:
        abort(404)
    return credential


@bp.get("/moi/badges/<int:credential_id>")
@role_required(Role.BENEFICIARY)
def detail(credential_id: int) -> str:
    credential = _mine_or_404(credential_id)
    return render_template("credentials/detail.html", credential=credential,
                           verdict=services.check(db.session, json.dumps(credential.document), utcnow())
                           if credential.document else None)


def _download(body: bytes | str, mimetype: str, name: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get("/moi/badges/<int:credential_id>/badge.<any(json, png, svg):extension>")
@role_required(Role.BENEFICIARY)
def download(credential_id: int, extension: str) -> Response:
    fmt = extension
    credential = _mine_or_404(credential_id)
    if credential.document is None:
        abort(404)
    body, mimetype = services.baked(credential, fmt)
    return _download(body, mimetype, services.file_name(credential, fmt))


# --- Issuers: DID documents, status lists, public pages ---------------------------------------------


def _json(document: dict[str, Any], mimetype: str = "application/json") -> Response:
    response = Response(json.dumps(document, ensure_ascii=False, indent=2), mimetype=mimetype)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/.well-known/did.json")
@public
def site_did() -> Response:
    organisation = services.site_organisation(db.session)
    if organisation is None:
        abort(404)
    return _json(services.did_document(db.session, services.Site.current(), organisation, organisation.id),
                 "application/did+json")


def _issuer_or_404(code: str) -> Organisation:
    from sqlalchemy import select

    organisation = db.session.scalar(select(Organisation).where(Organisation.code == code))
    if organisation is None or not services.keys_of(db.session, organisation.id):
        abort(404)
    return organisation


@bp.get("/emetteurs/<code>/did.json")
@public
def issuer_did(code: str) -> Response:
    organisation = _issuer_or_404(code)
    site_org = services.site_organisation(db.session)
    return _json(services.did_document(db.session, services.Site.current(), organisation,
                                       site_org.id if site_org else None), "application/did+json")


@bp.get("/emetteurs/<code>/statut.json")
@public
def status_list(code: str) -> Response:
    organisation = _issuer_or_404(code)
    document = services.status_list_credential(db.session, services.Site.current(), organisation, utcnow())
    if document is None:
        abort(404)
    response = _json(document, "application/vc+ld+json")
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@bp.get("/emetteurs/<code>")
@public
def issuer_page(code: str) -> str:
    organisation = _issuer_or_404(code)
    site = services.Site.current()
    site_org = services.site_organisation(db.session)
    site_org_id = site_org.id if site_org else None
    return render_template("credentials/issuer.html", organisation=organisation,
                           did=services.issuer_did(site, organisation, site_org_id),
                           did_path=services.did_document_path(organisation, site_org_id),
                           keys=services.keys_of(db.session, organisation.id))


@bp.get("/badges/<path:slug>")
@public
def achievement(slug: str) -> str:
    """What each badge attests, and the frameworks its alignments point to (``/badges/referentiels/<code>``)."""
    framework = competences.certification_framework(db.session)
    if slug.startswith("referentiels/"):
        code = slug.removeprefix("referentiels/")
        framework_id = latest_framework_id(db.session, code)
        if framework_id is None:
            abort(404)
        return render_template("credentials/framework.html",
                               framework=competences.load_framework_tree(db.session, framework_id))
    domain = None
    if framework is not None and slug.startswith(framework.code + "/"):
        rest = slug.removeprefix(framework.code + "/")
        domain = next((d for d in framework.domains if d.code == rest), None)
        if domain is None and rest != "certification":
            abort(404)
    elif slug != "parcours-ticket-net":
        abort(404)
    return render_template("credentials/achievement.html", slug=slug, framework=framework, domain=domain)


# --- /verifier: a credential, or a code with the holder's name --------------------------------------


def _verify_limit() -> str:
    return str(current_app.config["VERIFY_LIMIT"])


def _verify_page(status: int = 200, **context: Any) -> tuple[str, int]:
    context.setdefault("typed", "")
    context.setdefault("typed_name", "")
    context.setdefault("found", None)
    context.setdefault("asked", False)
    return render_template("sharing/verify.html", **context), status


@bp.post("/verifier")
@public
@limiter.limit(_verify_limit)
def verify_code() -> tuple[str, int]:
    """A verification code typed with the holder's name (never in the address): the decision, if both match."""
    if not ActionForm().validate_on_submit():
        abort(400)
    typed, name = request.form.get("code", "").strip()[:40], request.form.get("name", "").strip()[:200]
    if not typed or not name:
        return _verify_page(400, typed=typed, typed_name=name, missing=True)
    found = submissions.by_code(db.session, typed)
    snapshot = found.snapshot if found is not None else None
    learner = (snapshot or {}).get("learner") or {}
    if found is None or not services.holder_matches(name, learner.get("first_name"), learner.get("last_name")):
        return _verify_page(404, typed=typed, typed_name=name, asked=True)
    return _verify_page(typed=typed, typed_name=name, found=found, snapshot=snapshot, asked=True,
                        withdrawn_at=services.decision_withdrawn_at(db.session, found.id))


@bp.post("/verifier/badge")
@public
@limiter.limit(_verify_limit)
def verify_badge() -> tuple[str, int]:
    """A credential handed in as a file (JSON, JWT, baked PNG or SVG) or pasted: what it says and whether it
    holds, checked without any call outside the site."""
    if not ActionForm().validate_on_submit():
        abort(400)
    upload = request.files.get("file")
    pasted = request.form.get("pasted", "")
    data: bytes | str | None = None
    if upload is not None and upload.filename:
        data = upload.read(MAX_FILE + 1)
        if len(data) > MAX_FILE:
            return _verify_page(400, badge_error=_("Ce fichier est trop gros pour une attestation (2 Mo au plus)."),
                                pasted=pasted[:MAX_PASTE])
    elif pasted.strip():
        if len(pasted) > MAX_PASTE:
            return _verify_page(400, badge_error=_("Ce texte est trop long pour une attestation."),
                                pasted=pasted[:MAX_PASTE])
        data = pasted
    if data is None:
        return _verify_page(400, badge_error=_("Choisissez un fichier, ou collez le texte de l'attestation."))
    verdict = services.check(db.session, data, utcnow())
    return _verify_page(200 if verdict.ok else 422, verdict=verdict, pasted=pasted[:MAX_PASTE])


# --- The training body withdraws a positive decision -----------------------------------------------


@bp.post("/evaluation/dossiers/<int:submission_id>/retirer-decision")
@role_required(Role.ASSESSOR)
def withdraw_decision(submission_id: int) -> Response:
    found = submissions.load(db.session, submission_id)
    if found is None or not permissions.can_assess_submission(current_user, found):
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    if request.form.get("confirm") != "1":
        flash(_("Cochez la case pour confirmer le retrait de la décision."), "error")
    elif services.withdraw_decision(db.session, found, current_user, utcnow(), ip=_ip()):
        flash(_("La décision est retirée : son code de vérification et le badge de la personne disent maintenant "
                "« retirée »."), "success")
    else:
        flash(_("Il n'y a pas de décision positive à retirer sur ce dossier."), "error")
    return redirect(url_for("sharing.submission", submission_id=found.id))


def standing_certification(submission_id: int) -> Credential | None:
    credential = services.certification_credential(db.session, submission_id)
    return credential if credential is not None and credential.status != CredentialStatus.REVOKED.value else None


@bp.app_template_global()
def certification_credential_standing(submission_id: int) -> bool:
    return standing_certification(submission_id) is not None


def verdict_summary(verdict: verify.Verdict) -> str:
    return "ok" if verdict.ok else ",".join(sorted(verdict.codes))
