"""Deadlines in the city's working time: calendar, policies, escalation, notifications.

Status and field changes reach the SLA one way: explicit calls from the ticket workflow
(``desk.tickets.workflow``). ``init_sla(app)`` only connects the deadlines of tickets
about to be inserted to ingest's ``tickets_opening`` hook and sets up the notification
bell; ``create_app`` calls it once.
"""
from __future__ import annotations

from flask import Flask

_connected = False


def _on_opening(rows, **_):
    from .services import set_opening_deadlines

    set_opening_deadlines(rows)


def connect_signals() -> None:
    """Connect once per process (blinker signals are global, apps are many in tests)."""
    global _connected
    if _connected:
        return
    from ..ingest import tickets_opening

    tickets_opening.connect(_on_opening)
    _connected = True


def init_sla(app: Flask) -> None:
    from ..notify import init_notify

    connect_signals()
    init_notify(app)
