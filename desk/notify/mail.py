"""Plain-text e-mail over SMTP from the app's config (``MAIL_SERVER``, ``MAIL_PORT``,
``MAIL_FROM``; optional ``MAIL_USERNAME``/``MAIL_PASSWORD``/``MAIL_USE_TLS``).

Without a mail server the message is logged and skipped: the desk works offline.
Call it after the commit, never inside a transaction that may still roll back.
"""
from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app

log = logging.getLogger(__name__)


def send_mail(to: str | list[str], subject: str, text: str, headers: dict[str, str] | None = None) -> bool:
    """Send one message; returns whether it was handed to the SMTP server. ``headers``:
    extra ones (``List-Unsubscribe`` …)."""
    recipients = [to] if isinstance(to, str) else list(to)
    recipients = [r for r in recipients if r]
    config = current_app.config
    server = config.get("MAIL_SERVER")
    if not recipients:
        return False
    if not server:
        log.info("no MAIL_SERVER configured; not sending %r to %s", subject, ", ".join(recipients))
        return False
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    try:
        with smtplib.SMTP(server, int(config["MAIL_PORT"]), timeout=config["MAIL_TIMEOUT"]) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("sending %r to %s failed: %s", subject, ", ".join(recipients), exc)
        return False
    return True
