"""Upload pages: a learner brings an old blog or portfolio into the journal; the coordination loads a
new version of a competence framework. (Prescribers' spreadsheets of tickets: ``tickets.import_file``.)"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from importers.apply_journal import import_journal
from importers.errors import ImportRefused
from importers.framework import apply_framework, parse_framework
from importers.journal import MAX_ARCHIVE_BYTES
from portfolio import navigation
from portfolio.audit import services as audit
from portfolio.auth.models import Role
from portfolio.extensions import db
from portfolio.imports.forms import FrameworkImportForm, JournalImportForm
from portfolio.imports.services import FORMAT_LABELS, parse_journal
from portfolio.permissions import role_required
from portfolio.timeutil import local_today

bp = Blueprint("imports", __name__)

bp.record_once(
    lambda state: navigation.register(
        state.app,
        navigation.NavItem("imports.journal", _l("Importer mon ancien blog"), frozenset({Role.BENEFICIARY}),
                           order=80, on_home_for=frozenset({Role.BENEFICIARY})),
        navigation.NavItem("imports.framework", _l("Importer un référentiel"), frozenset({Role.COORDINATOR}),
                           order=80),
    )
)


@bp.route("/journal/importer", methods=["GET", "POST"])
@role_required(Role.BENEFICIARY)
def journal() -> str:
    """The learner sends a Mahara, WordPress or RSS/Atom file; the posts join their journal, private."""
    form = JournalImportForm()
    result = None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            parsed = parse_journal(upload.read(MAX_ARCHIVE_BYTES + 1), (upload.filename or "")[:200])
            result = import_journal(db.session, current_user, parsed, local_today())
        except ImportRefused as refused:
            form.file.errors = [str(refused)]
        else:
            audit.record(db.session, "journal.import", actor=current_user, target_type="user",
                         target_id=current_user.id, subject_user_id=current_user.id, ip=request.remote_addr or "",
                         details={"format": parsed.kind, "imported": len(result.imported),
                                  "skipped": len(result.skipped)})
    return render_template("imports/journal.html", form=form, result=result, formats=FORMAT_LABELS)


@bp.route("/coordination/referentiels/importer", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def framework() -> str:
    """A framework file in the shape of the bundled ones, loaded as a new version."""
    form = FrameworkImportForm()
    parsed = loaded = None
    if form.validate_on_submit():
        try:
            parsed = parse_framework(form.file.data.read())
            loaded = apply_framework(db.session, parsed)
        except ImportRefused as refused:
            form.file.errors = [str(refused)]
            parsed = None
        else:
            if loaded.created:
                audit.record(db.session, "framework.import", actor=current_user, target_type="framework",
                             target_id=loaded.label, ip=request.remote_addr or "")
    return render_template("imports/framework.html", form=form, parsed=parsed, loaded=loaded)
