from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired


class JournalImportForm(FlaskForm):
    file = FileField(_l("Le fichier de mon ancien blog ou portfolio"), validators=[
        FileRequired(_l("Choisissez le fichier à envoyer."))], render_kw={"accept": ".xml,.zip,.rss,.atom"})


class FrameworkImportForm(FlaskForm):
    file = FileField(_l("Le fichier du référentiel (YAML)"), validators=[
        FileRequired(_l("Choisissez le fichier à envoyer."))], render_kw={"accept": ".yaml,.yml"})
