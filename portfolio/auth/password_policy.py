"""The password policy, applied wherever a person chooses a password (first sign-in with the one-time
code, changing the password): long rather than complicated, and not one of the passwords that attackers
try first.

- at least ``MIN_LENGTH`` characters, any characters (spaces and accents welcome): the hint suggests
  three or four words that are easy to remember;
- not in the offline lists of common and breached passwords (``portfolio/auth/data/``, sources in its
  README), compared lower-case and without accents, also once its separators and the digits and symbols
  around it are removed;
- not the username, not a row of keys or a run of digits, not the same few characters repeated;
- no composition rule (no required digit, capital or symbol: ASVS 2.1.9).

Use ``password_problems()`` in services and the ``PasswordPolicy`` WTForms validator in forms
(``NewPasswordForm`` holds both fields of a new password)::

    class FirstSignInForm(NewPasswordForm):
        code = StringField(...)
    form = FirstSignInForm()
    form.policy_username = user.username   # when no one is signed in yet
"""

from __future__ import annotations

import gzip
import re
import unicodedata
from functools import cache
from pathlib import Path

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import Field, PasswordField
from wtforms.validators import EqualTo, InputRequired, ValidationError

MIN_LENGTH = 12
MAX_LENGTH = 128  # ASVS 2.1.2: at least 64 allowed, more than 128 refused
MIN_DISTINCT_CHARACTERS = 5
DATA_DIR = Path(__file__).resolve().parent / "data"

PASSPHRASE_HINT = _l(
    "Au moins 12 caractères. Le plus simple : trois ou quatre mots faciles à retenir, séparés par des espaces."
)

_SEPARATORS = re.compile(r"[\s\-_.,;:'’!?/\\*+&@#|]+")
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")


@cache
def common_passwords() -> frozenset[str]:
    """The lists of ``portfolio/auth/data/``, normalised (lower-case, no accents)."""
    with gzip.open(DATA_DIR / "common-passwords.txt.gz", "rt", encoding="utf-8") as handle:
        words = {line.strip() for line in handle}
    for line in (DATA_DIR / "common-passwords-fr.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            words.add(line.strip())
    return frozenset(normalise(word) for word in words if word)


def normalise(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


def _variants(password: str) -> set[str]:
    plain = normalise(password)
    joined = _SEPARATORS.sub("", plain)
    variants = {plain, joined, " ".join(plain.split())}
    variants |= {_EDGES.sub("", v) for v in list(variants)}
    return {v for v in variants if v}


# Rows of keys and runs of digits or letters (repeated, for the runs that wrap), read both ways.
_SEQUENCES = tuple(run * 3 for run in (
    "0123456789", "abcdefghijklmnopqrstuvwxyz", "azertyuiopqsdfghjklmwxcvbn", "qwertyuiopasdfghjklzxcvbnm",
    "1234567890azertyuiop", "1234567890qwertyuiop",
))


def _is_sequence(password: str) -> bool:
    joined = _SEPARATORS.sub("", normalise(password))
    return any(joined in run or joined[::-1] in run for run in _SEQUENCES)


def is_common(password: str) -> bool:
    return bool(_variants(password) & common_passwords())


def password_problems(password: str, *, username: str = "") -> list[str]:
    """What is wrong with ``password`` as a new password, in French (empty: it is good)."""
    length = len(unicodedata.normalize("NFC", password))
    if length < MIN_LENGTH:
        return [_("Ce mot de passe est trop court : %(count)d caractères sur %(minimum)d au moins. "
                  "Ajoutez un ou deux mots.", count=length, minimum=MIN_LENGTH)]
    if length > MAX_LENGTH:
        return [_("Ce mot de passe est trop long : %(maximum)d caractères au plus.", maximum=MAX_LENGTH)]
    if is_common(password):
        return [_("Ce mot de passe est trop courant : c'est l'un des premiers que les pirates essaient. "
                  "Choisissez d'autres mots.")]
    if _is_sequence(password):
        return [_("Ce mot de passe suit une rangée de touches ou de chiffres : choisissez des mots.")]
    name = _SEPARATORS.sub("", normalise(username))
    if len(name) >= 4 and name in _SEPARATORS.sub("", normalise(password)):
        return [_("Ce mot de passe contient votre identifiant : choisissez d'autres mots.")]
    if len(set(normalise(password))) < MIN_DISTINCT_CHARACTERS:
        return [_("Ce mot de passe répète les mêmes caractères : choisissez des mots.")]
    return []


class PasswordPolicy:
    """WTForms validator: the field's data must pass ``password_problems``. The username compared is
    ``form.policy_username`` if set, else the signed-in person's."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        username = getattr(form, "policy_username", None)
        if username is None and getattr(current_user, "is_authenticated", False):
            username = current_user.username
        problems = password_problems(field.data or "", username=username or "")
        if problems:
            raise ValidationError(problems[0])


class NewPasswordForm(FlaskForm):
    """A new password, typed twice, checked against the policy."""

    new_password = PasswordField(
        _l("Nouveau mot de passe"),
        validators=[InputRequired(_l("Écrivez votre nouveau mot de passe.")), PasswordPolicy()],
        render_kw={"autocomplete": "new-password", "spellcheck": "false", "autocapitalize": "none"},
    )
    confirm_password = PasswordField(
        _l("Le même mot de passe, une deuxième fois"),
        validators=[
            InputRequired(_l("Écrivez le mot de passe une deuxième fois.")),
            EqualTo("new_password", _l("Les deux mots de passe ne sont pas les mêmes. Écrivez-les à nouveau.")),
        ],
        render_kw={"autocomplete": "new-password", "spellcheck": "false", "autocapitalize": "none"},
    )
