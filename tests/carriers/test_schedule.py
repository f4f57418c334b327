"""When a carrier's label file is due: times of day (JST, missed times caught up once) or every N minutes."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bridge.carriers.rules import Schedule
from bridge.domain.time import JST
from bridge.sync.shipping.job import is_due, last_slot

TIMES = Schedule(times=["10:00", "15:00"])


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=JST)


def test_last_slot_is_today_or_yesterday() -> None:
    assert last_slot(TIMES, at(24, 9, 59)) == at(23, 15)
    assert last_slot(TIMES, at(24, 10)) == at(24, 10)
    assert last_slot(TIMES, at(24, 23)) == at(24, 15)
    assert last_slot(Schedule(), at(24, 12)) is None


def test_times_are_due_once_per_slot() -> None:
    assert is_due(TIMES, None, at(24, 9))  # never exported: yesterday's 15:00 is caught up
    assert not is_due(TIMES, at(24, 9), at(24, 9, 59))
    assert is_due(TIMES, at(24, 9), at(24, 10))
    assert not is_due(TIMES, at(24, 10), at(24, 14, 59))
    assert is_due(TIMES, at(24, 10), at(25, 8))  # 15:00 was missed (daemon down): caught up once


def test_every_minutes() -> None:
    every = Schedule(every_minutes=30)
    assert is_due(every, None, at(24, 9))
    assert not is_due(every, at(24, 9), at(24, 9, 29))
    assert is_due(every, at(24, 9), at(24, 9, 30))


def test_manual_only_without_times() -> None:
    assert not is_due(Schedule(), None, at(24, 12))


@given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
       st.integers(min_value=1, max_value=48 * 60))
def test_a_run_right_after_an_export_is_never_due_before_the_next_slot(start: datetime, minutes: int) -> None:
    now = start.replace(tzinfo=JST)
    later = now + timedelta(minutes=minutes)
    slot = last_slot(TIMES, later)
    assert is_due(TIMES, now, later) == (slot is not None and slot > now)
