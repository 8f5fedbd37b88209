"""Text as it may be stored and shown: the one cleaning every edge applies.

Two things in otherwise valid input break a request or a job far from where they came
in: NUL (PostgreSQL refuses it in text) and a lone UTF-16 surrogate such as
``\\ud800`` (JSON allows it as an escape, but no database, template or encoder can
write it). Both become U+FFFD, so what the resident wrote is kept everywhere else.
"""
from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def clean_text(value: object) -> str:
    """``value`` as storable text. ``None`` is empty; a number (a broken client sent
    ``"text": 5``) keeps its digits; any other non-string is empty."""
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, (int, float)):
        return str(value)
    if not isinstance(value, str):
        return ""
    return _UNSTORABLE.sub(REPLACEMENT, value) if _UNSTORABLE.search(value) else value


def is_clean(value: str) -> bool:
    return _UNSTORABLE.search(value) is None
