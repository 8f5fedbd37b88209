"""A button-only form: CSRF protection for the Replay and Discard buttons."""
from __future__ import annotations

from flask_wtf import FlaskForm


class ActionForm(FlaskForm):
    pass
