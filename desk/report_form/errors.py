"""The web form's refusals: one :class:`~desk.refusals.DeskError` subclass."""
from __future__ import annotations

from ..refusals import DeskError


class ReportRefusal(DeskError):
    """A refusal of the web form; ``field`` names the form field at fault (None: the form).
    ``status`` is the HTTP status of the page that shows the form again."""

    code = "report_refused"
    status = 422
