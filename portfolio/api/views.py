"""The API of partner systems (``/api/v1``, bearer tokens) and the coordination's page that registers them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from portfolio import navigation
from portfolio.api import oauth, openapi, services
from portfolio.api.forms import ClientForm
from portfolio.auth.models import Role
from portfolio.db import utcnow
from portfolio.extensions import csrf, db, limiter
from portfolio.permissions import public, role_required, token_required
from portfolio.sharing import readiness
from portfolio.sharing.forms import organisation_choices

bp = Blueprint("api", __name__)

MAX_PAGE = 100


@bp.record_once
def _register(state: Any) -> None:
    oauth.init_app(state.app)
    navigation.register(state.app, navigation.NavItem("api.clients", _l("Logiciels partenaires"),
                                                      frozenset({Role.COORDINATOR}), order=60))


# --- OAuth2 -----------------------------------------------------------------------------------------


@bp.post("/api/v1/oauth/token")
@public  # the client authenticates with its id and secret (HTTP Basic, or in the body)
@csrf.exempt  # called by servers, never by a browser with a cookie: no session to forge a request in
@limiter.limit(lambda: current_app.config["VERIFY_LIMIT"])
def token() -> Response:
    return oauth.server().create_token_response()  # type: ignore[no-any-return]


@bp.post("/api/v1/oauth/revoke")
@public
@csrf.exempt  # same as the token endpoint: client authentication, no cookie
def revoke_token() -> Response:
    return oauth.server().create_endpoint_response("revocation")  # type: ignore[no-any-return]


@bp.get("/api/v1/openapi.json")
@public
def openapi_document() -> dict[str, Any]:
    return openapi.document(request.url_root.rstrip("/"))


# --- Submissions ------------------------------------------------------------------------------------


def _record(submission: Any) -> readiness.Candidate:
    return readiness.candidates(db.session, submission.organisation_id, readiness.evidence_link, [submission])[0]


@bp.get("/api/v1/submissions")
@token_required("submissions:read")
def submissions() -> dict[str, Any]:
    client = oauth.current_token.client
    after = request.args.get("after", type=int)
    limit = min(max(request.args.get("limit", 50, type=int), 1), MAX_PAGE)
    page = services.submissions_page(db.session, client.organisation_id, after, limit)
    records = readiness.candidates(db.session, client.organisation_id, readiness.evidence_link, page) if page else []
    services.audit_reads(db.session, client, page, request.remote_addr or "")
    items = [services.summary(r, url_for(".submission", submission_id=r.submission.id, _external=True))
             for r in records]
    following = (url_for(".submissions", after=page[-1].id, limit=limit, _external=True)
                 if len(page) == limit else None)
    return {"organisation": {"code": client.organisation.code, "name": client.organisation.name},
            "items": items, "next": following}


@bp.get("/api/v1/submissions/<int:submission_id>")
@token_required("submissions:read")
def submission(submission_id: int) -> dict[str, Any]:
    client = oauth.current_token.client
    found = services.submission_of(db.session, client.organisation_id, submission_id)
    if found is None:
        abort(404)
    record = _record(found)
    services.audit_reads(db.session, client, [found], request.remote_addr or "")
    document = services.summary(record, request.url)
    document["domains"] = [d.as_dict() for d in record.domains]
    document["competences"] = [
        {"code": c.code, "title": c.title, "domain": c.domain,
         "animator": c.animator.level if c.animator else None, "assessor": c.assessor.level if c.assessor else None}
        for c in record.competences]
    if "submissions:evidence" in oauth.current_token.get_scope().split():
        document["snapshot"] = found.snapshot
    return document


# --- The coordination registers partner systems -----------------------------------------------------


def _client_form() -> ClientForm:
    form = ClientForm()
    form.organisation_id.choices = organisation_choices(services.client_organisations(db.session))
    form.scopes.choices = [SelectChoice(code, str(label)) for code, label in oauth.SCOPES.items()]
    return form


@bp.route("/coordination/logiciels-partenaires", methods=["GET", "POST"])
@role_required(Role.COORDINATOR, Role.ADMIN)
def clients() -> str | tuple[str, int]:
    form = _client_form()
    created = None
    if form.validate_on_submit():
        try:
            created = services.register_client(db.session, form.organisation_id.data, form.name.data or "",
                                               form.scopes.data or [], current_user, list(oauth.SCOPES))
        except services.ClientError as exc:
            form.name.errors = [*form.name.errors, str(exc)]
    status = 400 if form.errors else 200
    page = render_template("api/clients.html", form=form, clients=services.clients(db.session), created=created,
                           scopes=oauth.SCOPES, token_url=url_for(".token", _external=True),
                           openapi_url=url_for(".openapi_document", _external=True))
    return (page, status) if status != 200 else page


@bp.post("/coordination/logiciels-partenaires/<int:client_id>/revoquer")
@role_required(Role.COORDINATOR, Role.ADMIN)
def revoke_client(client_id: int) -> Response:
    client = services.load_client(db.session, client_id)
    if client is None:
        abort(404)
    services.revoke_client(db.session, client, current_user, utcnow())
    flash(_("L'accès de « %(name)s » est coupé : ses jetons ne marchent plus.", name=client.name), "success")
    return redirect(url_for(".clients"))
