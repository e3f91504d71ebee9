"""Forms of consents, evidence files and the assessor's workspace."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portfolio.sharing import services
from portfolio.sharing.models import Decision


def _duration_label(months: int) -> str:
    return str(_l("1 an")) if months == 12 else str(_l("%(num)d mois", num=months))


def organisation_choices(organisations: list) -> list[SelectChoice]:  # type: ignore[type-arg]
    return [SelectChoice(o.id, o.name) for o in organisations]


class ConsentForm(FlaskForm):
    """Step 1 chooses the organisation, what it may read and for how long; step 2 shows the text and
    sends back the hash of the text that was shown."""

    organisation_id = SelectField(_l("Quel organisme peut lire ?"), coerce=int,
                                  validators=[InputRequired(_l("Choisissez un organisme."))])
    scope = RadioField(_l("Que peut-il lire ?"), default="competences",
                       choices=[SelectChoice(code, label) for code, label in services.SCOPE_LABELS.items()],
                       validators=[InputRequired(_l("Choisissez ce que l'organisme peut lire."))])
    months = RadioField(_l("Pendant combien de temps ?"), coerce=int, default=services.DEFAULT_MONTHS,
                        choices=[SelectChoice(m, _duration_label(m)) for m in services.DURATIONS_MONTHS],
                        validators=[InputRequired(_l("Choisissez une durée."))])
    text_hash = HiddenField()

    def fill_organisations(self, organisations: list) -> None:  # type: ignore[type-arg]
        self.organisation_id.choices = [SelectChoice(0, str(_l("— Choisir —"))), *organisation_choices(organisations)]


class PaperConsentForm(ConsentForm):
    signed = BooleanField(_l("La personne a signé ce texte sur papier. Je garde le papier à l'EPM."))


class PaperWithdrawalForm(FlaskForm):
    """The animator records a withdrawal the person signed on paper: which consent, and that it is signed."""

    consent_id = RadioField(_l("Quel accord la personne retire-t-elle ?"), coerce=int, validate_choice=False,
                            validators=[InputRequired(_l("Choisissez l'accord que la personne retire."))])
    signed = BooleanField(_l("La personne a signé son retrait sur papier. Je garde le papier à l'EPM."),
                          validators=[DataRequired(_l("Cochez la case quand la personne a signé son retrait."))])


class ActionForm(FlaskForm):
    """A button that changes something (revoke, withdraw, judge): the CSRF token only."""


class SendForm(FlaskForm):
    organisation_id = SelectField(_l("À quel organisme de formation ?"), coerce=int,
                                  validators=[InputRequired(_l("Choisissez un organisme de formation."))])


class DecisionForm(FlaskForm):
    decision = RadioField(_l("Décision"),
                          choices=[SelectChoice(Decision.READY.value, _l("Prêt·e pour la certification")),
                                   SelectChoice(Decision.TO_COMPLETE.value, _l("Dossier à compléter"))],
                          validators=[DataRequired(_l("Choisissez une décision."))])
    comment = TextAreaField(_l("Commentaire pour la personne (facultatif)"),
                            validators=[Optional(), Length(max=2000)])
