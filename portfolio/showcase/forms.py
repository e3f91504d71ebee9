from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from portfolio.journal.forms import MultiCheckboxField


class ChooseEntriesForm(FlaskForm):
    entries = MultiCheckboxField(_l("Les textes de mon portfolio"), coerce=int, validate_choice=False)
