"""CSV for French spreadsheets (UTF-8 with BOM, ';' between fields) and PDF documents (WeasyPrint)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from flask import render_template


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def euros(cents: int | None, grouped: bool = True) -> str:
    """An amount in euros, French style, without the sign: ``1 234,50`` on a page (a narrow no-break space
    between thousands), ``1234,50`` in a spreadsheet (``grouped=False``)."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    digits = f"{whole:,}".replace(",", "\u202f") if grouped else str(whole)
    return f"{sign}{digits},{part:02d}"


def pdf_bytes(template: str, **context: Any) -> bytes:
    from weasyprint import HTML

    html = render_template(template, **context)
    return HTML(string=html).write_pdf()  # type: ignore[no-any-return]
