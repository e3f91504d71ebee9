"""Which parser reads which journal format: one table shared by the upload page and the commands."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import lazy_gettext as _l

from importers.feed import parse_feed
from importers.journal import JournalFile, detect_format
from importers.leap2a import parse_leap2a
from importers.wordpress import parse_wordpress

JOURNAL_PARSERS: dict[str, Callable[[bytes, str], JournalFile]] = {
    "leap2a": parse_leap2a,
    "wordpress": parse_wordpress,
    "feed": parse_feed,
}
FORMAT_LABELS = {
    "leap2a": _l("export Mahara (LEAP2A)"),
    "wordpress": _l("export WordPress"),
    "feed": _l("flux RSS ou Atom"),
}


def parse_journal(data: bytes, filename: str, kind: str | None = None) -> JournalFile:
    """Parse a journal file in the given format, or in the one its content shows."""
    return JOURNAL_PARSERS[kind or detect_format(data)](data, filename)
