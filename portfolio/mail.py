"""Sending e-mail through the SMTP server of ``TICKETNET_SMTP_URL`` (standard library ``smtplib``).

- ``smtp://[user:password@]host[:port]``: plain SMTP (a relay on the same machine or network, port 25);
- ``smtp+starttls://[user:password@]host[:port]``: STARTTLS required (port 587 by default);
- ``smtps://[user:password@]host[:port]``: TLS from the first byte (port 465 by default).

The user name and password are percent-decoded (``%40`` for ``@``). Without ``TICKETNET_SMTP_URL``
nothing is sent: the pages that would send a link show it once to the person who made it instead.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

from flask import current_app

SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class MailError(RuntimeError):
    """The message could not be handed to the SMTP server."""


@dataclass(frozen=True)
class SmtpSettings:
    scheme: str
    host: str
    port: int
    username: str = ""
    password: str = ""

    @property
    def encrypted(self) -> bool:
        return self.scheme != "smtp"


def parse_smtp_url(url: str) -> SmtpSettings:
    """The settings of ``url``; ``ValueError`` saying what is wrong with it."""
    parts = urlsplit(url.strip())
    if parts.scheme not in SCHEMES:
        raise ValueError(f"the scheme must be smtp://, smtp+starttls:// or smtps://, not {parts.scheme or '(none)'}://")
    if not parts.hostname:
        raise ValueError("the URL names no host (smtp://host:port)")
    try:
        port = parts.port or SCHEMES[parts.scheme]
    except ValueError as exc:  # a port that is not a number
        raise ValueError("the port must be a number") from exc
    return SmtpSettings(parts.scheme, parts.hostname, port, unquote(parts.username or ""),
                        unquote(parts.password or ""))


def configured() -> bool:
    return bool(current_app.config.get("SMTP_URL"))


def send(to: str, subject: str, body: str) -> None:
    """Send a plain-text message in French to ``to``; ``MailError`` if the server refused it or could not be
    reached (within ``SMTP_TIMEOUT_SECONDS``)."""
    settings = parse_smtp_url(current_app.config["SMTP_URL"])
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.host)
    message["Content-Language"] = "fr"
    message.set_content(body)
    timeout = current_app.config["SMTP_TIMEOUT_SECONDS"]
    try:
        if settings.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout,
                                                    context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
        with client:
            if settings.scheme == "smtp+starttls":
                client.starttls(context=ssl.create_default_context())
            if settings.username:
                client.login(settings.username, settings.password)
            client.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        current_app.logger.warning("e-mail not sent through %s:%s: %s", settings.host, settings.port, exc)
        raise MailError(str(exc)) from exc
