"""The learner's journal: the list, the editor (with autosave), an entry, its photos; and the
journal of a learner as their EPM or a consented organisation may read it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, user_logged_in
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from portfolio import navigation, permissions
from portfolio.auth.models import Role, User
from portfolio.auth.sessions import current_session_id, keep_across_sign_in
from portfolio.db import utcnow
from portfolio.extensions import csrf, db
from portfolio.journal import photos as photo_rules
from portfolio.journal import rescue, services, storage
from portfolio.journal.devicecopies import device_copies_key
from portfolio.journal.forms import ConfirmForm, EntryForm
from portfolio.journal.models import EntryStatus, JournalEntry
from portfolio.journal.photos import PhotoBudget, PhotoRejected, ProcessedPhoto, process_photo
from portfolio.permissions import role_required, signed_in_api
from portfolio.sharing import services as sharing
from portfolio.timeutil import local_today
from portfolio.uploads import UploadWriteError, upload_failed_message

bp = Blueprint("journal", __name__, url_prefix="/journal")

bp.record_once(lambda state: storage.init_app(state.app))
bp.record_once(lambda state: state.app.jinja_env.globals.update(MAX_PHOTOS_PER_POST=photo_rules.MAX_PHOTOS_PER_POST,
                                                                device_copies_key=device_copies_key))
bp.record_once(lambda state: user_logged_in.connect(rescue.publish_pending, state.app))
keep_across_sign_in(rescue.PENDING)
bp.record_once(
    lambda state: navigation.register(
        state.app,
        navigation.NavItem("journal.index", _l("Mon journal"), frozenset({Role.BENEFICIARY}), order=20),
    )
)


def _entry_or_404(entry_id: int, *, edit: bool = False) -> JournalEntry:
    entry = services.load_entry(db.session, entry_id)
    allowed = permissions.can_edit_entry if edit else permissions.can_read_entry
    if entry is None or not allowed(current_user, entry):
        abort(404)
    return entry


@bp.get("")
@role_required(Role.BENEFICIARY)
def index() -> str:
    cursor = services.Cursor.decode(request.args.get("apres"))
    page = services.entries_page(db.session, current_user.id, after=cursor)
    return render_template("journal/index.html", page=page, first_page=cursor is None, owner=current_user,
                           mine=True)


@bp.get("/apprenant/<int:owner_id>")
@role_required(Role.ANIMATOR, Role.ASSESSOR)
def learner(owner_id: int) -> str:
    """A learner's journal as their EPM (or a consented organisation) may read it."""
    visibilities = permissions.readable_visibilities(current_user, owner_id)
    owner = db.session.get(User, owner_id)
    if owner is None or not visibilities:
        abort(404)
    cursor = services.Cursor.decode(request.args.get("apres"))
    page = services.entries_page(db.session, owner_id, after=cursor, visibilities=sorted(visibilities))
    sharing.record_read(db.session, current_user, owner_id, "journal.read", utcnow(), target_type="journal",
                        ip=request.remote_addr or "")
    return render_template("journal/index.html", page=page, first_page=cursor is None, owner=owner, mine=False)


# Who may ever read someone else's journal (the predicates then decide entry by entry).
READERS = (Role.BENEFICIARY, Role.ANIMATOR, Role.ASSESSOR)


@bp.get("/<int:entry_id>")
@role_required(*READERS)
def show(entry_id: int) -> str:
    entry = _entry_or_404(entry_id)
    if entry.owner_id != current_user.id:
        sharing.record_read(db.session, current_user, entry.owner_id, "journal.entry_read", utcnow(),
                            target_type="journal_entry", target_id=entry.id, ip=request.remote_addr or "")
    return render_template("journal/show.html", entry=entry)


# --- Writing -------------------------------------------------------------------------------------


