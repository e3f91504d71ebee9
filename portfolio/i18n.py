"""Language choice: French by default, English on request (kept in the session, or the user's choice)."""

from __future__ import annotations

from flask import current_app, g, has_request_context, session


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
