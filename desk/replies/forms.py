"""Forms of the composer, the approval list, the outbox actions and canned replies."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..i18n import lazy_gettext as _l
from ..links import HttpUrl

TEXT_LIMIT = 16384


class ComposeForm(FlaskForm):
    text = TextAreaField(_l("Public answer"), validators=[DataRequired(), Length(max=TEXT_LIMIT)])


class ApproveForm(FlaskForm):
    text = TextAreaField(_l("Text"), validators=[Optional(), Length(max=TEXT_LIMIT)])


class SendBackForm(FlaskForm):
    comment = TextAreaField(_l("What to change"), validators=[DataRequired(), Length(max=2000)])


class ConfirmForm(FlaskForm):
    permalink = StringField(_l("Link of the posted comment"), validators=[Optional(), Length(max=500), HttpUrl()])


class ResendForm(FlaskForm):
    text = TextAreaField(_l("Text"), validators=[Optional(), Length(max=TEXT_LIMIT)])


class EmptyForm(FlaskForm):
    """A button with nothing to fill in."""


class CannedForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=TEXT_LIMIT)],
                         description=_l("Placeholders: {name}, {ticket}, {department}, {status_link}"))
    department_id = SelectField(_l("Department"), coerce=lambda v: int(v) if v not in (None, "") else None,
                                validators=[Optional()])
    category_id = SelectField(_l("Category"), coerce=lambda v: int(v) if v not in (None, "") else None,
                              validators=[Optional()])