def editor_form(entry: JournalEntry | None, owner: User, *, csrf: bool = True) -> EntryForm:
    """The editor's form for ``owner``'s entry (``None``: a new one), with the choices they may use."""
    form = EntryForm() if csrf else EntryForm(meta={"csrf": False})
    form.keeper.data = rescue.keeper_for(owner.id, entry.id if entry else None,
                                         current_session_id() if csrf else None)
    if request.method == "GET":
        if entry is not None:
            form.title.data = entry.title
            form.body_md.data = entry.body_md
            form.entry_date.data = entry.entry_date
            form.visibility.data = entry.visibility
            form.session_id.data = entry.session_id
            form.module_id.data = entry.module_id
            form.competences.data = [c.id for c in entry.competences]
            form.tags.data = ", ".join(t.tag for t in entry.tags)
        else:
            form.entry_date.data = local_today()
    workshops = services.sessions_for(db.session, owner.id)
    none = SelectChoice("", _("— Aucun —"))
    form.session_id.choices = [none] + [  # type: ignore[assignment]
        SelectChoice(str(w.id), f"{format_date(w.starts_at, 'medium')} – {w.module.title}") for w in workshops]
    form.module_id.choices = [none] + [  # type: ignore[assignment]
        SelectChoice(str(m.id), f"{m.number}. {m.title}") for m in services.modules(db.session)]
    return form


def _uploads() -> list[FileStorage]:
    return [f for f in request.files.getlist("photos") if f and f.filename]


def _process_uploads(form: EntryForm) -> list[ProcessedPhoto]:
    """The photos of this request, each checked and re-encoded; at most ``MAX_PHOTOS_PER_POST`` of them and
    ``MAX_DECODED_PIXELS_PER_POST`` pixels decoded in all (refused before any decoding beyond that)."""
    max_bytes = current_app.config["PHOTO_MAX_MB"] * 1024 * 1024
    uploads = _uploads()
    if len(uploads) > photo_rules.MAX_PHOTOS_PER_POST:
        form.photos.errors = [*form.photos.errors, ngettext(
            "Vous avez choisi %(num)d photos : c'est %(max)d au plus à la fois. Votre texte est gardé ; "
            "ajoutez les photos en plusieurs fois.",
            "Vous avez choisi %(num)d photos : c'est %(max)d au plus à la fois. Votre texte est gardé ; "
            "ajoutez les photos en plusieurs fois.", len(uploads), max=photo_rules.MAX_PHOTOS_PER_POST)]
        return []
    budget = PhotoBudget()
    processed = []
    for upload in uploads:
        try:
            processed.append(process_photo(upload.read(max_bytes + 1), max_bytes, budget))
        except PhotoRejected as exc:
            form.photos.errors = [*form.photos.errors, f"{upload.filename} : {exc.message}"]
    return processed


def save_from_form(form: EntryForm, entry: JournalEntry | None, action: str, owner: User) -> JournalEntry:
    """Save what the form holds. The text is always kept; it is published only if nothing is wrong."""
    photos = _process_uploads(form) if action != "autosave" else []
    publish = action == "publish" and form.require_title() and not form.photos.errors
    entry = services.save_entry(db.session, owner, form.to_input(), entry, today=local_today())
    photo_store = storage.photo_storage()
    if action != "autosave":
        services.remove_photos(db.session, photo_store, entry, form.remove_photos.data or [])
        for processed in photos:
            try:
                services.add_photo(db.session, photo_store, entry, processed, form.photo_alt.data or "")
            except UploadWriteError:  # the disk refused it: the text is kept, without the photo
                form.photos.errors = [*form.photos.errors, upload_failed_message()]
                break
    if publish and not form.photos.errors:
        services.publish_entry(entry)
        db.session.flush()
    return entry


def _editor(entry: JournalEntry | None) -> Response | str:
    form = editor_form(entry, current_user)
    if form.validate_on_submit():
        action = request.form.get("action", "draft")
        entry = save_from_form(form, entry, action, current_user)
        if not form.errors:
            if entry.status == EntryStatus.PUBLISHED.value:
                flash(_("Votre texte est publié dans votre journal."), "success")
                return redirect(url_for("journal.show", entry_id=entry.id))
            flash(_("Votre brouillon est enregistré."), "success")
            return redirect(url_for("journal.edit", entry_id=entry.id))
        # Something was refused (a photo, a missing title): the text is saved, the form comes back.
        db.session.expire(entry)
        entry = services.load_entry(db.session, entry.id)
    return render_template("journal/edit.html", form=form, entry=entry,
                           domains=services.competence_domains(db.session))


