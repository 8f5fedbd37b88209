"""Helpers of the SLA tests: Yakutsk wall-clock moments and a settable clock."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

YAKUTSK = ZoneInfo("Asia/Yakutsk")


def local(y, m, d, h=0, mi=0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=YAKUTSK).astimezone(UTC)


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def fake_clock(monkeypatch):
    """Replace the time seen by the SLA module and the status workflow."""
    clock = FakeClock(local(2025, 3, 7, 17, 30))
    monkeypatch.setattr("desk.sla.clock.now", clock)
    monkeypatch.setattr("desk.tickets.workflow.utcnow", clock)
    return clock
