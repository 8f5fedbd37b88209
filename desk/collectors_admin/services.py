"""What the collectors page shows: per-account health, pending deliveries, dead letters."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..extensions import db
from ..models import Account, CollectorState, DeadLetter, WebhookDelivery, utcnow


@dataclass
class CollectorRow:
    account: Account
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    failures: int
    lag_seconds: int | None  # since the last successful run (poll or webhook)
    items_today: int
    pending_deliveries: int
    dead_letters: int = 0  # pending: messages of this account that could not be read or stored
    last_dead_error: str | None = None
    last_dead_at: datetime | None = None


def collector_rows(now: datetime | None = None) -> list[CollectorRow]:
    now = now or utcnow()
    today = now.date()
    states: dict[int, list[CollectorState]] = {}
    for state in db.session.scalars(db.select(CollectorState)).all():
        states.setdefault(state.account_id, []).append(state)
    pending = dict(db.session.execute(
        db.select(WebhookDelivery.account_id, db.func.count())
        .where(WebhookDelivery.processed_at.is_(None)).group_by(WebhookDelivery.account_id)).all())
    dead = _dead_letters_by_account()
    rows = []
    networks = db.select(Account).where(Account.on_networks()).order_by(Account.platform, Account.name)
    for account in db.session.scalars(networks).all():
        mine = states.get(account.id, [])
        successes = [s.last_success_at for s in mine if s.last_success_at]
        errors = sorted((s for s in mine if s.last_error), key=lambda s: s.last_error_at or now, reverse=True)
        last_success = max(successes) if successes else None
        rows.append(CollectorRow(
            account=account,
            last_success_at=last_success,
            last_error=errors[0].last_error if errors else None,
            last_error_at=errors[0].last_error_at if errors else None,
            failures=sum(s.consecutive_failures for s in mine),
            lag_seconds=int((now - last_success).total_seconds()) if last_success else None,
            items_today=sum(s.items_today for s in mine if s.items_day == today),
            pending_deliveries=pending.get(account.id, 0),
        ))
        count, latest = dead.get(account.id, (0, None))
        if latest is not None:
            rows[-1].dead_letters = count
            rows[-1].last_dead_error, rows[-1].last_dead_at = latest.error, latest.created_at
    return rows


def _dead_letters_by_account() -> dict[int, tuple[int, DeadLetter | None]]:
    """Per account: how many dead letters wait, and the newest of them (two queries)."""
    counts = db.session.execute(
        db.select(DeadLetter.account_id, db.func.count(), db.func.max(DeadLetter.id))
        .where(DeadLetter.status == "pending", DeadLetter.account_id.is_not(None))
        .group_by(DeadLetter.account_id)).all()
    if not counts:
        return {}
    newest = {letter.id: letter for letter in db.session.scalars(
        db.select(DeadLetter).where(DeadLetter.id.in_([row[2] for row in counts])))}
    return {account_id: (count, newest.get(newest_id)) for account_id, count, newest_id in counts}


def pending_dead_letters(limit: int = 100, account_id: int | None = None) -> list[DeadLetter]:
    query = db.select(DeadLetter).where(DeadLetter.status == "pending")
    if account_id is not None:
        query = query.where(DeadLetter.account_id == account_id)
    return list(db.session.scalars(query.order_by(DeadLetter.id.desc()).limit(limit)).all())


def discard_dead_letter(letter: DeadLetter) -> None:
    letter.status = "discarded"
    db.session.flush()


def restore_dead_letter(letter: DeadLetter) -> None:
    letter.status = "pending"
    db.session.flush()
