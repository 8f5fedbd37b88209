"""Working-time arithmetic of the business calendar: known dates of 2025–2026 and properties."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desk.sla.calendar import BusinessCalendar, calendar_from_file, read_calendar_file
from desk.sla.deadlines import shift_for_pause

YAKUTSK = ZoneInfo("Asia/Yakutsk")
CAL = calendar_from_file()
H = timedelta(hours=1)


def local(y, m, d, h=0, mi=0) -> datetime:
    """A moment given in Yakutsk wall-clock time, as aware UTC."""
    return datetime(y, m, d, h, mi, tzinfo=YAKUTSK).astimezone(UTC)


def test_ticket_at_1730_on_shortened_friday_7_march_2025_starts_on_monday():
    # 7 March 2025 is a pre-holiday day ending at 17:00; 8–9 March are the weekend.
    assert not CAL.is_working_moment(local(2025, 3, 7, 17, 30))
    assert CAL.add_working_time(local(2025, 3, 7, 17, 30), H) == local(2025, 3, 10, 10)
    assert CAL.working_time_between(local(2025, 3, 7, 9), local(2025, 3, 7, 18)) == 7 * H


def test_may_holidays_2025_are_skipped():
    # 30 April is shortened; 1–4 and 8–11 May are days off (2 and 8 May by transfer).
    assert CAL.add_working_time(local(2025, 4, 30, 16), 2 * H) == local(2025, 5, 5, 10)
    assert CAL.add_working_time(local(2025, 5, 7, 17), 2 * H) == local(2025, 5, 12, 10)
    assert CAL.working_time_between(local(2025, 4, 30, 0), local(2025, 5, 12, 0)) == (7 + 8 * 3) * H  # 30 Apr + 5, 6, 7 May


def test_working_saturday_1_november_2025_is_a_shortened_working_day():
    assert CAL.is_working_moment(local(2025, 11, 1, 10))
    assert CAL.working_length(date(2025, 11, 1)) == 7 * H
    assert CAL.add_working_time(local(2025, 10, 31, 17), 2 * H) == local(2025, 11, 1, 10)
    # 3 November (transfer) and 4 November (holiday) are off.
    assert CAL.add_working_time(local(2025, 11, 1, 16), 2 * H) == local(2025, 11, 5, 10)


def test_transfers_of_2026():
    # 31 Dec 2025 and 1–11 Jan 2026 are off (9 Jan by transfer from 3 Jan).
    assert CAL.add_working_time(local(2025, 12, 30, 17), 2 * H) == local(2026, 1, 12, 10)
    assert not CAL.is_working_day(date(2026, 3, 9))  # 8 March falls on a Sunday
    assert CAL.working_length(date(2026, 4, 30)) == 7 * H
    assert not CAL.is_working_day(date(2026, 12, 31))


@pytest.mark.parametrize("year, days, hours", [(2025, 247, 1972), (2026, 247, 1972)])
def test_yearly_norm_of_working_time(year, days, hours):
    # The official norms of a 40-hour week (Mintrud): 2025 — 247 days, 1972 h; 2026 — 247 days, 1972 h (four shortened days each).
    all_days = [date(year, 1, 1) + timedelta(days=i) for i in range((date(year + 1, 1, 1) - date(year, 1, 1)).days)]
    assert sum(CAL.is_working_day(d) for d in all_days) == days
    assert CAL.working_time_between(local(year, 1, 1), local(year + 1, 1, 1)) == hours * H


def test_lunch_break_is_not_working_time():
    assert not CAL.is_working_moment(local(2025, 1, 13, 13, 30))
    assert CAL.add_working_time(local(2025, 1, 13, 12, 30), H) == local(2025, 1, 13, 14, 30)
    assert CAL.add_working_time(local(2025, 1, 13, 12), H) == local(2025, 1, 13, 13)  # ends at lunch, not after


def test_time_zone_edges():
    # Sunday 23:30 UTC is already Monday 08:30 in Yakutsk (UTC+9).
    sunday_utc = datetime(2025, 1, 12, 23, 30, tzinfo=UTC)
    assert CAL.add_working_time(sunday_utc, timedelta(minutes=30)) == datetime(2025, 1, 13, 0, 30, tzinfo=UTC)
    # Friday 09:00 UTC is 18:00 in Yakutsk: the week is over.
    assert not CAL.is_working_moment(datetime(2025, 1, 17, 9, 0, tzinfo=UTC))
    assert CAL.is_working_moment(datetime(2025, 1, 17, 8, 59, tzinfo=UTC))
    moscow = BusinessCalendar("Europe/Moscow", days=CAL.days)
    assert moscow.is_working_moment(datetime(2025, 1, 17, 9, 0, tzinfo=UTC))  # 12:00 in Moscow


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        CAL.add_working_time(datetime(2025, 1, 13, 10), H)


def test_add_working_days_ends_at_the_end_of_the_nth_working_day():
    # From Friday 7 March 2025: Mon 10, Tue 11, Wed 12 March.
    assert CAL.add_working_days(local(2025, 3, 7, 10), 3) == local(2025, 3, 12, 18)
    assert CAL.add_working_days(local(2025, 4, 29, 10), 2) == local(2025, 5, 5, 18)


def test_bundled_file_cites_its_decrees_and_marks_2027_provisional():
    entries = read_calendar_file()
    sources = {e.day.year: e.source for e in entries}
    assert "1335" in sources[2025] and "04.10.2024" in sources[2025]
    assert "1466" in sources[2026] and "24.09.2025" in sources[2026]
    assert sources[2027].startswith("PROVISIONAL")


moments = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 1)) \
    .map(lambda d: d.replace(microsecond=0, tzinfo=UTC))
amounts = st.integers(min_value=0, max_value=300 * 3600).map(lambda s: timedelta(seconds=s))


@settings(max_examples=300, deadline=None)
@given(moments, moments, amounts)
def test_adding_working_time_is_monotonic_in_the_start(a, b, amount):
    a, b = min(a, b), max(a, b)
    assert CAL.add_working_time(a, amount) <= CAL.add_working_time(b, amount)


@settings(max_examples=300, deadline=None)
@given(moments, amounts, amounts)
def test_adding_more_working_time_never_ends_earlier(a, x, y):
    x, y = min(x, y), max(x, y)
    assert CAL.add_working_time(a, x) <= CAL.add_working_time(a, y)


@settings(max_examples=300, deadline=None)
@given(moments, amounts)
def test_add_then_between_round_trips(a, amount):
    assert CAL.working_time_between(a, CAL.add_working_time(a, amount)) == amount


@settings(max_examples=200, deadline=None)
@given(moments, moments, moments)
def test_working_time_between_is_additive(a, b, c):
    a, b, c = sorted([a, b, c])
    assert CAL.working_time_between(a, b) + CAL.working_time_between(b, c) == CAL.working_time_between(a, c)
    assert CAL.working_time_between(c, a) == -CAL.working_time_between(a, c)


@settings(max_examples=300, deadline=None)
@given(moments, amounts, moments, st.integers(min_value=0, max_value=40 * 24 * 3600))
def test_pause_shifts_the_deadline_by_exactly_the_paused_working_time(created, allowed, paused_at, length):
    due = CAL.add_working_time(created, allowed)
    resumed_at = paused_at + timedelta(seconds=length)
    new_due, paused = shift_for_pause(due, paused_at, resumed_at, CAL)
    assert paused == CAL.working_time_between(paused_at, resumed_at)
    assert CAL.working_time_between(due, new_due) == paused
    assert CAL.working_time_between(created, new_due) == allowed + paused
