"""Pages and posts of the replies feature (thin: the logic is in services/outbox).

Each post queues the rows to post and commits once; the jobs go out after the commit.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import aliased

from .. import labels
from ..auth.scope import get_ticket_or_404, login_required, roles_required, scope_of
from ..extensions import db
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..models import Category, Department, Role, Ticket
from ..models.replies import CannedReply, DeliveryState, Reply, ReplyDelivery, ReplyState
from ..outbox.problems import explain, problem
from ..refusals import flash_refusal
from ..tickets.views import card, form_errors, safe_next
from . import forms, outbox, services
from .jobs import enqueue_deliveries_after_commit
from .panel import load_panel

bp = Blueprint("replies", __name__)

labels.EVENT.update({
    "reply_written": _l("Public answer written"),
    "reply_submitted": _l("Public answer sent for approval"),
    "reply_approved": _l("Public answer approved"),
    "reply_returned": _l("Public answer sent back"),
    "reply_edited": _l("Public answer edited"),
    "reply_queued": _l("Answer queued for posting"),
    "reply_manual": _l("Answer to post by hand"),
    "reply_sending": _l("Posting the answer"),
    "reply_sent": _l("Answer posted"),
    "reply_retry": _l("Posting will be retried"),
    "reply_failed": _l("Posting failed"),
    "reply_unknown": _l("Posting outcome unknown"),
    "reply_resent": _l("Answer resent"),
    "reply_marked_sent": _l("Answer confirmed as posted"),
    "reply_echo": _l("Answer seen on the network"),
    "reply_cancelled": _l("Answer cancelled"),
})
labels.FIELD.setdefault("delivery", _l("posting"))
STATE_LABELS = {**{s.value: _l(s.label) for s in ReplyState}, **{s.value: _l(s.label) for s in DeliveryState}}


@bp.app_context_processor
def _panel_helpers() -> dict[str, Any]:
    return {"reply_panel": load_panel, "reply_state_label": lambda v: str(STATE_LABELS.get(v, v)),
            "reply_summary": services.summary_state, "reply_preview": services.preview,
            "pending_approvals": services.pending_approvals, "outbox_problem": problem, "explain_problem": explain,
            "reply_forms": {"compose": forms.ComposeForm, "approve": forms.ApproveForm,
                            "send_back": forms.SendBackForm, "confirm": forms.ConfirmForm,
                            "resend": forms.ResendForm, "empty": forms.EmptyForm}}


def _back(ticket_id: int) -> ResponseReturnValue:
    return redirect(safe_next(request.form.get("next"), url_for("tickets.card", ticket_id=ticket_id)))


def _fail(form: FlaskForm, ticket_id: int) -> ResponseReturnValue:
    flash(form_errors(form) or _("Nothing was sent."), "error")
    return _back(ticket_id)


@bp.post("/tickets/<int:ticket_id>/replies")
@login_required
def compose(ticket_id: int) -> ResponseReturnValue:
    ticket = get_ticket_or_404(ticket_id, for_update=True)
    if not current_user.has_role(*services.WRITERS):
        abort(403)
    form = forms.ComposeForm()
    if not form.validate_on_submit():
        flash(form_errors(form) or _("Nothing was sent."), "error")
        return _card_with_typed_text(ticket_id, form.text.data)
    try:
        reply = services.compose(ticket, current_user, form.text.data)
    except services.ReplyError as exc:
        db.session.rollback()
        flash_refusal(exc)
        return _card_with_typed_text(ticket_id, form.text.data)
    enqueue_deliveries_after_commit(services.to_enqueue(reply))
    db.session.commit()
    if reply.state == ReplyState.PENDING_APPROVAL.value:
        flash(_("The answer waits for an operator's approval."), "success")
    else:
        flash(services.outcome(reply), "success")
    return _back(ticket_id)


def _card_with_typed_text(ticket_id: int, text: str | None) -> tuple[str, int]:
    """The card again, its composer holding what was typed (a redirect would lose it)."""
    g.typed_reply = text or ""
    return card(ticket_id), 422


def _reply_in_scope(reply_id: int) -> Reply:
    reply = db.session.get(Reply, reply_id)
    if reply is None:
        abort(404)
    get_ticket_or_404(reply.ticket_id)  # another department's reply is a 404
    return reply


def _act_on_reply(reply: Reply, form: FlaskForm, apply: Callable[[], object], success: str | Callable[[], str],
                  *, enqueue: bool = False) -> ResponseReturnValue:
    """Validate ``form``, run ``apply`` and commit once; a refusal is flashed, never a 500.
    Deliveries are queued to go out after the commit."""
    if not form.validate_on_submit():
        return _fail(form, reply.ticket_id)
    try:
        apply()
    except services.ReplyError as exc:
        db.session.rollback()
        flash_refusal(exc)
        return _back(reply.ticket_id)
    if enqueue:
        enqueue_deliveries_after_commit(services.to_enqueue(reply))
    db.session.commit()
    flash(success() if callable(success) else success, "success")
    return _back(reply.ticket_id)


@bp.get("/replies/approvals")
@roles_required(Role.OPERATOR, Role.ADMIN)
def approvals() -> ResponseReturnValue:
    pending = db.session.scalars(db.select(Reply).where(Reply.state == ReplyState.PENDING_APPROVAL.value)
                                 .order_by(Reply.id)).all()
    return render_template("replies/approvals.html", pending=pending, approve_form=forms.ApproveForm(),
                           send_back_form=forms.SendBackForm())


@bp.post("/replies/<int:reply_id>/approve")
@roles_required(Role.OPERATOR, Role.ADMIN)
def approve(reply_id: int) -> ResponseReturnValue:
    reply = _reply_in_scope(reply_id)
    form = forms.ApproveForm()
    return _act_on_reply(reply, form, lambda: services.approve(reply, current_user, form.text.data),
                         lambda: services.outcome(reply), enqueue=True)


@bp.post("/replies/<int:reply_id>/send-back")
@roles_required(Role.OPERATOR, Role.ADMIN)
def send_back(reply_id: int) -> ResponseReturnValue:
    reply = _reply_in_scope(reply_id)
    form = forms.SendBackForm()
    return _act_on_reply(reply, form, lambda: services.send_back(reply, current_user, form.comment.data),
                         _("Sent back to the author."))


@bp.post("/replies/<int:reply_id>/revise")
@login_required
def revise(reply_id: int) -> ResponseReturnValue:
    reply = _reply_in_scope(reply_id)
    if not current_user.has_role(*services.WRITERS):
        abort(403)
    form = forms.ComposeForm()
    return _act_on_reply(reply, form, lambda: services.revise(reply, current_user, form.text.data),
                         _("The answer waits for an operator's approval."))


@bp.get("/replies/outbox")
@roles_required(Role.OPERATOR, Role.ADMIN, Role.DEPARTMENT_HEAD)
def attention() -> ResponseReturnValue:
    """Rows a person must look at: unknown outcome, failed, and OK's to post by hand. A
    department head sees the rows of the department's own tickets (both the incident and
    the thread posted to must be theirs, as on the card)."""
    incident, thread = aliased(Ticket), aliased(Ticket)
    rows = db.session.scalars(
        db.select(ReplyDelivery)
        .join(Reply, Reply.id == ReplyDelivery.reply_id)
        .join(incident, incident.id == Reply.ticket_id).join(thread, thread.id == ReplyDelivery.ticket_id)
        .where(ReplyDelivery.state.in_(
            [DeliveryState.UNKNOWN.value, DeliveryState.FAILED.value, DeliveryState.MANUAL.value]),
            scope_of(current_user, incident), scope_of(current_user, thread))
        .order_by(ReplyDelivery.state.desc(), ReplyDelivery.id)).all()
    return render_template("replies/outbox.html", rows=rows)


def _delivery_in_scope(delivery_id: int) -> ReplyDelivery:
    """The outbox row, if both the incident it answers and the resident thread it posts
    to are the user's to see (a thread merged in from another department is not)."""
    delivery = db.session.get(ReplyDelivery, delivery_id)
    if delivery is None:
        abort(404)
    get_ticket_or_404(delivery.reply.ticket_id)
    if delivery.ticket_id != delivery.reply.ticket_id:
        get_ticket_or_404(delivery.ticket_id)
    return delivery


