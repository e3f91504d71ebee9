"""Logs: one line per request, in plain text or as JSON lines (``TICKETNET_LOG_FORMAT=json``).

Every request writes one line to the ``portfolio.request`` logger: method, route rule, status,
duration and request id. Nothing else: no user, no IP address, no path values (``/journal/<int:id>``,
not ``/journal/42``), no query string, no form field. The request id is the one the error pages show
as "code d'erreur", so that support can find the line from a phone call.

Lines go to the WSGI server's error stream (gunicorn's error log) or to stderr outside a request.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from typing import Any

from flask import Flask, g, has_request_context, request
from flask.logging import wsgi_errors_stream
from werkzeug.wrappers import Response

REQUEST_LOGGER = "portfolio.request"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class _RequestIdFilter(logging.Filter):
    """Give every record the current request id ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request id, and the request's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        line.update(getattr(record, "request", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The application's own handler (recognised so that a second create_app does not add another)."""


def init_app(app: Flask) -> None:
    """Send the application's logs (``app.logger`` and its children) to the WSGI error stream, in the
    configured format, at INFO level unless the deployer set a level."""
    logger = logging.getLogger(app.name)
    handler = next((h for h in logger.handlers if isinstance(h, _Handler)), None)
    if handler is None:
        handler = _Handler(wsgi_errors_stream)  # type: ignore[arg-type]
        handler.addFilter(_RequestIdFilter())
        logger.addHandler(handler)
    handler.setFormatter(JSONFormatter() if app.config.get("LOG_FORMAT") == "json" else TextFormatter())
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)


def start_timer() -> None:
    g.request_started = time.perf_counter()


def log_request(response: Response, request_id: str) -> None:
    """The request's one line (called last, once the response is final)."""
    started = g.get("request_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
    fields = {
        "method": request.method,
        "route": request.url_rule.rule if request.url_rule is not None else "-",
        "status": response.status_code,
        "duration_ms": duration_ms,
    }
    logging.getLogger(REQUEST_LOGGER).info(
        "%s %s %s %sms", fields["method"], fields["route"], fields["status"], duration_ms,
        extra={"request": fields, "request_id": request_id})
