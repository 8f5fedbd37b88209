"""``/admin/open311/keys`` (administrators only): the Open311 API keys, a new key (its
plain text shown in that one answer, never stored or flashed) and revoking one. The page
also gives the endpoint's address for the systems that will call it."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from ..auth.scope import restrict_blueprint
from ..extensions import db
from ..models import Role
from ..models.intake import Open311Key
from . import keys
from .views import endpoint_url

bp = Blueprint("open311_admin", __name__, url_prefix="/admin/open311")
restrict_blueprint(bp, Role.ADMIN)


class KeyForm(FlaskForm):
    name = StringField(_l("Which system will use it"), validators=[DataRequired(), Length(max=keys.MAX_NAME)])


class RevokeForm(FlaskForm):
    """CSRF and nothing else."""


@bp.route("/keys", methods=["GET", "POST"])
def keys_page() -> tuple[str, int, dict[str, str]]:
    form = KeyForm()
    plain = None
    if form.validate_on_submit():
        try:
            _key, plain = keys.issue(form.name.data, current_user)
        except keys.KeyRefusal as exc:
            db.session.rollback()
            form.name.errors = [*form.name.errors, str(exc)]
        else:
            db.session.commit()
            form = KeyForm(formdata=None)
    html = render_template("open311/keys.html", form=form, keys=keys.all_keys(), plain=plain,
                           revoke=RevokeForm(), endpoint=endpoint_url())
    status = 200 if plain or request.method == "GET" else 422
    # The plain key is in this answer only: no cache may keep it.
    return html, status, {"Cache-Control": "no-store"}


@bp.post("/keys/<int:key_id>/revoke")
def revoke(key_id: int) -> BaseResponse:
    key = db.session.get(Open311Key, key_id)
    if key is None:
        abort(404)
    if not RevokeForm().validate_on_submit():
        abort(400)
    keys.revoke(key)
    db.session.commit()
    flash(_("The key %(name)s is revoked: posts with it are refused.", name=key.name), "success")
    return redirect(url_for(".keys_page"))
