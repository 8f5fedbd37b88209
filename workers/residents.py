"""E-mails to residents who filed straight with the desk (see desk/intake/mail.py).

Each job loads fresh rows by id, sends at most once per resident, and raises when the
mail server refused a letter so that RQ retries it (the jobs are enqueued with a Retry).
"""
from __future__ import annotations

from desk.intake import mail


def mail_filed(ticket_id: int) -> int:
    return mail.mail_filed(ticket_id)


def mail_answer(delivery_id: int) -> int:
    return mail.mail_answer(delivery_id)


def mail_status(ticket_id: int) -> int:
    return mail.mail_status(ticket_id)
