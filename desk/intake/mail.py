"""E-mails to residents who gave an address (web form, Open311): the confirmation with
the status link, every city answer, and each change of the incident's public status.

Each message speaks the resident's language, links their status page and carries a
one-click unsubscribe link (``List-Unsubscribe`` with ``List-Unsubscribe-Post``, RFC
8058). The jobs in ``workers/residents.py`` call :func:`mail_filed`, :func:`mail_answer`
and :func:`mail_status` after the commit; each sends a message at most once per contact
(the filing and status notes by compare-and-set on ``ResidentContact.last_notified``,
answers by a claim in Redis), and a failed send is undone so the job's retry sends it.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

from flask import current_app
from flask_babel import force_locale

from ..extensions import db
from ..i18n import gettext as _
from ..jobs import MAIL_RETRY, RESIDENT_STATUS, enqueue_after_commit
from ..labels import STATUS
from ..models import DIRECT_PLATFORMS, Ticket, TicketStatus
from ..models.intake import ResidentContact
from ..models.replies import DeliveryState, ReplyDelivery
from ..notify.mail import send_mail
from ..queue import get_redis
from ..status_page.services import public_text, status_sentence
from ..status_page.tokens import status_link
from ..tickets.services import merge_root
from ..tickets.workflow import status_changed

log = logging.getLogger(__name__)

ANSWER_CLAIM = "desk:resident-mail:answer:{delivery}:{contact}"
ANSWER_CLAIM_SECONDS = 90 * 24 * 3600


class MailNotSent(RuntimeError):
    """The SMTP server did not take a message: the job fails and RQ retries it."""


@dataclass(frozen=True)
class Letter:
    subject: str
    body: str


def _lang(contact: ResidentContact) -> str:
    """The public pages' language switch for the resident's language (Russian is the default)."""
    return "?lang=en" if contact.locale == "en" else ""


def unsubscribe_link(contact: ResidentContact) -> str:
    return current_app.config["DESK_PUBLIC_URL"].rstrip("/") + f"/unsubscribe/{contact.token}{_lang(contact)}"


def _headers(contact: ResidentContact) -> dict[str, str]:
    return {"List-Unsubscribe": f"<{unsubscribe_link(contact)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def _footer(contact: ResidentContact, ticket: Ticket) -> str:
    return "\n\n".join([
        _("Follow your appeal: %(link)s", link=status_link(ticket) + _lang(contact)),
        _("You receive this letter because you gave your e-mail when you filed the appeal. "
          "Stop these letters: %(link)s", link=unsubscribe_link(contact)),
    ])


def _greeting(contact: ResidentContact) -> str:
    return _("Hello, %(name)s!", name=contact.name) if contact.name else _("Hello!")


def filed_letter(contact: ResidentContact, ticket: Ticket) -> Letter:
    subject = _("Your appeal No. %(number)s has been received", number=ticket.id)
    body = "\n\n".join([
        _greeting(contact),
        _("Your appeal No. %(number)s has been received and registered. The city will pass it to "
          "the department that must solve it.", number=ticket.id),
        _("We will write to you when the city answers and when the status of the appeal changes."),
        _footer(contact, ticket)])
    return Letter(subject, body)


def answer_letter(contact: ResidentContact, ticket: Ticket, root: Ticket, text: str) -> Letter:
    subject = _("The city's answer to your appeal No. %(number)s", number=root.id)
    body = "\n\n".join([
        _greeting(contact),
        _("The city has answered your appeal No. %(number)s:", number=root.id),
        public_text(text),
        _footer(contact, ticket)])
    return Letter(subject, body)


def status_letter(contact: ResidentContact, ticket: Ticket, root: Ticket) -> Letter:
    status = TicketStatus(root.status)
    subject = _("Appeal No. %(number)s: %(status)s", number=root.id, status=str(STATUS[status.value]))
    parts = [_greeting(contact)]
    if root.id != ticket.id:
        parts.append(_("Several residents reported the same problem; your appeal No. %(own)s joined "
                       "incident No. %(number)s.", own=ticket.id, number=root.id))
    parts.append(_("The status of your appeal is now: %(status)s.", status=str(STATUS[status.value])))
    parts.append(status_sentence(status, ticket.platform))
    parts.append(_footer(contact, ticket))
    return Letter(subject, "\n\n".join(p for p in parts if p))


def _send(contact: ResidentContact, build: Callable[[], Letter]) -> bool:
    """Render in the resident's language and send; whether the server took it."""
    with force_locale(contact.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        letter: Letter = build()
        headers = _headers(contact)
    return send_mail(contact.email, letter.subject, letter.body, headers=headers)


def _contacts(ticket_ids: Iterable[int]) -> list[ResidentContact]:
    ids = list(ticket_ids)
    if not ids:
        return []
    return list(db.session.scalars(db.select(ResidentContact).where(
        ResidentContact.ticket_id.in_(ids), ResidentContact.subscribed.is_(True)).order_by(ResidentContact.id)))


def _state(root: Ticket) -> str:
    return f"{root.id}:{root.status}"


def _claim_note(contact: ResidentContact, old: str | None, new: str) -> bool:
    """Compare-and-set ``last_notified``; committed at once, so a parallel job sees it."""
    done = db.session.execute(
        db.update(ResidentContact)
        .where(ResidentContact.id == contact.id,
               ResidentContact.last_notified.is_(None) if old is None else ResidentContact.last_notified == old)
        .values(last_notified=new).execution_options(synchronize_session=False))
    db.session.commit()
    return bool(getattr(done, "rowcount", 0))


def _release_note(contact: ResidentContact, old: str | None, new: str) -> None:
    db.session.execute(db.update(ResidentContact)
                       .where(ResidentContact.id == contact.id, ResidentContact.last_notified == new)
                       .values(last_notified=old).execution_options(synchronize_session=False))
    db.session.commit()


def _notify(contact: ResidentContact, old: str | None, new: str, build: Callable[[], Letter]) -> bool:
    if not _claim_note(contact, old, new):
        return False  # another job sent it
    try:
        sent = _send(contact, build)
    except Exception:
        _release_note(contact, old, new)
        raise
    if not sent and current_app.config["MAIL_SERVER"]:
        _release_note(contact, old, new)
        raise MailNotSent(f"the letter to contact {contact.id} was not taken by the mail server")
    return sent


def mail_filed(ticket_id: int) -> int:
    """The confirmation of a new appeal; returns how many letters went out."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        return 0
    root = merge_root(ticket)
    sent = 0
    for contact in _contacts([ticket.id]):
        if contact.last_notified is None and TicketStatus(root.status).public:
            sent += _notify(contact, None, _state(root), partial(filed_letter, contact, ticket))
    return sent


def mail_status(ticket_id: int) -> int:
    """Tell every subscribed resident of the incident its new public status (once per status)."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        return 0
    root = merge_root(ticket)
    if not TicketStatus(root.status).public:
        return 0  # spam, "not an appeal": nothing public to tell
    threads = {ticket.id, root.id, *db.session.scalars(db.select(Ticket.id).where(Ticket.merged_into_id == root.id))}
    sent = 0
    for contact in _contacts(threads):
        own = db.session.get(Ticket, contact.ticket_id)
        if own is None or contact.last_notified is None or contact.last_notified == _state(root):
            continue  # not confirmed yet (the confirmation tells the status), or already told
        sent += _notify(contact, contact.last_notified, _state(root),
                        partial(status_letter, contact, own, root))
    return sent


def mail_answer(delivery_id: int) -> int:
    """The city's answer published on a direct thread, to its subscribed residents."""
    delivery = db.session.get(ReplyDelivery, delivery_id)
    if delivery is None or delivery.state != DeliveryState.SENT.value:
        return 0
    ticket = delivery.ticket
    root = merge_root(ticket)
    redis = get_redis()
    sent = 0
    for contact in _contacts([ticket.id]):
        key = ANSWER_CLAIM.format(delivery=delivery.id, contact=contact.id)
        if not redis.set(key, "1", nx=True, ex=ANSWER_CLAIM_SECONDS):
            continue
        try:
            ok = _send(contact, partial(answer_letter, contact, ticket, root, delivery.text))
        except Exception:
            redis.delete(key)
            raise
        if not ok and current_app.config["MAIL_SERVER"]:
            redis.delete(key)
            raise MailNotSent(f"the answer to contact {contact.id} was not taken by the mail server")
        sent += ok
    return sent


def _wants_status_mail(ticket: Ticket) -> bool:
    """Whether a status change of ``ticket`` may concern a resident with an e-mail: it was
    filed directly, or direct threads are merged into it."""
    if ticket.platform in DIRECT_PLATFORMS:
        return True
    return db.session.scalar(db.select(Ticket.id).where(
        Ticket.merged_into_id == ticket.id, Ticket.platform.in_(DIRECT_PLATFORMS)).limit(1)) is not None


def _on_status_changed(ticket: Ticket, **_: object) -> None:
    if _wants_status_mail(ticket):
        enqueue_after_commit(RESIDENT_STATUS, ticket.id, best_effort=True, retry=MAIL_RETRY)


status_changed.connect(_on_status_changed, weak=False)
