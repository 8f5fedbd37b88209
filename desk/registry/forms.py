"""Forms of the registry pages (Flask-WTF: CSRF on every POST)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from .. import labels
from ..links import HttpUrl
from ..models import Direction, utcnow
from .crosspost import PLATFORMS


class CrosspostForm(FlaskForm):
    text = TextAreaField(_l("Announcement"), validators=[DataRequired(), Length(max=20000)])
    direction = SelectField(_l("Direction"), choices=[], validate_choice=True)
    networks = SelectMultipleField(_l("Networks"), choices=[], option_widget=CheckboxInput(),
                                   widget=ListWidget(prefix_label=False), validators=[DataRequired()])
    publish_at = DateTimeLocalField(_l("Publish at (city time; empty: now)"), format="%Y-%m-%dT%H:%M",
                                    validators=[Optional()])
    #: set by the preview's "publish" button: the first send only shows what would happen
    confirmed = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.direction.choices = [SelectChoice("", _l("All directions"))] + [
            SelectChoice(d, labels.label("direction", d)) for d in Direction.values()]
        self.networks.choices = [SelectChoice(p, labels.label("platform", p)) for p in PLATFORMS]
        if not self.is_submitted():
            self.networks.data = list(PLATFORMS)

    def validate_publish_at(self, field) -> None:
        at = self.publish_at_utc() if field.data else None
        if at is not None and at < utcnow():
            raise ValidationError(_l("This moment has passed."))

    def publish_at_utc(self) -> datetime | None:
        if not self.publish_at.data:
            return None
        tz = ZoneInfo(current_app.config["DESK_TIMEZONE"])
        return self.publish_at.data.replace(tzinfo=tz).astimezone(ZoneInfo("UTC"))


class DeliveryActionForm(FlaskForm):
    """Resend or confirm one delivery (CSRF token; the link is optional)."""

    permalink = StringField(_l("Link to the post"), validators=[Optional(), Length(max=500), HttpUrl()])
