from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField, TimeField
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


class EpmChoice:
    """Forms of an animator who works in several EPMs start with the EPM's choice."""

    epm = SelectField(_l("EPM"), coerce=int)


class RegisterForm(EpmChoice, FlaskForm):
    reference = StringField(_l("Numéro du ticket"), validators=[
        InputRequired(_l("Écrivez le numéro du ticket.")), Length(max=40)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"})
    last_name = StringField(_l("Nom de la personne"), validators=[
        InputRequired(_l("Écrivez le nom de la personne.")), Length(max=100)], render_kw={"autocomplete": "off"})
    birth_date = DateField(_l("Date de naissance"), format=DATE_FORMATS, validators=[
        InputRequired(_l("Écrivez la date de naissance, par exemple 14/03/1951."))])


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class InterviewForm(FlaskForm):
    held_on = DateField(_l("Date de l'entretien"), format=DATE_FORMATS, validators=[
        InputRequired(_l("Écrivez la date de l'entretien."))])
    projects = TextAreaField(_l("Ses projets, avec ses mots"), validators=[
        InputRequired(_l("Écrivez ce que la personne veut faire avec l'ordinateur.")), Length(max=5000)])
    notes = TextAreaField(_l("Notes de l'animateur·trice (facultatif)"), validators=[Optional(), Length(max=5000)])
    modules = MultiCheckboxField(_l("Parcours : les modules choisis"), coerce=int)


class PlanForm(EpmChoice, FlaskForm):
    module = SelectField(_l("Module"), coerce=int, validators=[InputRequired(_l("Choisissez le module."))])
    day = DateField(_l("Date"), format=DATE_FORMATS, validators=[InputRequired(_l("Écrivez la date de l'atelier."))])
    start = TimeField(_l("Heure de début"), validators=[
        InputRequired(_l("Écrivez l'heure de début, par exemple 09:30."))])
    capacity = IntegerField(_l("Nombre de places"), validators=[
        InputRequired(_l("Écrivez le nombre de places.")), NumberRange(min=1, max=99)])


class BookForm(FlaskForm):
    enrolment = SelectField(_l("Apprenant·e"), coerce=int, validators=[InputRequired(_l("Choisissez une personne."))])
