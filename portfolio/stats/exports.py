"""CSV for French spreadsheets (UTF-8 with BOM, ';' between fields) and PDF documents (WeasyPrint)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from flask import render_template
from flask_babel import gettext as _

from portfolio.stats.payments import Statement
from portfolio.timeutil import local_today


def spreadsheet_number(value: Any) -> Any:
    """A decimal number as a French spreadsheet reads it: ``12,5``, ``3`` (never ``12.5`` nor ``3.0``)."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.2f}".rstrip("0").replace(".", ",")
    return value


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([spreadsheet_number(value) for value in row] for row in rows)
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


# --- Payment statements ------------------------------------------------------------------------


def statement_csv(statement: Statement) -> bytes:
    """One line per (EPM, ticket) paid in the period."""
    header = [_("Période"), _("Code EPM"), _("EPM"), _("Référence du ticket"), _("Bénéficiaire"),
              _("Séances suivies sur la période"), _("Montant de la période (EUR)"), _("Séances suivies au total"),
              _("Montant payé au total (EUR)")]
    codes = {e.epm_id: e.code for e in statement.epms}
    rows = [[statement.period.code, codes[line.epm_id], line.epm_name, line.reference, line.holder, line.sessions,
             euros(line.amount_cents, grouped=False), line.sessions_to_date,
             euros(line.amount_to_date_cents, grouped=False)] for line in statement.lines]
    return csv_bytes(header, rows)


def summary_csv(statement: Statement) -> bytes:
    header = [_("Période"), _("Code EPM"), _("EPM"), _("Tickets"), _("Séances suivies"), _("Montant (EUR)")]
    rows = [[statement.period.code, e.code, e.name, e.tickets, e.sessions, euros(e.amount_cents, grouped=False)]
            for e in statement.epms]
    rows.append([statement.period.code, "", _("Total"), statement.total_tickets, statement.total_sessions,
                 euros(statement.total_cents, grouped=False)])
    return csv_bytes(header, rows)


def statement_pdf(statement: Statement) -> bytes:
    return pdf_bytes("stats/payments_pdf.html", statement=statement, euros=euros, generated_on=local_today())