@bp.route("/nouveau", methods=["GET", "POST"])
@csrf.exempt  # checked by keeps_unsent_text, which keeps a text sent after the session ended
@rescue.keeps_unsent_text
@role_required(Role.BENEFICIARY)
def new() -> Response | str:
    return _editor(None)


@bp.route("/<int:entry_id>/modifier", methods=["GET", "POST"])
@csrf.exempt  # checked by keeps_unsent_text
@rescue.keeps_unsent_text
@role_required(Role.BENEFICIARY)
def edit(entry_id: int) -> Response | str:
    return _editor(_entry_or_404(entry_id, edit=True))


def _api_save(entry: JournalEntry | None) -> tuple[dict[str, Any], int]:
    csrf.protect()
    form = editor_form(entry, current_user)
    action = request.form.get("action", "autosave")
    if action not in ("autosave", "draft", "publish"):
        action = "autosave"
    if not form.validate():
        return {"errors": {k: [str(e) for e in v] for k, v in form.errors.items()},
                "message": _("Le texte n'a pas pu être enregistré. Corrigez ce qui est signalé.")}, 422
    entry = save_from_form(form, entry, action, current_user)
    body = {
        "id": entry.id,
        "status": entry.status,
        "saved_at": entry.updated_at.isoformat(),
        "edit_url": url_for("journal.edit", entry_id=entry.id),
        "save_url": url_for("journal.api_update", entry_id=entry.id),
        "view_url": url_for("journal.show", entry_id=entry.id),
        "message": _("Enregistré."),
    }
    if form.errors:
        body["errors"] = {k: [str(e) for e in v] for k, v in form.errors.items()}
        body["message"] = _("Votre texte est gardé en brouillon, mais il n'est pas encore publié : "
                            "corrigez ce qui est signalé.")
        return body, 422
    if action == "publish":
        flash(_("Votre texte est publié dans votre journal."), "success")
    return body, 200


@bp.post("/enregistrer")
@csrf.exempt
@signed_in_api(Role.BENEFICIARY)
def api_create() -> tuple[dict[str, Any], int]:
    """The editor's script saves here (autosave every few seconds, and the buttons)."""
    return _api_save(None)


@bp.post("/<int:entry_id>/enregistrer")
@csrf.exempt
@signed_in_api(Role.BENEFICIARY)
def api_update(entry_id: int) -> tuple[dict[str, Any], int]:
    return _api_save(_entry_or_404(entry_id, edit=True))


@bp.route("/<int:entry_id>/supprimer", methods=["GET", "POST"])
@role_required(Role.BENEFICIARY)
def delete(entry_id: int) -> Response | str:
    entry = _entry_or_404(entry_id, edit=True)
    form = ConfirmForm()
    if form.validate_on_submit():
        services.delete_entry(db.session, storage.photo_storage(), entry)
        flash(_("Le texte « %(title)s » est supprimé.", title=entry.title or _("Sans titre")), "success")
        return redirect(url_for("journal.index"))
    return render_template("journal/delete.html", entry=entry, form=form)


@bp.get("/photos/<int:photo_id>/<any(grande, miniature):size>")
@role_required(*READERS)
def photo(photo_id: int, size: str) -> Response:
    """A photo, only for people who may read its entry (404 for everybody else)."""
    found = services.load_photo(db.session, photo_id)
    if found is None or found.entry is None or not permissions.can_read_entry(current_user, found.entry):
        abort(404)
    key = found.storage_key if size == "grande" else found.thumbnail_key
    try:
        data = storage.photo_storage().read(key)
    except FileNotFoundError:
        abort(404)
    if found.owner_id != current_user.id:  # audited like an entry: the owner sees it in "Qui a consulté"
        sharing.record_read(db.session, current_user, found.owner_id, "journal.photo_read", utcnow(),
                            target_type="photo", target_id=found.id, details={"size": size},
                            ip=request.remote_addr or "")
    response = Response(data, mimetype=found.content_type)
    response.headers["Cache-Control"] = "private, max-age=86400"
    response.headers["Content-Disposition"] = "inline"
    return response
