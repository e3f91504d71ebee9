from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, Regexp


class TicketForm(FlaskForm):
    prescriber = SelectField(_l("Au nom de"), coerce=int)
    last_name = StringField(_l("Nom"), validators=[InputRequired(_l("Écrivez le nom.")), Length(max=100)],
                            render_kw={"autocomplete": "off"})
    first_name = StringField(_l("Prénom"), validators=[InputRequired(_l("Écrivez le prénom.")), Length(max=100)],
                             render_kw={"autocomplete": "off"})
    birth_date = DateField(_l("Date de naissance"), format=["%Y-%m-%d", "%d/%m/%Y"],
                           validators=[InputRequired(_l("Écrivez la date de naissance, par exemple 14/03/1951."))])
    commune = StringField(_l("Commune"), validators=[InputRequired(_l("Écrivez la commune.")), Length(max=100)])
    public_category = SelectField(_l("Public"), validators=[InputRequired(_l("Choisissez le public."))])
    phone = StringField(_l("Téléphone (facultatif)"), validators=[
        Optional(), Length(max=30), Regexp(r"^[0-9 +().-]+$", message=_l("Écrivez seulement des chiffres."))],
        render_kw={"type": "tel", "autocomplete": "off"})
    email = StringField(_l("Adresse électronique (facultative)"), validators=[
        Optional(), Length(max=200), Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                                            message=_l("Cette adresse électronique n'est pas complète."))],
        render_kw={"type": "email", "autocomplete": "off"})


class BatchForm(FlaskForm):
    prescriber = SelectField(_l("Au nom de"), coerce=int)
    public_category = SelectField(_l("Public"), validators=[InputRequired(_l("Choisissez le public."))])
    people = TextAreaField(_l("Une personne par ligne"), validators=[
        InputRequired(_l("Écrivez au moins une personne, une par ligne.")), Length(max=50_000)])


class ImportForm(FlaskForm):
    prescriber = SelectField(_l("Au nom de"), coerce=int)
    public_category = SelectField(_l("Public, pour les lignes qui n'en indiquent pas"), default="")
    file = FileField(_l("Le fichier (CSV ou Excel .xlsx)"), validators=[
        FileRequired(_l("Choisissez le fichier à envoyer."))], render_kw={"accept": ".csv,.txt,.xlsx"})


class ImportConfirmForm(FlaskForm):
    token = HiddenField(validators=[InputRequired()])
    valid_only = HiddenField(default="")
