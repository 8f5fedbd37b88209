"""Administration operations: people, departments, categories, accounts, API tokens.

They validate, change rows and ``flush()``; the view commits once. A rule that is
broken raises :class:`AdminError` naming the form field it belongs to, so the page can
show the message next to that field.
"""
from __future__ import annotations

from collections.abc import Set
from datetime import timedelta

from flask_babel import lazy_gettext as _l

from ..auth.passwords import change_password, password_problem
from ..auth.sessions import end_all_sessions
from ..extensions import db
from ..models import Account, ApiToken, Category, Department, Direction, Role, User, utcnow
from ..networks import SPECS, spec_for
from ..org_import import parse_keywords
from ..refusals import DeskError, Message


class AdminError(DeskError):
    """A rule of the registry is broken; ``field`` is the form field to blame."""

    def __init__(self, field: str, message: Message) -> None:
        super().__init__(message, field=field)


# --- people -------------------------------------------------------------------------

def _check_user(email: str, role: str, department: Department | None, user: User | None = None) -> str:
    email = (email or "").strip().lower()
    if not email:
        raise AdminError("email", _l("Enter an e-mail."))
    clash = db.session.scalars(
        db.select(User.id).where(db.func.lower(User.email) == email)
    ).first()
    if clash is not None and (user is None or clash != user.id):
        raise AdminError("email", _l("A user with this e-mail already exists."))
    if role not in Role.values():
        raise AdminError("role", _l("Choose a role."))
    if role == Role.DEPARTMENT_HEAD.value and department is None:
        raise AdminError("department", _l("A department head must have a department."))
    return email


def _check_password(password: str) -> None:
    if problem := password_problem(password):
        raise AdminError("password", problem)


def create_user(email: str, name: str, role: str, department: Department | None,
                locale: str | None, password: str) -> User:
    email = _check_user(email, role, department)
    _check_password(password)
    user = User(email=email, name=(name or "").strip(), role=role, department=department,
                locale=locale or None)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def update_user(user: User, email: str, name: str, role: str, department: Department | None,
                locale: str | None) -> User:
    user.email = _check_user(email, role, department, user)
    user.name = (name or "").strip()
    user.role = role
    user.department = department
    user.locale = locale or None
    db.session.flush()
    return user


def _own_session(user: User, actor: User | None) -> int | None:
    """The administrator's own browser stays logged in when they act on themselves."""
    return actor.session_id if actor is not None and actor.id == user.id else None


def reset_password(user: User, password: str, actor: User | None = None) -> User:
    """Set a new password; every session of the user ends and the login lock is lifted."""
    _check_password(password)
    change_password(user, password, keep_session=_own_session(user, actor))
    return user


def end_sessions(user: User, actor: User | None = None) -> int:
    """Log the user out of every browser (remember-me cookies included); returns how many."""
    ended = end_all_sessions(user, keep=_own_session(user, actor))
    db.session.flush()
    return ended


def set_user_active(user: User, active: bool, actor: User) -> None:
    if not active and user.id == actor.id:
        raise AdminError("is_active", _l("You cannot deactivate yourself."))
    user.is_active_user = active
    if not active:
        end_all_sessions(user)
    db.session.flush()


# --- departments and categories ------------------------------------------------------

def _unique_name(model, name: str, current_id: int | None) -> str:
    name = (name or "").strip()
    if not name:
        raise AdminError("name", _l("Enter a name."))
    clash = db.session.scalars(db.select(model.id).where(model.name == name)).first()
    if clash is not None and clash != current_id:
        raise AdminError("name", _l("This name is already taken."))
    return name


def save_department(dept: Department | None, name: str, answers_need_approval: bool,
                    is_active: bool = True) -> Department:
    """Create (``dept`` None) or update a department."""
    name = _unique_name(Department, name, dept.id if dept else None)
    if dept is None:
        dept = Department(name=name)
        db.session.add(dept)
    dept.name = name
    dept.answers_need_approval = bool(answers_need_approval)
    dept.is_active = bool(is_active)
    db.session.flush()
    return dept


