"""``/admin/collectors`` (administrators only): collector health and the dead letters,
with Replay (queued for the worker) and Discard."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import jobs
from ..auth.scope import restrict_blueprint
from ..extensions import db
from ..models import Account, DeadLetter, Role
from ..undo import offer_undo
from . import services
from .forms import ActionForm

bp = Blueprint("collectors", __name__, url_prefix="/admin/collectors")
PAYLOAD_SHOWN = 4000


restrict_blueprint(bp, Role.ADMIN)


def _pending_letter_or_404(letter_id: int) -> DeadLetter:
    letter = db.session.get(DeadLetter, letter_id)
    if letter is None or letter.status != "pending":
        abort(404)
    return letter


@bp.get("/")
def index():
    account = None
    account_id = request.args.get("account", type=int)
    if account_id is not None:
        account = db.session.get(Account, account_id) if 0 < account_id < 2**31 else None
        if account is None:
            abort(404)
    return render_template("collectors_admin/index.html", rows=services.collector_rows(),
                           letters=services.pending_dead_letters(account_id=account_id), account=account,
                           action=ActionForm(), payload_shown=PAYLOAD_SHOWN)


@bp.post("/dead-letters/<int:letter_id>/replay")
def replay(letter_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    letter = _pending_letter_or_404(letter_id)
    jobs.enqueue_after_commit(jobs.REPLAY_DEAD_LETTER, letter.id)
    db.session.commit()  # nothing written: ends the read and sends the job
    flash(_("Replay of dead letter %(id)s is queued; the list updates when the worker has run it.",
            id=letter.id), "success")
    return redirect(url_for("collectors.index"))


@bp.post("/dead-letters/<int:letter_id>/discard")
def discard(letter_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    letter = _pending_letter_or_404(letter_id)
    services.discard_dead_letter(letter)
    db.session.commit()
    flash(_("Dead letter %(id)s discarded.", id=letter_id), "success")
    offer_undo(_("Changed your mind?"), url_for("collectors.restore", letter_id=letter_id))
    return redirect(url_for("collectors.index"))


@bp.post("/dead-letters/<int:letter_id>/restore")
def restore(letter_id: int):
    """Undo a discard: the letter waits for a replay again."""
    if not ActionForm().validate_on_submit():
        abort(400)
    letter = db.session.get(DeadLetter, letter_id) if 0 < letter_id < 2**31 else None
    if letter is None or letter.status != "discarded":
        abort(404)
    services.restore_dead_letter(letter)
    db.session.commit()
    flash(_("Dead letter %(id)s is back in the list.", id=letter_id), "success")
    return redirect(url_for("collectors.index"))
