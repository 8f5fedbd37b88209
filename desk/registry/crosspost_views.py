"""Crossposting pages (managers and administrators), on the registry blueprint:
compose, list, and the status of each account's delivery."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
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
    preview = None
    if form.validate_on_submit():
        accounts = crosspost.target_accounts(form.direction.data or None, form.networks.data)
        ready = crosspost.readiness(accounts, current_app.config)
        if form.confirmed.data != "1":
            # First the preview: the text as it will go out, and which accounts cannot take it.
            preview = [(account, ready[account.id]) for account in accounts]
            form.confirmed.data = "1"
        else:
            try:
                announcement = crosspost.create_announcement(
                    form.text.data, [a for a in accounts if ready[a.id] is None], current_user,
                    form.publish_at_utc())
            except crosspost.CrosspostError as exc:
                db.session.rollback()
                form.text.errors.append(str(exc))
            else:
                crosspost.enqueue_announcement_after_commit(announcement)
                db.session.commit()
                skipped = sum(problem is not None for problem in ready.values())
                flash(_("The announcement is queued for %(n)s accounts.", n=len(announcement.deliveries))
                      + (" " + _("%(n)s accounts were left out: they cannot publish yet.", n=skipped)
                         if skipped else ""), "success")
                return redirect(url_for("registry.crosspost_status", announcement_id=announcement.id))
    return render_template("registry/crosspost.html", form=form, announcements=crosspost.recent_announcements(),
                           state_counts=crosspost.state_counts, preview=preview)


@bp.post("/registry/crosspost/<int:announcement_id>/resend-failed")
@roles_required(*STAFF)
def crosspost_resend_failed(announcement_id: int):
    announcement = db.session.get(Announcement, announcement_id) or abort(404)
    if not DeliveryActionForm().validate_on_submit():
        abort(400)
    ids = [d.id for d in announcement.deliveries if d.state == crosspost.D.FAILED.value]
    count = crosspost.resend_failed(announcement)
    for delivery_id in ids:
        crosspost.enqueue_delivery_after_commit(delivery_id)
    db.session.commit()
    flash(_("%(n)s failed deliveries are queued again.", n=count), "success")
    return redirect(url_for("registry.crosspost_status", announcement_id=announcement.id))


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
