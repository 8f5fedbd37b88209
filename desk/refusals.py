"""The one error type users see: :class:`DeskError`, a refusal with a translated message.

Services raise a subclass (``ReplyError``, ``TicketError`` …) with a message made by
``flask_babel.lazy_gettext`` (English msgid, ``%(name)s`` placeholders, a Russian
translation in the area's catalog). The web shows it with :func:`flash_refusal`; the API
answers it with its one JSON shape through the handler :func:`desk.api.errors` registers,
so views need no ``str(exc)`` and a Russian user never sees English.
"""
from __future__ import annotations

from typing import Any

from flask import flash, has_app_context, has_request_context
from flask_babel import force_locale
from flask_babel.speaklater import LazyString

#: a message: plain text, or what ``lazy_gettext`` returns (translated when rendered)
Message = Any


def render(message: Message) -> str:
    """The message in the user's language inside a request; English elsewhere (CLI,
    worker logs), where no user's language applies."""
    if has_request_context() or not has_app_context():
        return str(message)
    with force_locale("en"):
        return str(message)


class DeskError(ValueError):
    """A refusal a user sees. ``code`` and ``status`` are the API's answer; ``field``
    names the form field at fault (or ``fields`` maps several to their messages)."""

    code = "validation_failed"
    status = 422
    field: str | None = None

    def __init__(self, message: Message, *, field: str | None = None, code: str | None = None,
                 status: int | None = None, fields: dict[str, Message] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.fields = dict(fields or {})

    def __str__(self) -> str:
        return render(self.message)

    def field_messages(self) -> dict[str, str]:
        """Field name → message, for the API's ``fields`` and a form's errors."""
        fields = {name: render(text) for name, text in self.fields.items()}
        if self.field and self.field not in fields:
            fields[self.field] = str(self)
        return fields


def flash_refusal(exc: DeskError) -> None:
    """Show a refusal on the next page, in the user's language."""
    flash(str(exc), "error")


def joined(parts: list[Message], separator: str = "; ") -> Message:
    """Several messages as one, each still translated when rendered."""
    return LazyString(lambda: separator.join(str(part) for part in parts))
