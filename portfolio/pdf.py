"""Printable documents (ticket, login card, attendance sheet): HTML templates rendered to PDF by WeasyPrint."""

from __future__ import annotations

import base64
import io

import qrcode
import qrcode.image.svg
from flask import current_app, render_template, send_file
from werkzeug.wrappers import Response

STYLESHEET = "css/documents.css"


def qr_code_data_uri(text: str) -> str:
    """An SVG QR code of ``text``, as a data URI for an ``<img>`` (vector: sharp at any print size)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, border=2,
                        error_correction=qrcode.constants.ERROR_CORRECT_M)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode()


def render_pdf(template: str, **context: object) -> bytes:
    from weasyprint import CSS, HTML

    html = render_template(template, **context)
    stylesheet = CSS(filename=f"{current_app.static_folder}/{STYLESHEET}")
    return HTML(string=html, base_url=current_app.static_folder).write_pdf(stylesheets=[stylesheet])


def pdf_response(data: bytes, filename: str) -> Response:
    """Shown in the browser (to print), with a file name for saving; never cached."""
    response = send_file(io.BytesIO(data), mimetype="application/pdf", download_name=filename, as_attachment=False,
                         max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response
