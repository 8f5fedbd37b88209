"""The notifications page: the user's notices, newest first, and "mark read"."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from ..extensions import db
from ..web_input import parse_id
from . import services

bp = Blueprint("notify", __name__, url_prefix="/notifications")


class MarkReadForm(FlaskForm):
    pass


@bp.route("/")
@login_required
def index():
    notices = services.recent(current_user)
    return render_template("notify/index.html", notifications=notices,
                           hidden=services.hidden_ids(current_user, notices), form=MarkReadForm())


@bp.route("/read", methods=["POST"])
@login_required
def mark_read():
    form = MarkReadForm()
    if form.validate_on_submit():
        raw = request.form.get("id")  # none: all of them; not an id: none of them
        ids = None if not raw else [n for n in [parse_id(raw)] if n is not None]
        services.mark_read(current_user, ids)
        db.session.commit()
    return redirect(url_for("notify.index"))
