from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional


class OrganisationForm(FlaskForm):
    """Every kind's fields; the page shows those of its kind (an EPM's offer, a training body's certifications)."""

    name = StringField(_l("Nom"), validators=[InputRequired(_l("Écrivez le nom de l'organisme.")), Length(max=200)])
    code = StringField(_l("Code"), validators=[InputRequired(_l("Écrivez un code court.")), Length(max=60)],
                       render_kw={"autocapitalize": "none", "spellcheck": "false"})
    address = StringField(_l("Adresse (numéro et voie)"), validators=[Optional(), Length(max=300)])
    postcode = StringField(_l("Code postal"), validators=[Optional(), Length(max=10)],
                           render_kw={"inputmode": "numeric", "autocomplete": "postal-code"})
    city = StringField(_l("Commune"), validators=[Optional(), Length(max=100)])
    insee_code = StringField(_l("Code INSEE de la commune"), validators=[Optional(), Length(max=5)],
                             render_kw={"spellcheck": "false"})
    siret = StringField(_l("SIRET"), validators=[Optional(), Length(max=20)], render_kw={"inputmode": "numeric"})
    phone = StringField(_l("Téléphone"), validators=[Optional(), Length(max=30)], render_kw={"type": "tel"})
    email = StringField(_l("Adresse électronique"), validators=[Optional(), Length(max=200)],
                        render_kw={"type": "email"})
    opening_slots = TextAreaField(_l("Horaires d'ouverture"), validators=[Optional(), Length(max=2000)],
                                  render_kw={"rows": 3})
    capacity = IntegerField(_l("Nombre de postes (places par atelier au plus)"), validators=[
        Optional(), NumberRange(min=1, max=99, message=_l("Un nombre de 1 à 99."))],
        render_kw={"inputmode": "numeric"})
    lieu_id = StringField(_l("Identifiant dans les données des lieux de médiation numérique"),
                          validators=[Optional(), Length(max=100)], render_kw={"spellcheck": "false"})
    modules = SelectMultipleField(_l("Modules proposés"), coerce=int, validate_choice=False)
    certifications = SelectMultipleField(_l("Certifications que l'organisme décide"), validate_choice=False)
    version = HiddenField()
