from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField
from wtforms.validators import DataRequired, InputRequired, Length


class DeleteAccountForm(FlaskForm):
    understood = BooleanField(
        _l("J'ai compris : mon journal, mes photos et mon compte seront effacés pour toujours."),
        validators=[DataRequired(_l("Cochez la case pour confirmer."))],
    )
    password = PasswordField(
        _l("Mon mot de passe"),
        validators=[InputRequired(_l("Écrivez votre mot de passe pour confirmer.")), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
