"""Forms of the SLA admin pages."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FloatField,
    Form,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

DAY_KIND_CHOICES = [
    SelectChoice("", _l("As the weekly schedule")),
    SelectChoice("holiday", _l("Public holiday")),
    SelectChoice("day_off", _l("Day off (transfer)")),
    SelectChoice("working", _l("Working day")),
    SelectChoice("short", _l("Shortened working day")),
]


class DayForm(FlaskForm):
    day = DateField(_l("Date"), validators=[DataRequired()])
    kind = SelectField(_l("Kind of day"), choices=DAY_KIND_CHOICES, validate_choice=True)
    note = StringField(_l("Note"), validators=[Optional(), Length(max=300)])


class WeekdayForm(Form):
    is_working = BooleanField(_l("Working day"))
    start_time = TimeField(_l("From"), validators=[Optional()])
    end_time = TimeField(_l("To"), validators=[Optional()])
    lunch_start = TimeField(_l("Lunch from"), validators=[Optional()])
    lunch_end = TimeField(_l("Lunch to"), validators=[Optional()])


class HoursForm(FlaskForm):
    days = FieldList(FormField(WeekdayForm), min_entries=7, max_entries=7)


class PolicyForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    scope = SelectField(_l("Applies to"), choices=[
        SelectChoice("global", _l("Everything (global default)")), SelectChoice("department", _l("A department")),
        SelectChoice("category", _l("A category"))])
    category_id = SelectField(_l("Category"), coerce=int, validate_choice=True)
    department_id = SelectField(_l("Department"), coerce=int, validate_choice=True)
    reaction_hours = FloatField(_l("Reaction time, hours"), default=24,
                                validators=[InputRequired(), NumberRange(min=0.1, max=24 * 60)])
    reaction_in_working_hours = BooleanField(_l("Count the reaction in working hours"))
    reaction_stops_at = SelectField(_l("The reaction clock stops at"), choices=[
        SelectChoice("first_reply", _l("the first public reply")), SelectChoice("routing", _l("routing to a department"))])
    resolution_days = IntegerField(_l("Resolution time, working days"), default=7,
                                   validators=[InputRequired(), NumberRange(min=1, max=365)])
    high_factor = FloatField(_l("Share of the time for high priority"), default=0.5,
                             validators=[InputRequired(), NumberRange(min=0.01, max=1)])
    urgent_factor = FloatField(_l("Share of the time for urgent priority"), default=0.25,
                               validators=[InputRequired(), NumberRange(min=0.01, max=1)])


class DeleteForm(FlaskForm):
    """No fields: the CSRF token of a delete button."""
