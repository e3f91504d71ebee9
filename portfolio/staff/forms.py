from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from portfolio.auth.password_policy import NewPasswordForm

ACCESS_CHOICES = [
    SelectChoice("email", _l("Un lien envoyé par courriel")),
    SelectChoice("card", _l("Une carte d'accès à imprimer et à lui remettre")),
    SelectChoice("link", _l("Un lien à lui transmettre moi-même")),
]


class RoleFields(FlaskForm):
    organisation = SelectField(_l("Organisme"), coerce=int, validators=[InputRequired(_l("Choisissez l'organisme."))])
    role = SelectField(_l("Rôle"), validators=[InputRequired(_l("Choisissez le rôle."))])
    lead = BooleanField(_l("Animateur·trice référent·e de l'EPM (ajoute les animateurs de son EPM)"))


class StaffForm(RoleFields):
    first_name = StringField(_l("Prénom"), validators=[InputRequired(_l("Écrivez le prénom.")), Length(max=100)])
    last_name = StringField(_l("Nom"), validators=[InputRequired(_l("Écrivez le nom.")), Length(max=100)])
    username = StringField(_l("Identifiant"), validators=[InputRequired(_l("Choisissez un identifiant.")),
                                                          Length(max=80)],
                           render_kw={"autocapitalize": "none", "spellcheck": "false", "autocomplete": "off"})
    email = StringField(_l("Adresse électronique (facultative)"), validators=[Optional(), Length(max=200)],
                        render_kw={"type": "email", "autocomplete": "off"})
    access = RadioField(_l("Pour choisir son mot de passe, la personne reçoit"), choices=ACCESS_CHOICES,
                        default="email", validators=[InputRequired(_l("Choisissez comment la personne entre."))])


class InvitationForm(FlaskForm):
    replaces = HiddenField()
    delivery = RadioField(_l("Comment"), choices=[SelectChoice("email", _l("Par courriel")),
                                                  SelectChoice("link", _l("Un lien que je transmets moi-même"))],
                          default="email")
    email = StringField(_l("Adresse électronique"), validators=[Optional(), Length(max=200)],
                        render_kw={"type": "email", "autocomplete": "off"})
    confirm = BooleanField(_l("Je comprends : son accès actuel (lien, carte ou mot de passe) ne marchera plus."))


class CardForm(FlaskForm):
    replaces = HiddenField()
    confirm = BooleanField(_l("Je comprends : son accès actuel (lien, carte ou mot de passe) ne marchera plus."))


class AcceptForm(NewPasswordForm):
    """The first sign-in through an invitation: the password, twice, through the site's policy."""
