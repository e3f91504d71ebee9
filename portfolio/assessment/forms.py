"""Forms of the competence pages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice

from competences.models import Competence, Level
from competences.services import NO_WORDS, Words

PREFIX = "level_"

# The learner's own words for each level, most modest first.
SELF_CHOICES = (
    SelectChoice("", _l("Je ne sais pas")),
    SelectChoice(Level.NOT_YET.value, _l("Pas encore")),
    SelectChoice(Level.IN_PROGRESS.value, _l("Un peu")),
    SelectChoice(Level.ACQUIRED.value, _l("Je sais faire")),
)


class SelfAssessmentForm(FlaskForm):
    """One question per competence: "Je sais faire ?". Built for the framework's competences."""

    def competence_fields(self) -> Iterable[tuple[int, RadioField]]:
        for name, field in self._fields.items():
            if name.startswith(PREFIX):
                yield int(name.removeprefix(PREFIX)), field  # type: ignore[misc]


def self_assessment_form(competences: Iterable[Competence], current: Mapping[int, str],
                         words: Words = NO_WORDS) -> SelfAssessmentForm:
    """A form with one radio group per competence (named in everyday words), preset to what the learner declared
    last."""

    class Form(SelfAssessmentForm):
        pass

    for competence in competences:
        setattr(Form, f"{PREFIX}{competence.id}", RadioField(
            words.label(competence), choices=list(SELF_CHOICES), default=current.get(competence.id, ""),
            validate_choice=True,
        ))
    return Form()
