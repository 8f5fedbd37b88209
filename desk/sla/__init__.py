"""Deadlines in the city's working time: calendar, policies, escalation, notifications.

The SLA is reached one way: explicit calls, from the ticket workflow
(``desk.tickets.workflow``) for status and field changes and from ingest
(:func:`desk.sla.services.set_opening_deadlines`) for new tickets. Blinker signals are
only for optional listeners such as the notification bell, which ``init_sla(app)`` sets
up; ``create_app`` calls it once.
"""
from __future__ import annotations

from flask import Flask


def init_sla(app: Flask) -> None:
    from ..notify import init_notify

    init_notify(app)
