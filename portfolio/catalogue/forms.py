from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from portfolio.catalogue.settings import PLAN_FIGURES, TICKET_FIGURES, Figure


class WholeNumberField(IntegerField):
    """A whole number as people type it: « 100 000 », « 100000 » or « 100 000 € »."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        text = "".join(ch for ch in str(valuelist[0]) if not ch.isspace()).replace("€", "")
        try:
            self.data = int(text)
        except ValueError:
            self.data = None
            raise ValueError(_l("Écrivez un nombre entier, sans virgule.")) from None


def _figures_form(name: str, figures: tuple[Figure, ...]) -> type[FlaskForm]:
    fields: dict[str, Field | Any] = {
        f.field: WholeNumberField(f.label, validators=[
            InputRequired(_l("Écrivez un nombre.")),
            NumberRange(min=f.minimum, max=f.maximum,
                        message=_l("Un nombre de %(min)s à %(max)s.", min=f.minimum, max=f.maximum))],
            render_kw={"inputmode": "numeric"})
        for f in figures
    }
    fields["seen"] = HiddenField()
    return type(name, (FlaskForm,), fields)


TicketTermsForm = _figures_form("TicketTermsForm", TICKET_FIGURES)
PlanForm = _figures_form("PlanForm", PLAN_FIGURES)


class ModuleForm(FlaskForm):
    family = SelectField(_l("Famille"), coerce=int, validators=[InputRequired(_l("Choisissez la famille."))])
    title = StringField(_l("Titre du nouveau module"), validators=[
        InputRequired(_l("Écrivez le titre du module.")), Length(min=3, max=300)])
