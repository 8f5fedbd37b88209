"""The notifications page: unread notices grouped by kind, the list (all or one kind),
"mark read" (one, one kind, all), and the kinds each user chooses to receive."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from ..extensions import db
from ..i18n import gettext as _
from ..web_input import parse_id
from . import services
from .kinds import KINDS

bp = Blueprint("notify", __name__, url_prefix="/notifications")


class MarkReadForm(FlaskForm):
    pass


def _kind(raw: str | None) -> str | None:
    """A known kind from the request, or None (an unknown one is ignored, never a 500)."""
    return raw if raw in KINDS else None


@bp.route("/")
@login_required
def index():
    kind = _kind(request.args.get("kind"))
    notices = services.recent_of_kind(current_user, kind)
    return render_template("notify/index.html", notifications=notices, kind=kind, kinds=KINDS,
                           groups=services.unread_by_kind(current_user),
                           muted=set(current_user.muted_notices or []),
                           hidden=services.hidden_ids(current_user, notices), form=MarkReadForm())


@bp.route("/read", methods=["POST"])
@login_required
def mark_read():
    form = MarkReadForm()
    kind = _kind(request.form.get("kind"))
    if form.validate_on_submit():
        raw = request.form.get("id")  # none: all of them (of the kind); not an id: none of them
        ids = None if not raw else [n for n in [parse_id(raw)] if n is not None]
        services.mark_read(current_user, ids, kind=kind)
        db.session.commit()
    return redirect(url_for("notify.index", kind=kind) if kind else url_for("notify.index"))


@bp.route("/settings", methods=["POST"])
@login_required
def settings():
    form = MarkReadForm()
    if form.validate_on_submit():
        wanted = set(request.form.getlist("kind"))
        services.set_muted(current_user, [k for k in KINDS if k not in wanted])
        db.session.commit()
        flash(_("Saved: you will be told only what is ticked."), "success")
    return redirect(url_for("notify.index"))
