"""Login, logout, the role-dependent home page and the user's own account page
(password and active sessions)."""
from __future__ import annotations

import math
from urllib.parse import urlparse

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db
from . import devices, throttle
from .forms import ChangePasswordForm, LoginForm, SessionActionForm
from .login import LoginRefused, LoginThrottled, authenticate, count_wrong_password
from .passwords import change_password, password_problem
from .scope import home_endpoint
from .sessions import client_address, end_all_sessions, end_session, end_user_session, session_rows, start_session

bp = Blueprint("auth", __name__)


@bp.route("/")
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for(home_endpoint(current_user)))


@bp.get("/favicon.ico")
def favicon():
    """Browsers and crawlers ask for /favicon.ico whatever the page links: the desk's icon."""
    response = redirect(url_for("static", filename="favicon.svg"), code=301)
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response


def _throttled(template: str, retry_after: int, **context):
    """The page again with 429, a Russian message and Retry-After."""
    minutes = max(1, math.ceil(retry_after / 60))
    flash(_("Too many failed attempts from your address. Try again in %(minutes)s min.", minutes=minutes),
          "error")
    return render_template(template, **context), 429, {"Retry-After": str(retry_after)}


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("auth.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate(form.email.data, form.password.data, client_address())
        except LoginThrottled as exc:
            return _throttled("auth/login.html", exc.retry_after, form=form)
        except LoginRefused:
            flash(_("Wrong e-mail or password, or too many attempts: try again in a few minutes."), "error")
            return render_template("auth/login.html", form=form), 401
        start_session(user, remember=form.remember.data)
        db.session.commit()
        login_user(user, remember=form.remember.data)
        target = request.args.get("next", "")
        parsed = urlparse(target)
        if not target or parsed.netloc or parsed.scheme or not target.startswith("/") \
                or target.startswith("//") or "\\" in target:
            target = url_for(home_endpoint(user))
        response = redirect(target)
        devices.remember_device(response, user.id)
        return response
    if request.method == "POST":  # the form did not validate: say why instead of a silent page
        flash(_("Enter your e-mail and password."), "error")
        return render_template("auth/login.html", form=form), 422
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    end_session(current_user.session_id)
    db.session.commit()
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


# --- the user's own account ------------------------------------------------------------

def _account_context(password_form: ChangePasswordForm) -> dict:
    return {"password_form": password_form, "action": SessionActionForm(),
            "sessions": session_rows(current_user), "current_session_id": current_user.session_id}


def _account_page(password_form: ChangePasswordForm, status: int = 200):
    return render_template("auth/account.html", **_account_context(password_form)), status


@bp.route("/account")
@login_required
def account():
    return _account_page(ChangePasswordForm(formdata=None))


@bp.route("/account/password", methods=["POST"])
@login_required
def account_password():
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _account_page(form, 422)
    client = client_address()
    if wait := throttle.client_retry_after(client):
        return _throttled("auth/account.html", wait, **_account_context(form))
    if not current_user.check_password(form.current_password.data):
        # A stolen session must not be a way to guess the password at leisure.
        count_wrong_password(current_user.email, client)
        db.session.commit()
        form.current_password.errors = [_("The current password is wrong.")]
        return _account_page(form, 422)
    if problem := password_problem(form.new_password.data):
        form.new_password.errors = [str(problem)]
        return _account_page(form, 422)
    ended = change_password(current_user, form.new_password.data, keep_session=current_user.session_id)
    db.session.commit()
    flash(_("Your password is changed. Other sessions ended: %(n)s.", n=ended), "success")
    return redirect(url_for("auth.account"))


@bp.route("/account/sessions/<int:session_id>/end", methods=["POST"])
@login_required
def account_session_end(session_id: int):
    if not SessionActionForm().validate_on_submit():
        abort(400)
    if not end_user_session(current_user, session_id):
        abort(404)
    db.session.commit()
    if session_id == current_user.session_id:
        logout_user()
        flash(_("You have logged out."), "info")
        return redirect(url_for("auth.login"))
    flash(_("The session is ended."), "success")
    return redirect(url_for("auth.account"))


@bp.route("/account/sessions/end-others", methods=["POST"])
@login_required
def account_sessions_end_others():
    if not SessionActionForm().validate_on_submit():
        abort(400)
    ended = end_all_sessions(current_user, keep=current_user.session_id)
    db.session.commit()
    flash(_("Other sessions ended: %(n)s.", n=ended), "success")
    return redirect(url_for("auth.account"))
