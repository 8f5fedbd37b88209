"""Administration pages (administrators only): people, departments, categories,
the accounts registry and API tokens. Views are thin: forms in, services, one commit."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..auth.scope import restrict_blueprint
from ..auth.sessions import session_rows
from ..extensions import db
from ..links import public_url
from ..models import Account, ApiToken, Category, Department, Role, User, utcnow
from ..networks import SPECS, spec_for
from ..refusals import flash_refusal
from . import services
from .forms import (
    NONE,
    ActionForm,
    CategoryForm,
    DepartmentForm,
    PasswordForm,
    TokenForm,
    UserForm,
    account_form_class,
    department_of,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")

# The administration index: (endpoint, title, description). Append a line for a new page.
ADMIN_PAGES = [
    ("admin.users", _l("Users"), _l("People who log in, their roles and departments")),
    ("admin.departments", _l("Departments"), _l("Who resolves tickets, and whether answers need approval")),
    ("admin.categories", _l("Categories"), _l("Kinds of problems and their default departments")),
    ("admin.accounts", _l("Accounts"), _l("The city's accounts on the networks, and their access keys")),
    ("admin.tokens", _l("API tokens"), _l("Tokens for the JSON API")),
    ("collectors.index", _l("Collectors"), _l("How each account's collector is doing, and the dead letters")),
    ("sla.index", _l("Business calendar and SLA"), _l("Holidays, working hours and deadlines per category and department")),
    ("open311_admin.keys_page", _l("Open311 keys"),
     _l("Keys of the city systems that post requests through Open311 GeoReport v2")),
]


restrict_blueprint(bp, Role.ADMIN)


def _get_or_404(model, row_id: int):
    row = db.session.get(model, row_id)
    if row is None:
        abort(404)
    return row


def _apply(form, operation, *args, **kwargs):
    """Run a service; on a broken rule put its message under the form field, roll back."""
    try:
        return operation(*args, **kwargs)
    except services.AdminError as exc:
        db.session.rollback()
        field = getattr(form, exc.field or "", None)
        if field is not None:
            field.errors = list(field.errors) + [str(exc)]
        else:
            flash_refusal(exc)
        return None


def _save(form, operation, *args, message, endpoint: str):
    """Validate the posted form, run the service, commit once and go back to the list.

    Returns the redirect, or None when the page must be shown again with its errors.
    """
    if not form.validate_on_submit():
        return None
    row = _apply(form, operation, *args)
    if row is None:
        return None
    db.session.commit()
    flash(message(row), "success")
    return redirect(url_for(endpoint))


def _status() -> int:
    """A page shown again after a post had errors in it."""
    return 200 if request.method == "GET" else 422


@bp.route("/")
def index():
    pages = [(url_for(endpoint), title, text) for endpoint, title, text in ADMIN_PAGES]
    widgets = [(_("Official accounts of the city"), public_url("registry.widget"), 400),
               (_("How the city answers its residents"), public_url("open_data.widget"), 520)]
    return render_template("admin/index.html", pages=pages, widgets=widgets)


# --- users ---------------------------------------------------------------------------

@bp.route("/users")
def users():
    rows = db.session.scalars(db.select(User).order_by(User.is_active_user.desc(), User.email)).all()
    return render_template("admin/users.html", users=rows, action=ActionForm(), now=utcnow())


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    form = UserForm()
    done = _save(form, services.create_user, form.email.data, form.name.data, form.role.data,
                 department_of(form.department), form.locale.data, form.password.data or "",
                 message=lambda u: _("User %(email)s created.", email=u.email), endpoint="admin.users")
    return done or (render_template("admin/user_form.html", form=form, user=None), _status())


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int):
    user = _get_or_404(User, user_id)
    form = UserForm(obj=user if request.method == "GET" else None)
    if request.method == "GET":
        form.department.data = user.department_id or NONE
        form.locale.data = user.locale or ""
    elif done := _save(form, services.update_user, user, form.email.data, form.name.data, form.role.data,
                       department_of(form.department), form.locale.data,
                       message=lambda _u: _("Changes saved."), endpoint="admin.users"):
        return done
    return _user_page(form, user, PasswordForm(formdata=None)), _status()


def _user_page(form: UserForm, user: User, password_form: PasswordForm) -> str:
    return render_template("admin/user_form.html", form=form, user=user, password_form=password_form,
                           action=ActionForm(), sessions=session_rows(user))


@bp.route("/users/<int:user_id>/password", methods=["POST"])
def user_password(user_id: int):
    user = _get_or_404(User, user_id)
    form = PasswordForm()
    if form.validate_on_submit() and _apply(form, services.reset_password, user, form.password.data,
                                            current_user) is not None:
        db.session.commit()
        flash(_("The password of %(email)s is changed; their sessions are ended.", email=user.email), "success")
        return redirect(url_for("admin.user_edit", user_id=user.id))
    edit = UserForm(obj=user, formdata=None)
    edit.department.data = user.department_id or NONE
    edit.locale.data = user.locale or ""
    return _user_page(edit, user, form), 422


@bp.route("/users/<int:user_id>/sessions/end", methods=["POST"])
def user_sessions_end(user_id: int):
    user = _get_or_404(User, user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    ended = services.end_sessions(user, current_user)
    db.session.commit()
    flash(_("%(email)s is logged out everywhere (sessions ended: %(n)s).", email=user.email, n=ended), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.route("/users/<int:user_id>/active", methods=["POST"])
def user_active(user_id: int):
    user = _get_or_404(User, user_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    active = request.form.get("active") == "1"
    try:
        services.set_user_active(user, active, current_user)
    except services.AdminError as exc:
        flash_refusal(exc)
        return redirect(url_for("admin.users"))
    db.session.commit()
    flash(_("User %(email)s activated.", email=user.email) if active
          else _("User %(email)s deactivated.", email=user.email), "success")
    return redirect(url_for("admin.users"))


# --- departments ---------------------------------------------------------------------

@bp.route("/departments", methods=["GET", "POST"])
def departments():
    form = DepartmentForm()
    done = _save(form, services.save_department, None, form.name.data, form.answers_need_approval.data,
                 form.is_active.data, message=lambda d: _("Department %(name)s created.", name=d.name),
                 endpoint="admin.departments")
    if done:
        return done
    rows = db.session.scalars(db.select(Department).order_by(Department.is_active.desc(), Department.name)).all()
    return render_template("admin/departments.html", departments=rows, form=form), _status()


@bp.route("/departments/<int:dept_id>", methods=["GET", "POST"])
def department_edit(dept_id: int):
    dept = _get_or_404(Department, dept_id)
    form = DepartmentForm(obj=dept if request.method == "GET" else None)
    done = _save(form, services.save_department, dept, form.name.data, form.answers_need_approval.data,
                 form.is_active.data, message=lambda _d: _("Changes saved."), endpoint="admin.departments")
    return done or (render_template("admin/department_form.html", form=form, department=dept), _status())


# --- categories ----------------------------------------------------------------------

def _save_category(form: CategoryForm, cat: Category | None, message):
    return _save(form, services.save_category, cat, form.name.data, form.direction.data or None,
                 department_of(form.default_department), form.is_active.data, form.keywords.data or "",
                 message=message, endpoint="admin.categories")


@bp.route("/categories", methods=["GET", "POST"])
def categories():
    form = CategoryForm()
    done = _save_category(form, None, lambda c: _("Category %(name)s created.", name=c.name))
    if done:
        return done
    rows = db.session.scalars(db.select(Category).order_by(Category.is_active.desc(), Category.name)).all()
    return render_template("admin/categories.html", categories=rows, form=form), _status()


@bp.route("/categories/<int:cat_id>", methods=["GET", "POST"])
def category_edit(cat_id: int):
    cat = _get_or_404(Category, cat_id)
    form = CategoryForm(obj=cat if request.method == "GET" else None)
    if request.method == "GET":
        form.direction.data = cat.direction or ""
        form.default_department.data = cat.default_department_id or NONE
        form.keywords.data = ", ".join(cat.keywords or [])
    elif done := _save_category(form, cat, lambda _c: _("Changes saved.")):
        return done
    return render_template("admin/category_form.html", form=form, category=cat), _status()


# --- accounts ------------------------------------------------------------------------

@bp.route("/accounts")
def accounts():
    rows = db.session.scalars(db.select(Account).where(Account.on_networks())
                              .order_by(Account.platform, Account.direction, Account.name)).all()
    groups = [(p, [a for a in rows if a.platform == p]) for p in SPECS]
    return render_template("admin/accounts.html", groups=groups, platforms=tuple(SPECS))


def _account_page(platform: str, account: Account | None):
    spec = spec_for(platform)
    form_class = account_form_class(platform)
    form = form_class(obj=account if request.method == "GET" else None)
    if request.method == "GET" and account is not None:
        form.department.data = account.department_id or NONE
        for f in spec.settings:
            form[f"setting_{f.key}"].data = (account.settings or {}).get(f.key, "")
    if request.method == "POST":
        settings = {f.key: form[f"setting_{f.key}"].data for f in spec.settings}
        secrets = {f.key: form[f"secret_{f.key}"].data for f in spec.credentials}
        clear = {f.key for f in spec.credentials if form[f"clear_{f.key}"].data}
        done = _save(form, services.save_account, account, platform, form.name.data, form.link.data,
                     form.direction.data, department_of(form.department), form.is_active.data,
                     settings, secrets, clear,
                     message=lambda a: _("Account %(name)s saved.", name=a.name), endpoint="admin.accounts")
        if done:
            return done
    status = services.credential_status(account) if account is not None else {}
    fields = {
        "settings": [form[f"setting_{f.key}"] for f in spec.settings],
        "secrets": [(form[f"secret_{f.key}"], form[f"clear_{f.key}"], status.get(f.key, False))
                    for f in spec.credentials],
    }
    return render_template("admin/account_form.html", form=form, account=account, platform=platform,
                           fields=fields), _status()


@bp.route("/accounts/new/<platform>", methods=["GET", "POST"])
def account_new(platform: str):
    if platform not in SPECS:
        abort(404)
    return _account_page(platform, None)


@bp.route("/accounts/<int:account_id>", methods=["GET", "POST"])
def account_edit(account_id: int):
    account = _get_or_404(Account, account_id)
    if account.platform not in SPECS:
        abort(404)
    return _account_page(account.platform, account)


# --- API tokens ----------------------------------------------------------------------

@bp.route("/tokens", methods=["GET", "POST"])
def tokens():
    form = TokenForm()
    plain = None
    if form.validate_on_submit():
        user = _get_or_404(User, form.user.data)
        plain = _apply(form, services.issue_token, user, form.name.data, form.expires_in.data)
        if plain is not None:
            db.session.commit()
    rows = db.session.scalars(db.select(ApiToken).order_by(ApiToken.revoked, ApiToken.id.desc())).all()
    # The plain token is in this response only: it is not stored and not flashed.
    html = render_template("admin/tokens.html", form=form, tokens=rows, plain=plain, action=ActionForm(),
                           now=utcnow())
    status = 200 if plain or request.method == "GET" else 422
    return html, status, {"Cache-Control": "no-store"}


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
def token_revoke(token_id: int):
    token = _get_or_404(ApiToken, token_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.revoke_token(token)
    db.session.commit()
    flash(_("The token is revoked."), "success")
    return redirect(url_for("admin.tokens"))
