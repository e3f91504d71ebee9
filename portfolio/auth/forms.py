from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from portfolio.auth.password_policy import PasswordPolicy


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


class FirstSignInForm(FlaskForm):
    username = StringField(
        _l("Identifiant"),
        validators=[InputRequired(_l("Écrivez votre identifiant.")), Length(max=80)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    code = StringField(
        _l("Code de la carte"),
        validators=[InputRequired(_l("Écrivez le code de votre carte.")), Length(max=20)],
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "characters", "spellcheck": "false"},
    )


class ChoosePasswordForm(FlaskForm):
    policy_username: str | None = None  # compared with the password by the policy

    password = PasswordField(
        _l("Mon nouveau mot de passe"),
        validators=[InputRequired(_l("Écrivez un mot de passe.")), PasswordPolicy()],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Le même mot de passe, encore une fois"),
        validators=[InputRequired(_l("Écrivez le mot de passe une deuxième fois.")),
                    EqualTo("password", message=_l("Les deux mots de passe ne sont pas pareils."))],
        render_kw={"autocomplete": "new-password"},
    )
