"""Documents never fetch anything but the static folder's files."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from portfolio.pdf import _static_fetcher, html_to_pdf


def test_the_fetcher_serves_static_files_only(app: Flask) -> None:
    static = Path(app.static_folder or "").resolve()
    fetcher = _static_fetcher(static)
    css = static / "css" / "documents.css"
    response = fetcher.fetch(css.as_uri())
    assert response.read() == css.read_bytes()
    response.close()
    for url in ("http://127.0.0.1:9/tracker.png", "https://example.org/x.css", Path("/etc/passwd").as_uri(),
                (static / ".." / "pyproject.toml").as_uri()):
        with pytest.raises(ValueError, match="refused"):
            fetcher.fetch(url)


def test_html_to_pdf_makes_a_pdf(app: Flask) -> None:
    with app.app_context():
        data = html_to_pdf("<h1>Bonjour</h1><img src='http://127.0.0.1:9/tracker.png' alt=''>")
    assert data.startswith(b"%PDF")
