"""A real SMTP server (aiosmtpd) on a free loopback port, and reading what it received."""
from __future__ import annotations

import email
import email.policy
import socket
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 Message accepted for delivery"

    def letters(self, to: str | None = None) -> list[EmailMessage]:
        return [email.message_from_bytes(m.content, policy=email.policy.default)  # type: ignore[misc]
                for m in self.messages if to is None or to in m.rcpt_tos]


@pytest.fixture
def smtp_server(app):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_FROM="desk@city.test")
    yield inbox
    controller.stop()
