"""Forms of the ticket card and the bulk action (Flask-WTF: CSRF on every one).

Field names are shared with the queue page's bulk bar: ``department_id``,
``category_id``, ``priority``, ``target_id``. Choices that come from the database are
filled in by :func:`fill_choices` before validation.
"""
from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, SelectMultipleField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from .. import labels
from ..i18n import lazy_gettext as _l
from ..models import Category, Department, Priority, User
from ..web_input import ID_RANGE, coerce_id

TEXT_LIMIT = 5000
NONE_CHOICE = SelectChoice("", "—")


def optional_int(value: Any) -> int | None:
    """Coerce a select's value: empty means "none", garbage means "not a choice"."""
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def priority_choices() -> list[SelectChoice]:
    return [SelectChoice(p.value, labels.label("priority", p.value)) for p in Priority]


class ActionForm(FlaskForm):
    """A button with nothing to fill in (not an appeal, spam, undo, accept, close)."""


class RouteForm(FlaskForm):
    department_id = SelectField(_l("Department"), coerce=optional_int)
    category_id = SelectField(_l("Category"), coerce=optional_int)
    priority = SelectField(_l("Priority"), default=Priority.NORMAL.value)


class CategoryForm(FlaskForm):
    category_id = SelectField(_l("Category"), coerce=optional_int)


class DepartmentForm(FlaskForm):
    department_id = SelectField(_l("Department"), coerce=optional_int, validators=[DataRequired()])


class PriorityForm(FlaskForm):
    priority = SelectField(_l("Priority"))


class AssigneeForm(FlaskForm):
    assignee_id = SelectField(_l("Assignee"), coerce=optional_int)


class MergeForm(FlaskForm):
    target_id = IntegerField(_l("Merge into ticket No."), validators=[DataRequired(), ID_RANGE])


class NoteForm(FlaskForm):
    text = TextAreaField(_l("Internal note"), validators=[DataRequired(), Length(max=TEXT_LIMIT)])


class ReturnForm(FlaskForm):
    reason = TextAreaField(_l("Why does it go back to triage?"), validators=[DataRequired(), Length(max=TEXT_LIMIT)])


class StatusForm(FlaskForm):
    status = SelectField(_l("New status"))


class BulkForm(FlaskForm):
    ticket_ids = SelectMultipleField(_l("Tickets"), coerce=coerce_id, validate_choice=False,
                                     validators=[DataRequired(message=_l("Select at least one ticket."))])
    # Choices: the bulk actions of the registry (``actions.bulk_form``); none until filled in.
    action = SelectField(_l("Action"), choices=[])
    department_id = IntegerField(_l("Department"), validators=[Optional(), ID_RANGE])
    category_id = IntegerField(_l("Category"), validators=[Optional(), ID_RANGE])
    priority = SelectField(_l("Priority"), choices=[NONE_CHOICE] + [SelectChoice(p.value) for p in Priority],
                           validators=[Optional()])
    target_id = IntegerField(_l("Merge into ticket No."), validators=[Optional(), ID_RANGE])
    next = HiddenField()


def fill_choices(
    form: FlaskForm,
    departments: list[Department],
    categories: list[Category],
    assignees: list[User] | None = None,
    statuses: list[str] | None = None,
) -> FlaskForm:
    """Give a card form its select options (the same lists serve every form)."""
    if hasattr(form, "department_id") and isinstance(form.department_id, SelectField):
        form.department_id.choices = [NONE_CHOICE] + [SelectChoice(d.id, d.name) for d in departments]
    if hasattr(form, "category_id") and isinstance(form.category_id, SelectField):
        form.category_id.choices = [NONE_CHOICE] + [SelectChoice(c.id, c.name) for c in categories]
    if isinstance(form, (RouteForm, PriorityForm)):
        form.priority.choices = priority_choices()
    if isinstance(form, AssigneeForm):
        form.assignee_id.choices = [NONE_CHOICE] + [SelectChoice(u.id, u.display_name) for u in assignees or []]
    if isinstance(form, StatusForm):
        form.status.choices = [SelectChoice(s, labels.label("status", s)) for s in statuses or []]
    return form