@bp.post("/replies/deliveries/<int:delivery_id>/<action>")
@login_required
def delivery_action(delivery_id: int, action: str) -> ResponseReturnValue:
    delivery = _delivery_in_scope(delivery_id)
    ticket_id = delivery.reply.ticket_id
    if not current_user.has_role(*services.WRITERS):
        abort(403)
    if action == "confirm":
        form = forms.ConfirmForm()
    elif action == "resend":
        form = forms.ResendForm()
    elif action == "cancel":
        form = forms.EmptyForm()
    else:
        abort(404)
    if not form.validate_on_submit():
        return _fail(form, ticket_id)
    try:
        if action == "confirm":
            outbox.confirm_by_hand(delivery, current_user, form.permalink.data or "")
        elif action == "resend":
            outbox.resend(delivery, current_user, form.text.data)
        else:
            outbox.cancel(delivery, current_user)
    except outbox.DeliveryError as exc:
        db.session.rollback()
        flash_refusal(exc)
        return _back(ticket_id)
    if action == "resend":
        enqueue_deliveries_after_commit([delivery.id])
    db.session.commit()
    flash(_("Saved."), "success")
    return _back(ticket_id)


# --- canned replies (everyone who writes answers) ---------------------------------------------
# Administrators and operators manage every canned reply; a department head manages the
# department's own and sees the city-wide ones (read-only).


