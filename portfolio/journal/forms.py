from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portfolio.journal.models import Visibility
from portfolio.journal.services import EntryInput

VISIBILITY_CHOICES = [
    SelectChoice(Visibility.PRIVATE.value, _l("Pour moi seulement")),
    SelectChoice(Visibility.EPM.value, _l("Partagé avec mon animateur ou animatrice")),
    SelectChoice(Visibility.CONSENTED.value, _l("Ouvert aux organismes à qui j'ai donné mon accord")),
]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _optional_int(value: Any) -> int | None:
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class EntryForm(FlaskForm):
    title = StringField(
        _l("Titre"),
        validators=[Length(max=200, message=_l("Le titre est trop long : 200 caractères au plus."))],
        render_kw={"autocomplete": "off", "maxlength": 200},
    )
    body_md = TextAreaField(
        _l("Ce que j'ai fait, ce que j'ai appris"),
        validators=[Length(max=50_000, message=_l("Le texte est trop long : 50 000 caractères au plus."))],
        render_kw={"rows": 12, "spellcheck": "true"},
    )
    entry_date = DateField(
        _l("Date"), validators=[Optional()], format="%Y-%m-%d",
    )
    visibility = RadioField(_l("Qui peut lire ce texte ?"), choices=VISIBILITY_CHOICES,
                            default=Visibility.PRIVATE.value)
    session_id = SelectField(_l("Atelier"), coerce=_optional_int, validate_choice=False)
    module_id = SelectField(_l("Module"), coerce=_optional_int, validate_choice=False)
    competences = MultiCheckboxField(_l("Compétences travaillées"), coerce=int, validate_choice=False)
    tags = StringField(_l("Mots-clés"), validators=[Length(max=700)], render_kw={"autocomplete": "off"})
    photos = MultipleFileField(_l("Ajouter des photos"), render_kw={"accept": "image/jpeg,image/png,image/webp"})
    photo_alt = StringField(
        _l("Ce que montre la photo"), validators=[Length(max=300)], render_kw={"autocomplete": "off"},
    )
    remove_photos = MultiCheckboxField(_l("Retirer des photos"), coerce=int, validate_choice=False)
    # Whose text this is, signed: keeps it if it is sent after the session ended (``rescue``).
    keeper = HiddenField()

    def to_input(self) -> EntryInput:
        return EntryInput(
            title=self.title.data or "",
            body_md=self.body_md.data or "",
            entry_date=self.entry_date.data,
            visibility=self.visibility.data if self.visibility.data in {v.value for v in Visibility}
            else Visibility.PRIVATE.value,
            session_id=self.session_id.data,
            module_id=self.module_id.data,
            competence_ids=[c for c in (self.competences.data or []) if isinstance(c, int)],
            tags=self.tags.data or "",  # type: ignore[arg-type]
        )

    def require_title(self) -> bool:
        """Publishing needs a title; a draft does not."""
        if (self.title.data or "").strip():
            return True
        self.title.errors = [*self.title.errors, str(_l("Donnez un titre à votre texte pour le publier."))]
        return False


class ConfirmForm(FlaskForm):
    """A form with only its CSRF token (a confirmation button)."""


