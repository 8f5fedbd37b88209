"""Recording subscriber counts (flush only; the job commits).

A count is one row per account per city day. A failed fetch leaves the day without a
row (a gap) and is recorded on the account's ``CollectorState`` of stream
``subscribers``, so the collectors admin page shows it next to the collectors' own
errors; the next run of the day tries again.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from ..extensions import db
from ..models import Account, CollectorState, utcnow
from ..models.registry import SubscriberSnapshot
from ..networks import platforms

STREAM = "subscribers"
#: networks that report a subscriber count: their specs name a counter
COUNTED_PLATFORMS = platforms(counter=True)


def accounts_due(day: date, *, refresh: bool = False) -> list[Account]:
    """Active counted accounts that have no snapshot for ``day`` yet (all with ``refresh``)."""
    query = db.select(Account).where(Account.is_active.is_(True), Account.platform.in_(COUNTED_PLATFORMS))
    if not refresh:
        taken = db.select(SubscriberSnapshot.account_id).where(SubscriberSnapshot.day == day)
        query = query.where(Account.id.not_in(taken))
    return list(db.session.scalars(query.order_by(Account.id)).all())


def _state(account_id: int) -> CollectorState:
    state = db.session.scalars(db.select(CollectorState).where(
        CollectorState.account_id == account_id, CollectorState.stream == STREAM)).first()
    if state is None:
        state = CollectorState(account_id=account_id, stream=STREAM, consecutive_failures=0, items_total=0,
                               items_today=0)
        db.session.add(state)
    return state


def record_count(account_id: int, day: date, count: int, now: datetime | None = None) -> SubscriberSnapshot:
    """Store the day's count (a later fetch on the same day replaces it) and clear the
    account's snapshot error."""
    now = now or utcnow()
    snapshot = db.session.scalars(db.select(SubscriberSnapshot).where(
        SubscriberSnapshot.account_id == account_id, SubscriberSnapshot.day == day)).first()
    if snapshot is None:
        snapshot = SubscriberSnapshot(account_id=account_id, day=day)
        db.session.add(snapshot)
    snapshot.count, snapshot.taken_at = int(count), now
    state = _state(account_id)
    # last_success_at stays empty on purpose: the collectors page reads it as the
    # collector's lag, and the snapshot row itself is the record of success.
    state.last_run_at = now
    state.last_error, state.last_error_at, state.consecutive_failures = None, None, 0
    db.session.flush()
    return snapshot


def record_failure(account_id: int, error: str, now: datetime | None = None) -> None:
    now = now or utcnow()
    state = _state(account_id)
    state.last_run_at = state.last_error_at = now
    state.last_error = f"subscriber count: {error}"[:4000]
    state.consecutive_failures += 1
    db.session.flush()


@dataclass
class SnapshotFailure:
    account: Account
    error: str
    at: datetime | None
    failures: int


def snapshot_failures() -> list[SnapshotFailure]:
    """Accounts whose last subscriber count failed, newest first (for the admin page)."""
    rows = db.session.execute(
        db.select(CollectorState, Account).join(Account, Account.id == CollectorState.account_id)
        .where(CollectorState.stream == STREAM, CollectorState.last_error.is_not(None))
        .order_by(CollectorState.last_error_at.desc(), Account.id)).all()
    return [SnapshotFailure(account, state.last_error, state.last_error_at, state.consecutive_failures)
            for state, account in rows]
