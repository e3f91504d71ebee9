"""The password policy: long rather than complicated, and never a common or breached password."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from portfolio.auth.password_policy import MIN_LENGTH, NewPasswordForm, common_passwords, password_problems


@pytest.fixture(autouse=True)
def _request(app: Any) -> Any:
    with app.test_request_context():
        yield


@pytest.mark.parametrize("password", [
    "cerise moulin truffe",  # three easy words
    "Le chat de Marie dort au soleil",
    "ma petite maison près du Lot",
    "j'aime les noix du Quercy",
])
def test_passphrases_are_welcome(password: str) -> None:
    assert password_problems(password, username="marie.dupont") == []


@pytest.mark.parametrize("password,why", [
    ("court", "trop court"),
    ("onze lettre", "trop court"),  # 11 characters
    ("Marseille2024!", "trop courant"),  # a common word with digits around it
    ("soleil123456", "trop courant"),
    ("azertyuiop123", "trop courant"),  # the top row of a French keyboard
    ("mot de passe 1", "trop courant"),
    ("Mot-De-Passe!!", "trop courant"),
    ("qwertyuiop12", "trop courant"),
    ("iloveyou1234", "trop courant"),
    ("trois ou quatre mots", "trop courant"),  # our own hint, copied as it is
    ("marie.dupont2024", "identifiant"),
    ("123456789012345", "rangée"),
    ("0987654321098", "rangée"),
    ("azertyuiopqsdf", "rangée"),
    ("zyxwvutsrqponm", "rangée"),
    ("aaaaaaaaaaaaaa", "répète"),
    ("abababababababab", "répète"),
    ("une phrase " * 13, "trop long"),  # 130 characters
])
def test_weak_passwords_are_refused_with_the_reason(password: str, why: str) -> None:
    problems = password_problems(password, username="marie.dupont")
    assert len(problems) == 1 and why in problems[0]


def test_any_character_is_welcome_and_nothing_is_truncated(app: Any) -> None:
    from portfolio.auth.passwords import hash_password, verify_password

    assert password_problems("🌻 tournesols au jardin 🐝") == []
    assert password_problems("a" * 40 + " une longue phrase sans fin " + "b" * 60) == []  # 128 characters
    long = "les noix du Quercy sont bonnes " * 4
    hashed = hash_password(long)
    assert verify_password(hashed, long) and not verify_password(hashed, long[:-1] + "!")


def test_length_counts_characters_not_bytes() -> None:
    assert len("éléphant été".encode()) > MIN_LENGTH > len("éléphant été") - 1
    assert password_problems("éléphant été") == []


def test_the_offline_list_is_large_and_normalised() -> None:
    words = common_passwords()
    assert len(words) > 19_000
    assert {"123456", "password", "azerty", "motdepasse", "soleil", "cahors"} <= words
    assert all(w == w.lower() for w in list(words)[:1000])


def test_the_form_checks_the_policy_and_both_copies(app: Any) -> None:
    form = NewPasswordForm(formdata=MultiDict({"new_password": "soleil123456", "confirm_password": "soleil123456"}),
                           meta={"csrf": False})
    assert not form.validate()
    assert "trop courant" in form.new_password.errors[0]
    form = NewPasswordForm(formdata=MultiDict({"new_password": "cerise moulin truffe",
                                               "confirm_password": "cerise moulin trufe"}), meta={"csrf": False})
    assert not form.validate()
    assert "pas les mêmes" in form.confirm_password.errors[0]
    form = NewPasswordForm(formdata=MultiDict({"new_password": "jean.martin est là",
                                               "confirm_password": "jean.martin est là"}), meta={"csrf": False})
    form.policy_username = "jean.martin"  # the first sign-in page sets it: nobody is signed in yet
    assert not form.validate() and "identifiant" in form.new_password.errors[0]
