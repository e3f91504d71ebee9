"""The importers' one error type, and the problems they report by line."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


class ImportRefused(Exception):
    """The file cannot be imported at all; ``message`` says why in plain French (and ``line`` where)."""

    def __init__(self, message: object, line: int | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.line = line

    def __str__(self) -> str:
        if self.line is None:
            return str(self.message)
        return str(_l("Ligne %(line)s : %(reason)s", line=self.line, reason=self.message))


@dataclass(frozen=True)
class Problem:
    """One row that cannot be imported: its line in the file (or row of the sheet) and why."""

    line: int
    reason: str

    def __str__(self) -> str:
        return str(_l("Ligne %(line)s : %(reason)s", line=self.line, reason=self.reason))
