from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length


class LoginForm(FlaskForm):
    username = StringField(
        _l("Identifiant"),
        validators=[InputRequired(_l("Écrivez votre identifiant.")), Length(max=80)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Mot de passe"),
        validators=[InputRequired(_l("Écrivez votre mot de passe.")), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
