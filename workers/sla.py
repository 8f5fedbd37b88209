"""SLA jobs: periodic escalation and deadline recomputation (run inside the app context)."""
from __future__ import annotations

from datetime import datetime

from desk.extensions import db
from desk.notify.services import email_pending
from desk.sla import clock
from desk.sla.escalation import email_subject, escalate_open_tickets
from desk.sla.services import recompute_open_tickets


def escalate(now_iso: str | None = None) -> dict[str, int]:
    """Warn and escalate open tickets as of ``now_iso`` (default: now); idempotent.

    Notices are committed first, e-mailed afterwards; ``emailed_at`` keeps a re-run
    from mailing twice.
    """
    now = datetime.fromisoformat(now_iso) if now_iso else clock.now()
    result = escalate_open_tickets(now)
    db.session.commit()
    sent = email_pending(result.notification_ids, email_subject)
    db.session.commit()
    return {"warned": result.warned, "breached": result.breached,
            "notifications": len(result.notification_ids), "emailed": sent}


def recompute_deadlines() -> int:
    """Recompute the deadlines of every open ticket (after an SLA policy changed)."""
    count = recompute_open_tickets()
    db.session.commit()
    return count
