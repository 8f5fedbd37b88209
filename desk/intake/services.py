"""Filing an appeal straight with the desk: the web form and Open311 call :func:`file_appeal`.

Each channel has one intake account (platform ``web`` or ``open311``, made on first use)
that the ticket and its message belong to, as a comment belongs to a network account.
The account is not on a network: :meth:`Account.on_networks` keeps it out of collectors,
the registry and the accounts admin. Only flushes; the caller commits.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from ..extensions import db
from ..ingest import InboundMessage, ingest
from ..jobs import MAIL_RETRY, RESIDENT_FILED, enqueue_after_commit
from ..links import http_url
from ..models import Account, Category, Direction, Platform, Ticket, utcnow
from ..models.intake import Open311Key, ResidentContact, Submission
from ..text import clean_text

#: the intake account of each channel, as the admin pages name it
ACCOUNT_NAMES = {Platform.WEB.value: "Сайт города", Platform.OPEN311.value: "Open311"}
MAX_DESCRIPTION = 5000


@dataclass
class Filing:
    """One appeal as a resident (web form) or a city system (Open311) files it."""

    channel: str  # Platform.WEB.value or Platform.OPEN311.value
    description: str
    category: Category | None = None
    name: str = ""
    email: str = ""
    address: str = ""
    address_id: str = ""
    lat: float | None = None
    long: float | None = None
    media_url: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    open311_key: Open311Key | None = None
    #: the resident agreed to the processing of personal data (the web form requires it)
    consent: bool = False
    photo_location_kept: bool = False
    #: the language the resident filed in: their e-mails speak it
    locale: str = "ru"
    #: Open311: answer a token the client may poll (``tokens/{id}``)
    with_token: bool = False


def intake_account(channel: str) -> Account:
    """The channel's intake account, created on first use."""
    platform = Platform(channel)
    account = db.session.scalars(db.select(Account).where(Account.platform == platform.value)
                                 .order_by(Account.id).limit(1)).first()
    if account is None:
        account = Account(platform=platform.value, name=ACCOUNT_NAMES[platform.value],
                          direction=Direction.AUTHORITIES.value, settings={}, is_active=True)
        db.session.add(account)
        db.session.flush()
    return account


def file_appeal(filing: Filing) -> tuple[Ticket, Submission]:
    """Open a ticket for ``filing`` through the one door; returns it with its submission.

    The chosen category is set on the ticket (its direction too), but the ticket stays
    ``new``: an operator routes it like any comment. The resident's e-mail, if given,
    gets a confirmation with the status link after the commit and every answer later.
    """
    account = intake_account(filing.channel)
    name = clean_text(filing.name)[:300]
    result = ingest(InboundMessage(
        account_id=account.id, external_id=f"{filing.channel}-{secrets.token_hex(12)}",
        text=clean_text(filing.description)[:MAX_DESCRIPTION], sent_at=utcnow(), author_name=name))
    ticket = db.session.get(Ticket, result.ticket_id)
    assert ticket is not None  # a new external id always opens a ticket
    if filing.category is not None:
        ticket.category_id = filing.category.id
        ticket.direction = filing.category.direction or ticket.direction
    submission = Submission(
        ticket=ticket, channel=filing.channel, category=filing.category,
        address=clean_text(filing.address)[:500], address_id=clean_text(filing.address_id)[:200],
        lat=filing.lat, long=filing.long, media_url=(http_url(filing.media_url) or "")[:1000],
        attributes=filing.attributes, open311_key=filing.open311_key,
        token=secrets.token_urlsafe(16) if filing.with_token else None,
        consent_at=utcnow() if filing.consent else None, photo_location_kept=filing.photo_location_kept)
    db.session.add(submission)
    email = (filing.email or "").strip()
    if email:
        db.session.add(ResidentContact(ticket=ticket, email=email[:320], name=name,
                                       locale=filing.locale if filing.locale in ("ru", "en") else "ru"))
    db.session.flush()
    if email:
        enqueue_after_commit(RESIDENT_FILED, ticket.id, best_effort=True, retry=MAIL_RETRY)
    return ticket, submission


def submission_of(ticket: Ticket) -> Submission | None:
    return db.session.scalars(db.select(Submission).where(Submission.ticket_id == ticket.id)).first()
