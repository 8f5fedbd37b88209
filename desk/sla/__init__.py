"""Deadlines in the city's working time: calendar, policies, escalation, notifications.

``init_sla(app)`` connects the SLA operations to the ticket signals and sets up the
notification bell; ``create_app`` calls it once.
"""
from __future__ import annotations

from flask import Flask

_connected = False


def _on_opening(rows, **_):
    from .services import set_opening_deadlines

    set_opening_deadlines(rows)


def _on_status_changed(ticket, old=None, new=None, **_):
    from .services import on_status_changed

    on_status_changed(ticket, old, new)


def _on_changed(ticket, field=None, **_):
    from .services import POLICY_FIELDS, compute_deadlines

    if field in POLICY_FIELDS and ticket.is_open:
        compute_deadlines(ticket)


def connect_signals() -> None:
    """Connect once per process (blinker signals are global, apps are many in tests)."""
    global _connected
    if _connected:
        return
    from ..ingest import tickets_opening
    from ..tickets.services import ticket_changed
    from ..tickets.workflow import status_changed

    tickets_opening.connect(_on_opening)
    status_changed.connect(_on_status_changed)
    ticket_changed.connect(_on_changed)
    _connected = True


def init_sla(app: Flask) -> None:
    from ..notify import init_notify

    connect_signals()
    init_notify(app)
