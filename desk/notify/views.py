"""The notifications page: the user's notices, newest first, and "mark read"."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from ..extensions import db
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
        raw = request.form.get("id")
        ids = [int(raw)] if raw and raw.isdigit() else None
        services.mark_read(current_user, ids)
        db.session.commit()
    return redirect(url_for("notify.index"))
