"""Printable documents (ticket, login card, attendance sheet, positioning sheet, portfolio): HTML templates
rendered to PDF by WeasyPrint. The one place that calls WeasyPrint: documents never fetch anything over the
network, only files of the static folder (and what a caller's own fetcher serves, such as journal photos)."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import qrcode
import qrcode.image.svg
from flask import current_app, render_template, send_file
from werkzeug.wrappers import Response

if TYPE_CHECKING:
    from weasyprint.urls import URLFetcher

STYLESHEET = "css/documents.css"


def qr_code_data_uri(text: str) -> str:
    """An SVG QR code of ``text``, as a data URI for an ``<img>`` (vector: sharp at any print size)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, border=2,
                        error_correction=qrcode.constants.ERROR_CORRECT_M)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode()


def _static_fetcher(static: Path) -> URLFetcher:
    from weasyprint.urls import URLFetcher

    class StaticFetcher(URLFetcher):
        """Files of the static folder and data: URIs; anything else (the network above all) is refused."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            parts = urlsplit(url)
            if parts.scheme == "data":
                return super().fetch(url, headers)
            if parts.scheme != "file" or not Path(unquote(parts.path)).resolve().is_relative_to(static):
                raise ValueError(f"refused in a PDF: {url}")
            return super().fetch(url, headers)

    return StaticFetcher(allowed_protocols=["file", "data"])


def html_to_pdf(html: str, stylesheet: str = STYLESHEET, *, base_url: str | None = None,
                url_fetcher: URLFetcher | None = None) -> bytes:
    from weasyprint import CSS, HTML  # heavy: imported when a document is asked for

    static = Path(current_app.static_folder or "").resolve()
    document = HTML(string=html, base_url=base_url or str(static),
                    url_fetcher=url_fetcher or _static_fetcher(static))
    return document.write_pdf(stylesheets=[CSS(filename=str(static / stylesheet))])


def html_to_pdfs(html: str, anchors: list[str], stylesheet: str = STYLESHEET) -> list[bytes]:
    """Many documents laid out at once: ``html`` holds one part per id of ``anchors`` (in that order, each
    part starting on a new page); returns one PDF per part. WeasyPrint's set-up (stylesheets, fonts) is paid
    once instead of once per document."""
    from weasyprint import CSS, HTML

    static = Path(current_app.static_folder or "").resolve()
    document = HTML(string=html, base_url=str(static), url_fetcher=_static_fetcher(static)).render(
        stylesheets=[CSS(filename=str(static / stylesheet))])
    first_page: dict[str, int] = {}
    for number, page in enumerate(document.pages):
        for anchor in page.anchors:
            first_page.setdefault(anchor, number)
    starts = [first_page[anchor] for anchor in anchors]
    ends = [*starts[1:], len(document.pages)]
    return [document.copy(document.pages[start:end]).write_pdf() for start, end in zip(starts, ends, strict=True)]


def render_pdf(template: str, stylesheet: str = STYLESHEET, **context: object) -> bytes:
    return html_to_pdf(render_template(template, **context), stylesheet)


def pdf_response(data: bytes, filename: str, attachment: bool = False) -> Response:
    """Shown in the browser (to print), with a file name for saving; never cached."""
    response = send_file(io.BytesIO(data), mimetype="application/pdf", download_name=filename,
                         as_attachment=attachment, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response
