"""Ticket references such as ``TN46-2026-004217-K``.

``TN`` + département (2 or 3 digits) - year - serial (6 digits) - check letter.

The check letter is a weighted sum of the 12 (or 13) digits modulo 23 (weights 1, 2, 3, ...),
written with 23 letters that cannot be mistaken for digits (no I, O, U). Because 23 is prime and
larger than every weight and every digit difference:

- a single wrong digit changes the sum by ``w * d`` with ``0 < w, |d| < 23``: never 0 modulo 23;
- two neighbouring digits swapped change it by ``(a - b) * (w_i - w_i+1) = b - a``: never 0 either;
- a wrong check letter is another letter, so it never matches;
- any other single-character error or neighbour swap (a letter typed for a digit, a dash moved)
  breaks the fixed layout, which is checked first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CHECK_ALPHABET = "ABCDEFGHJKLMNPQRSTVWXYZ"  # 23 letters: no I, O, U
MODULUS = len(CHECK_ALPHABET)
PREFIX = "TN"
_LAYOUT = re.compile(r"^TN(?P<dept>\d{2,3})-(?P<year>\d{4})-(?P<serial>\d{6})-(?P<check>[A-Z])$")
_COMPACT = re.compile(r"^TN(?P<dept>\d{2,3})(?P<year>\d{4})(?P<serial>\d{6})(?P<check>[A-Z])$")


class InvalidReference(ValueError):
    """Base class of the reasons a reference is refused."""


class MalformedReference(InvalidReference):
    pass


class CheckCharacterMismatch(InvalidReference):
    pass


def check_letter(digits: str) -> str:
    if not digits.isdigit() or len(digits) >= MODULUS:
        raise ValueError("the check letter is computed over 1 to 22 digits")
    total = sum((position + 1) * int(digit) for position, digit in enumerate(digits))
    return CHECK_ALPHABET[total % MODULUS]


@dataclass(frozen=True)
class Reference:
    department: str
    year: int
    serial: int

    @property
    def digits(self) -> str:
        return f"{self.department}{self.year:04d}{self.serial:06d}"

    def __str__(self) -> str:
        return f"{PREFIX}{self.department}-{self.year:04d}-{self.serial:06d}-{check_letter(self.digits)}"


def make_reference(department: str, year: int, serial: int) -> str:
    if not (department.isdigit() and len(department) in (2, 3)):
        raise ValueError("the département is 2 or 3 digits")
    if not 0 < serial <= 999_999:
        raise ValueError("the serial number is 1 to 999 999")
    return str(Reference(department, year, serial))


def normalise(text: str) -> str:
    """Upper-case, without spaces; a reference typed without its dashes gets them back."""
    cleaned = re.sub(r"\s+", "", text or "").upper()
    compact = _COMPACT.match(cleaned)
    if compact:
        return "{p}{dept}-{year}-{serial}-{check}".format(p=PREFIX, **compact.groupdict())
    return cleaned


def parse(text: str) -> Reference:
    """The reference, or ``MalformedReference`` / ``CheckCharacterMismatch``."""
    match = _LAYOUT.match(normalise(text))
    if match is None:
        raise MalformedReference(text)
    reference = Reference(match["dept"], int(match["year"]), int(match["serial"]))
    if check_letter(reference.digits) != match["check"]:
        raise CheckCharacterMismatch(text)
    return reference


def is_valid(text: str) -> bool:
    try:
        parse(text)
    except InvalidReference:
        return False
    return True
