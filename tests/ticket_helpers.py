"""Helpers for the ticket card tests: post a card action through its real form."""
from __future__ import annotations

from flask_babel import refresh

from desk.extensions import db
from desk.models import Ticket, TicketStatus
from desk.tickets import services
from desk.tickets.workflow import change_status

from .conftest import csrf_from


def english(client) -> None:
    """Switch the session to English so assertions read like the spec."""
    client.get("/lang/en")
    # The test's app context spans every request, so Flask-Babel's cached locale on
    # ``g`` must be dropped for the next request to pick the new language.
    refresh()


def post_action(client, ticket_id: int, action: str, data: dict | None = None, *, follow: bool = True):
    """Open the card (any page of the session carries the CSRF token) and post the action."""
    page = client.get(f"/tickets/{ticket_id}")
    token = csrf_from(page.get_data(as_text=True))  # a 404 page has it too (logout form)
    return client.post(f"/tickets/{ticket_id}/{action}", data={"csrf_token": token, **(data or {})},
                       follow_redirects=follow)


def post_bulk(client, data: dict, *, follow: bool = True):
    token = _token_elsewhere(client)
    return client.post("/tickets/bulk", data={"csrf_token": token, **data}, follow_redirects=follow)


def _token_elsewhere(client) -> str:
    # The logout form in the top bar carries the session's token on every page, 404 included.
    return csrf_from(client.get("/tickets/0").get_data(as_text=True))


def fresh(ticket: Ticket) -> Ticket:
    db.session.expire_all()
    return db.session.get(Ticket, ticket.id)


def routed(make, department, operator, **kw) -> Ticket:
    ticket = make.ticket(**kw)
    services.route(ticket, operator, department=department)
    db.session.commit()
    return ticket


def in_status(make, department, operator, *statuses: TicketStatus, **kw) -> Ticket:
    ticket = routed(make, department, operator, **kw)
    for status in statuses:
        change_status(ticket, status, operator)
    db.session.commit()
    return ticket


def log_out(client) -> None:
    client.post("/logout", data={"csrf_token": _token_elsewhere(client)})
