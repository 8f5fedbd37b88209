"""What went wrong with an outbox row, in the reader's language.

The row keeps the network's or the client's own words (``last_error``, often English and
technical: "the max account has no bot_token", "PermanentError …", "JSONDecodeError …");
people read a sentence that says what happened and what to do, and find the raw text under
"technical details". Replies and announcements share it.
"""
from __future__ import annotations

import re
from typing import Any

from ..i18n import gettext as _

_NO_CREDENTIAL = re.compile(r"account has no (\w+)")
_GAVE_UP = re.compile(r"gave up after (\d+) attempts")


def problem(row: Any) -> str | None:
    """A sentence about the row's failure, or None when nothing went wrong."""
    error = (getattr(row, "last_error", None) or "").strip()
    state = getattr(row, "state", "")
    if not error or state not in ("failed", "unknown", "queued"):
        return None
    if state == "queued":
        return _("The network did not take it yet; the desk will try again by itself.")
    if state == "unknown":
        return _("The network did not confirm the post: check the thread, then mark it posted or send it again.")
    return explain(error, getattr(row, "error_code", None))


def explain(error: str, code: Any = None) -> str:
    """A refusal (the words of the network or of the desk's client) for people."""
    if (missing := _NO_CREDENTIAL.search(error)) is not None:
        return _("The account has no %(credential)s: an administrator adds it on the account's page, then send "
                 "it again.", credential=missing.group(1))
    if (gave_up := _GAVE_UP.search(error)) is not None:
        return _("The network kept failing (%(attempts)s attempts): send it again later.",
                 attempts=gave_up.group(1))
    if code:
        return _("The network refused it (code %(code)s): fix the cause (token, rights, closed comments), then send "
                 "it again.", code=code)
    return _("The network refused it: fix the cause (token, rights, closed comments), then send it again.")
