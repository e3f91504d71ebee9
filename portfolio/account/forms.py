from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import InputRequired, Length

from portfolio.auth.password_policy import NewPasswordForm


class ChangePasswordForm(NewPasswordForm):
    """The new password, twice (the person confirmed who they are just before)."""


class ConfirmForm(FlaskForm):
    password = PasswordField(
        _l("Votre mot de passe actuel"),
        validators=[InputRequired(_l("Écrivez votre mot de passe.")), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
