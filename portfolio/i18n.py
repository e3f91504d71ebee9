"""Language choice: French by default, English on request (kept in the session, or the user's choice)."""

from __future__ import annotations

from flask import Flask, current_app, g, has_request_context, session
from flask_babel import Babel, format_decimal


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # the command line, background work: the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    # Only a user already loaded for this request: choosing a language must never need the database.
    user_locale = getattr(g.get("_login_user"), "locale", None)
    if user_locale in languages:
        return user_locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


# Times never show seconds ("3 déc. 2026, 09:00", "09:00"): Flask-Babel's medium and long formats otherwise add
# them. Dates and times are written in the reader's language and in Europe/Paris time.
DATE_FORMATS: dict[str, str | None] = {
    **Babel.default_date_formats,
    "time": "short",
    "time.medium": "HH:mm",
    "time.long": "HH:mm",
    "datetime.medium": "d MMM y, HH:mm",
    "datetime.long": "d MMMM y, HH:mm",
    "datetime.full": "EEEE d MMMM y, HH:mm",
}


def format_number(value: float | int | None, digits: int = 1) -> str:
    """A number in the reader's language, with at most ``digits`` decimals and none when it is whole: French
    ``6``, ``6,5``, ``1 234,5`` (never ``6.0``). ``None`` gives a dash."""
    if value is None:
        return "–"
    rounded = round(float(value), digits)
    return str(format_decimal(int(rounded) if rounded.is_integer() else rounded))


def init_app(app: Flask) -> None:
    """Template filters: ``{{ hours|number }}``, ``{{ ratio|number(0) }}``."""
    app.jinja_env.filters["number"] = format_number
