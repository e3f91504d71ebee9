"""Ticket references: the check letter catches every single-character error and every swap of two
neighbouring characters."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portfolio.tickets import reference
from portfolio.tickets.reference import CheckCharacterMismatch, MalformedReference

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-"

references = st.builds(
    reference.make_reference,
    department=st.sampled_from(["46", "12", "82", "971", "2A"]).filter(str.isdigit),
    year=st.integers(2008, 2099),
    serial=st.integers(1, 999_999),
)


def test_example_layout() -> None:
    text = reference.make_reference("46", 2026, 4217)
    assert text.startswith("TN46-2026-004217-")
    assert reference.parse(text) == reference.Reference("46", 2026, 4217)


@given(references, st.data())
def test_every_single_character_error_is_caught(text: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(text) - 1))
    replacement = data.draw(st.sampled_from([c for c in ALPHABET if c != text[position]]))
    typo = text[:position] + replacement + text[position + 1:]
    assert not reference.is_valid(typo)


@given(references, st.data())
def test_every_swap_of_neighbours_is_caught(text: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(text) - 2))
    swapped = text[:position] + text[position + 1] + text[position] + text[position + 2:]
    if swapped != text:
        assert not reference.is_valid(swapped)


def test_exhaustively_for_one_reference() -> None:
    text = reference.make_reference("46", 2026, 4217)
    for position in range(len(text)):
        for replacement in ALPHABET:
            if replacement != text[position]:
                assert not reference.is_valid(text[:position] + replacement + text[position + 1:])
        if position < len(text) - 1 and text[position] != text[position + 1]:
            assert not reference.is_valid(text[:position] + text[position + 1] + text[position] + text[position + 2:])


@given(references)
def test_typing_variants_are_accepted(text: str) -> None:
    assert reference.is_valid(text.lower())
    assert reference.is_valid(" " + text.replace("-", "") + " ")
    assert reference.normalise(text.replace("-", " ")) == text


def test_reasons() -> None:
    good = reference.make_reference("46", 2026, 4217)
    wrong_letter = good[:-1] + ("A" if good[-1] != "A" else "B")
    with pytest.raises(CheckCharacterMismatch):
        reference.parse(wrong_letter)
    for bad in ("", "TN46-2026-4217-K", "XX46-2026-004217-K", "TN46-2026-004217", "TN46-2026-004217-1"):
        with pytest.raises(MalformedReference):
            reference.parse(bad)


def test_check_letters_avoid_ambiguous_characters() -> None:
    assert not set("IOU") & set(reference.CHECK_ALPHABET)
    assert len(reference.CHECK_ALPHABET) == 23


@given(references)
def test_parse_gives_back_what_was_made(text: str) -> None:
    parsed = reference.parse(text)
    assert str(parsed) == text
    assert reference.make_reference(parsed.department, parsed.year, parsed.serial) == text


@given(st.integers(1, 999_998))
def test_neighbouring_serials_never_share_a_reference(serial: int) -> None:
    first, second = (reference.make_reference("46", 2026, s) for s in (serial, serial + 1))
    assert first != second and first[-1] != second[-1]  # consecutive serials differ in their check letter too
