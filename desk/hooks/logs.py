"""The OK webhook token never reaches a log.

OK's Bot API subscription (``POST /graph/me/subscribe``) takes only a ``url``: no secret
header, no signature. So the per-account token has to travel in the path
(``/hooks/ok/<account>/<token>``), and every logger that writes request lines gets a
filter replacing it with ``***``: werkzeug's request log (``flask serve``, ``flask run``),
gunicorn's access and error logs, and the desk's own (Flask logs the path of a request
that failed).
"""
from __future__ import annotations

import logging
import re
from collections.abc import MutableMapping

from flask import Flask

TOKEN_IN_PATH = re.compile(r"(/hooks/ok/[^/\s?#\"']+/)[^/\s?#\"']+")
REQUEST_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error")


def redact(text: str) -> str:
    return TOKEN_IN_PATH.sub(r"\1***", text) if "/hooks/ok/" in text else text


class RedactWebhookTokens(logging.Filter):
    """Rewrites the record's message and arguments (gunicorn's access log passes a dict of
    atoms: the request line, the path, the raw URI, ...)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        args = record.args
        if isinstance(args, MutableMapping):
            for key, value in list(args.items()):
                if isinstance(value, str):
                    args[key] = redact(value)
        elif isinstance(args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in args)
        return True


def init_log_redaction(app: Flask) -> None:
    for name in (*REQUEST_LOGGERS, app.logger.name):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactWebhookTokens) for f in logger.filters):
            logger.addFilter(RedactWebhookTokens())
