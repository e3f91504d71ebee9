"""Static files (CSS, JavaScript, images) for a slow rural connection.

- Compressed on the way (Flask-Compress: zstd, brotli or gzip, as the browser accepts): CSS, JavaScript and SVG
  only. Pages are never compressed: they carry a CSRF token and personal data beside text a visitor may choose,
  which compression would let an eavesdropper guess from the sizes (the BREACH attack).
- Addressed with a version of their content (``url_for('static', filename=...)`` adds ``?v=<hash>``) and then
  kept for a year by the browser: a page's second visit fetches no style sheet or script again, and a new
  release changes the address of what changed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from flask import Flask, current_app, request
from werkzeug.wrappers import Response

from portfolio.extensions import compress

COMPRESSED_TYPES = ["text/css", "text/javascript", "application/javascript", "image/svg+xml"]
YEAR = 365 * 24 * 3600
_VERSIONS = "ticketnet.static_versions"


def init_app(app: Flask) -> None:
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    compress.init_app(app)
    app.url_defaults(_add_version)
    # after_request functions run last registered first: the file is read, then kept, then compressed.
    app.after_request(_cache_versioned)
    app.after_request(_read_static_file)


def static_version(filename: str) -> str:
    """A short hash of a static file's content, read once per process and file (and again if it changes)."""
    path = Path(current_app.static_folder or "") / filename
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return ""
    kept: dict[str, tuple[int, str]] = current_app.extensions.setdefault(_VERSIONS, {})
    if filename not in kept or kept[filename][0] != stamp:
        kept[filename] = (stamp, hashlib.sha256(path.read_bytes()).hexdigest()[:12])
    return kept[filename][1]


def _add_version(endpoint: str, values: dict[str, Any]) -> None:
    if endpoint == "static" and "filename" in values and "v" not in values:
        version = static_version(values["filename"])
        if version:
            values["v"] = version


def _read_static_file(response: Response) -> Response:
    """A static file is sent as a stream of its open file; read what is to be sent (it is small) and close the file
    at once, so that it is compressed in one piece and never left open by a visitor who went away (a 304 sends
    nothing of it)."""
    if request.endpoint == "static" and response.is_streamed:
        source = response.response
        response.direct_passthrough = False
        sent = response.status_code in (200, 206)
        data = b"".join(response.iter_encoded()) if sent else b""
        close = getattr(source, "close", None)
        if close is not None:
            close()
        if sent:
            response.set_data(data)
        else:
            response.response = []
    return response


def _cache_versioned(response: Response) -> Response:
    """A static file asked for under its current version is kept a year; any other answer is left alone."""
    if request.endpoint == "static" and response.status_code in (200, 304):
        filename = (request.view_args or {}).get("filename", "")
        if filename and request.args.get("v") == static_version(filename):
            response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    return response
