"""The one CSV writer of the site and of the command line: what a French spreadsheet opens right, and
nothing it would run.

- UTF-8 with a BOM (Excel then reads the accents), ``;`` between fields (a French Excel's list separator),
  CRLF line ends, fields quoted when they hold a ``;``, a quote or a line break.
- **Formula-safe**: a text cell that a spreadsheet would read as a formula — its first visible character
  is ``=``, ``+``, ``-`` or ``@``, or it starts with a tab or a carriage return — is written with a
  leading ``'``, so that a name typed ``=HYPERLINK("http://…")`` stays a name (OWASP "CSV injection").
  Numbers (``int``, and texts that are only a number such as ``-12,50``) are left as they are; a ``float`` is
  written as a French spreadsheet reads it (``12,5``, ``3``; never ``12.5`` nor ``3.0``).

Every CSV goes through :func:`csv_bytes` (``tests/test_csv_exports.py`` walks every CSV route and
command with hostile names, and checks that no other module writes CSV).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

BOM = "\ufeff"
DELIMITER = ";"
FORMULA_STARTS = ("=", "+", "-", "@")
CONTROL_STARTS = ("\t", "\r", "\n")
_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")


def spreadsheet_number(value: float) -> str:
    """A decimal number as a French spreadsheet reads it: ``12,5``, ``3``, ``0,25`` (six decimals at most)."""
    if value.is_integer():
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".").replace(".", ",")


def safe_cell(value: Any) -> Any:
    """The cell as written: ``None`` is empty, numbers stay numbers, a text a spreadsheet would take for a
    formula is kept as text (a leading ``'``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return spreadsheet_number(value)
    if isinstance(value, int):
        return value
    text = str(value)
    if text.startswith(CONTROL_STARTS):
        return "'" + text
    visible = text.lstrip(" \u00a0\u202f")
    if visible.startswith(FORMULA_STARTS) and not _NUMBER.match(visible):
        return "'" + text
    return text


def is_safe(cell: str) -> bool:
    """Whether a cell read back from a CSV is harmless in a spreadsheet (for tests and checks)."""
    if cell.startswith("'") or not cell:
        return True
    if cell.startswith(CONTROL_STARTS):
        return False
    visible = cell.lstrip(" \u00a0\u202f")
    return not visible.startswith(FORMULA_STARTS) or bool(_NUMBER.match(visible))


def csv_text(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=DELIMITER, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return BOM + buffer.getvalue()


def csv_bytes(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> bytes:
    """The whole file, as bytes to send or to write."""
    return csv_text(header, rows).encode("utf-8")


def csv_response(data: bytes, filename: str) -> Any:
    """A download of ``data`` (from :func:`csv_bytes`) named ``filename``."""
    from werkzeug.wrappers import Response

    response = Response(data, mimetype="text/csv")
    response.mimetype_params["charset"] = "utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
