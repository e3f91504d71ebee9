"""HTML to PDF with WeasyPrint, for the paper file."""

from __future__ import annotations

from portfolio import asset_dir

PRINT_CSS = "css/print-sheet.css"


def render_pdf(html: str) -> bytes:
    """A PDF of ``html`` with the print style sheet of the static folder (no network, no inline style)."""
    from weasyprint import CSS, HTML  # heavy: imported when a PDF is asked for

    stylesheet = CSS(filename=str(asset_dir("static") / PRINT_CSS))
    return HTML(string=html, base_url=str(asset_dir("static"))).write_pdf(stylesheets=[stylesheet])
