"""Forms of the administration pages (Flask-WTF: CSRF on every one)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from .. import labels
from ..extensions import db
from ..links import HttpUrl
from ..models import Department, Direction, Role, User
from ..networks import spec_for
from ..web_input import parse_id

NONE = 0  # the "no department" choice of a select


def department_choices(blank_label=_l("— none —")) -> list[tuple[int, str]]:
    rows = db.session.scalars(
        db.select(Department).where(Department.is_active.is_(True)).order_by(Department.name)
    ).all()
    return [(NONE, str(blank_label))] + [(d.id, d.name) for d in rows]


def direction_choices(blank: bool) -> list[tuple[str, str]]:
    choices = [(d.value, str(labels.DIRECTION[d.value])) for d in Direction]
    return ([("", str(_l("— none —")))] if blank else []) + choices


def department_of(form_field) -> Department | None:
    # Views call this before the form validates: an id no row can have is no department.
    department_id = parse_id(form_field.data)
    return db.session.get(Department, department_id) if department_id else None


class UserForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[
        DataRequired(), Length(max=254),
        # A shape check only: internal domains (.test, .local) are legitimate here.
        Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Enter a valid e-mail.")),
    ])
    name = StringField(_l("Full name"), validators=[Length(max=200)])
    role = SelectField(_l("Role"), choices=[])
    department = SelectField(_l("Department"), coerce=int, choices=[])
    locale = SelectField(_l("Interface language"), choices=[])
    password = PasswordField(_l("Password"), validators=[Optional(), Length(max=500)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = [(r.value, str(labels.ROLE[r.value])) for r in Role]
        self.department.choices = department_choices()
        self.locale.choices = [("", str(_l("Default"))), ("ru", "Русский"), ("en", "English")]


class PasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=500)])


class ActionForm(FlaskForm):
    """A button that only posts (deactivate, revoke …): CSRF and nothing else."""


class DepartmentForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    answers_need_approval = BooleanField(_l("Answers need an operator's approval"))
    is_active = BooleanField(_l("Active"), default=True)


class CategoryForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    direction = SelectField(_l("Direction"), choices=[])
    default_department = SelectField(_l("Default department"), coerce=int, choices=[])
    keywords = StringField(_l("Keywords"), validators=[Length(max=2000)],
                           description=_l("Words residents use for this problem, separated by commas"))
    is_active = BooleanField(_l("Active"), default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.direction.choices = direction_choices(blank=True)
        self.default_department.choices = department_choices()


# How long a new API token is valid, in days (0: until revoked).
TOKEN_LIFETIMES = [(7, _l("7 days")), (30, _l("30 days")), (90, _l("90 days")), (365, _l("1 year")),
                   (0, _l("Until revoked"))]


class TokenForm(FlaskForm):
    user = SelectField(_l("User"), coerce=int, choices=[])
    name = StringField(_l("What the token is for"), validators=[Length(max=100)])
    expires_in = SelectField(_l("Valid for"), coerce=int, default=90, choices=[])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.expires_in.choices = list(TOKEN_LIFETIMES)
        users = db.session.scalars(
            db.select(User).where(User.is_active_user.is_(True)).order_by(User.email)
        ).all()
        self.user.choices = [(u.id, f"{u.email} ({labels.label('role', u.role)})") for u in users]


class _AccountBase(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=300)])
    link = StringField(_l("Link"), validators=[Length(max=500), HttpUrl()])
    direction = SelectField(_l("Direction"), choices=[])
    department = SelectField(_l("Department"), coerce=int, choices=[])
    is_active = BooleanField(_l("Active"), default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.direction.choices = direction_choices(blank=False)
        self.department.choices = department_choices()


_account_forms: dict[str, type] = {}


def account_form_class(platform: str) -> type:
    """The account form of one network: its public ids in the clear (``setting_<key>``)
    and its secrets in write-only fields (``secret_<key>``, ``clear_<key>``)."""
    if platform not in _account_forms:
        attrs = {}
        spec = spec_for(platform)
        for f in spec.settings:
            attrs[f"setting_{f.key}"] = StringField(f.label, validators=[Length(max=300)])
        for f in spec.credentials:
            # PasswordField never renders the value back into the page.
            attrs[f"secret_{f.key}"] = PasswordField(f.label, validators=[Length(max=2000)])
            attrs[f"clear_{f.key}"] = BooleanField(_l("Remove"))
        _account_forms[platform] = type(f"AccountForm_{platform}", (_AccountBase,), attrs)
    return _account_forms[platform]