def _may_manage(item: CannedReply) -> bool:
    if current_user.has_role(Role.ADMIN, Role.OPERATOR):
        return True
    return item.department_id is not None and item.department_id == current_user.department_id


def _canned_form(item: CannedReply | None = None) -> forms.CannedForm:
    form = forms.CannedForm(obj=item)
    none = [("", "—")]
    departments = db.select(Department).where(Department.is_active.is_(True)).order_by(Department.name)
    if current_user.has_role(Role.DEPARTMENT_HEAD):
        departments = departments.where(Department.id == current_user.department_id)
        none = []  # a head's replies are the department's
    form.department_id.choices = none + [(str(d.id), d.name) for d in db.session.scalars(departments)]
    form.category_id.choices = [("", "—")] + [(str(c.id), c.name) for c in db.session.scalars(
        db.select(Category).where(Category.is_active.is_(True)).order_by(Category.name))]
    return form


def _visible_canned() -> list[CannedReply]:
    query = db.select(CannedReply).order_by(CannedReply.is_active.desc(), CannedReply.title)
    if current_user.has_role(Role.DEPARTMENT_HEAD):
        query = query.where(db.or_(CannedReply.department_id == current_user.department_id,
                                   CannedReply.department_id.is_(None)))
    return list(db.session.scalars(query))


def _canned_page(editing: CannedReply | None) -> ResponseReturnValue:
    """The list with the editor: a new canned reply (``editing`` None) or that one."""
    form = _canned_form(editing)
    if request.method == "POST":
        if form.validate_on_submit():
            item = editing or CannedReply()
            item.title, item.body = form.title.data.strip(), form.body.data.strip()
            item.department_id, item.category_id = form.department_id.data, form.category_id.data
            db.session.add(item)
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for(".canned"))
        flash(form_errors(form), "error")
    return render_template("replies/canned.html", form=form, items=_visible_canned(),
                           toggle_form=forms.EmptyForm(), may_manage=_may_manage, editing=editing)


@bp.route("/replies/canned", methods=["GET", "POST"])
@roles_required(*services.WRITERS)
def canned() -> ResponseReturnValue:
    return _canned_page(None)


def _manageable_or_404(canned_id: int) -> CannedReply:
    item = db.session.get(CannedReply, canned_id) if 0 < canned_id < 2**31 else None
    if item is None or not _may_manage(item):
        abort(404)
    return item


@bp.route("/replies/canned/<int:canned_id>", methods=["GET", "POST"])
@roles_required(*services.WRITERS)
def edit_canned(canned_id: int) -> ResponseReturnValue:
    return _canned_page(_manageable_or_404(canned_id))


@bp.post("/replies/canned/<int:canned_id>/toggle")
@roles_required(*services.WRITERS)
def toggle_canned(canned_id: int) -> ResponseReturnValue:
    item = _manageable_or_404(canned_id)
    if forms.EmptyForm().validate_on_submit():
        item.is_active = not item.is_active
        db.session.commit()
    return redirect(url_for(".canned"))