def save_category(cat: Category | None, name: str, direction: str | None,
                  default_department: Department | None, is_active: bool = True,
                  keywords: str | None = None) -> Category:
    """Create (``cat`` None) or update a category."""
    name = _unique_name(Category, name, cat.id if cat else None)
    if direction and direction not in Direction.values():
        raise AdminError("direction", _l("Choose a direction."))
    if cat is None:
        cat = Category(name=name)
        db.session.add(cat)
    cat.name = name
    cat.direction = direction or None
    cat.default_department = default_department
    cat.is_active = bool(is_active)
    if keywords is not None:
        cat.keywords = parse_keywords(keywords) or []
    db.session.flush()
    return cat


# --- accounts ------------------------------------------------------------------------

def credential_status(account: Account) -> dict[str, bool]:
    """Which secrets of the account are set (the values never leave this function)."""
    if account.platform not in SPECS:
        return {}
    spec = spec_for(account.platform)
    stored = account.get_credentials() if account.has_credentials else {}
    return {f.key: bool(spec.credential(stored, f.key)) for f in spec.credentials}


def save_account(account: Account | None, platform: str, name: str, link: str, direction: str,
                 department: Department | None, is_active: bool, settings: dict[str, str],
                 secrets: dict[str, str], clear: Set[str] = frozenset()) -> Account:
    """Create or update an account.

    ``secrets`` holds what the administrator typed: an empty value keeps the stored
    secret, a key in ``clear`` removes it. Unknown keys are ignored.
    """
    if platform not in SPECS:
        raise AdminError("platform", _l("Choose a network."))
    spec = spec_for(platform)
    if direction not in Direction.values():
        raise AdminError("direction", _l("Choose a direction."))
    name = (name or "").strip()
    if not name:
        raise AdminError("name", _l("Enter a name."))
    clash = db.session.scalars(
        db.select(Account.id).where(Account.platform == platform, Account.name == name)
    ).first()
    if clash is not None and (account is None or clash != account.id):
        raise AdminError("name", _l("This network already has an account with this name."))
    if account is None:
        account = Account(platform=platform, settings={})
        db.session.add(account)
    account.name = name
    account.link = (link or "").strip()
    account.direction = direction
    account.department = department
    account.is_active = bool(is_active)

    public = dict(account.settings or {})
    for f in spec.settings:
        value = (settings.get(f.key) or "").strip()
        if value:
            public[f.key] = value
        else:
            public.pop(f.key, None)
    account.settings = public  # a new dict, so the JSON column sees the change

    stored = account.get_credentials() if account.has_credentials else {}
    for f in spec.credentials:
        # Typed, else kept; either way under the spec's name (older forms used other names).
        value = (secrets.get(f.key) or "").strip() or spec.credential(stored, f.key)
        for key in (f.key, *f.legacy_keys):
            stored.pop(key, None)
        if value and f.key not in clear:
            stored[f.key] = value
    account.set_credentials(stored)
    db.session.flush()
    return account


# --- API tokens ----------------------------------------------------------------------

def issue_token(user: User, name: str, expires_in_days: int | None = None) -> str:
    """Issue a token for ``user`` (valid for ``expires_in_days``, or until revoked when
    None or 0); returns the plain token, to be shown once."""
    if not user.is_active_user:
        raise AdminError("user", _l("The user is deactivated."))
    if expires_in_days is not None and not 0 <= expires_in_days <= 3650:
        raise AdminError("expires_in", _l("Choose how long the token is valid."))
    expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    token, plain = ApiToken.issue(user, (name or "").strip()[:100], expires_at)
    db.session.add(token)
    db.session.flush()
    return plain


def revoke_token(token: ApiToken) -> None:
    token.revoked = True
    db.session.flush()
