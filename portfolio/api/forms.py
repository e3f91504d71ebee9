"""Registering a partner system."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget


class ClientForm(FlaskForm):
    organisation_id = SelectField(_l("Organisme"), coerce=int,
                                  validators=[DataRequired(_l("Choisissez un organisme de formation."))])
    name = StringField(_l("Nom du logiciel"), validators=[DataRequired(_l("Donnez un nom à ce logiciel.")),
                                                           Length(max=200)])
    scopes = SelectMultipleField(_l("Ce qu'il peut lire"), widget=ListWidget(prefix_label=False),
                                 option_widget=CheckboxInput(),
                                 validators=[DataRequired(_l("Choisissez au moins une permission."))])
