"""Crossposting pages (managers and administrators), on the registry blueprint:
compose, list, and the status of each account's delivery."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.scope import roles_required
from ..extensions import db
from ..models import Role
from ..models.announcements import Announcement, AnnouncementDelivery
from ..refusals import flash_refusal
from . import crosspost
from .forms import CrosspostForm, DeliveryActionForm
from .views import bp

STAFF = (Role.MANAGER, Role.ADMIN)


@bp.route("/registry/crosspost", methods=["GET", "POST"])
@roles_required(*STAFF)
def crosspost_compose():
    form = CrosspostForm()
    if form.validate_on_submit():
        accounts = crosspost.target_accounts(form.direction.data or None, form.networks.data)
        try:
            announcement = crosspost.create_announcement(form.text.data, accounts, current_user,
                                                         form.publish_at_utc())
        except crosspost.CrosspostError as exc:
            db.session.rollback()
            form.text.errors.append(str(exc))
        else:
            crosspost.enqueue_announcement_after_commit(announcement)
            db.session.commit()
            flash(_("The announcement is queued for %(n)s accounts.", n=len(announcement.deliveries)), "success")
            return redirect(url_for("registry.crosspost_status", announcement_id=announcement.id))
    return render_template("registry/crosspost.html", form=form, announcements=crosspost.recent_announcements(),
                           state_counts=crosspost.state_counts)


@bp.get("/registry/crosspost/<int:announcement_id>")
@roles_required(*STAFF)
def crosspost_status(announcement_id: int):
    announcement = db.session.get(Announcement, announcement_id) or abort(404)
    return render_template("registry/crosspost_status.html", announcement=announcement,
                           counts=crosspost.state_counts(announcement), action=DeliveryActionForm())


def _delivery_action(delivery_id: int, operation) -> object:
    form = DeliveryActionForm()
    delivery = db.session.get(AnnouncementDelivery, delivery_id) or abort(404)
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return redirect(url_for("registry.crosspost_status", announcement_id=delivery.announcement_id))
    try:
        operation(delivery, form)
    except crosspost.CrosspostError as exc:
        db.session.rollback()
        flash_refusal(exc)
    else:
        if delivery.state == crosspost.D.QUEUED.value:
            crosspost.enqueue_delivery_after_commit(delivery.id)
        db.session.commit()
    return redirect(url_for("registry.crosspost_status", announcement_id=delivery.announcement_id))


@bp.post("/registry/crosspost/deliveries/<int:delivery_id>/resend")
@roles_required(*STAFF)
def crosspost_resend(delivery_id: int):
    return _delivery_action(delivery_id, lambda delivery, form: crosspost.resend(delivery))


@bp.post("/registry/crosspost/deliveries/<int:delivery_id>/confirm")
@roles_required(*STAFF)
def crosspost_confirm(delivery_id: int):
    return _delivery_action(delivery_id,
                            lambda delivery, form: crosspost.confirm_posted(delivery, form.permalink.data or ""))
