"""Clock and time helpers: business dates are Asia/Tokyo, stored times are UTC, all are aware."""

from __future__ import annotations

import time as _time
from datetime import date, datetime, timezone
from typing import overload
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")
UTC = timezone.utc


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: every time in the bridge must be aware")
    return moment.astimezone(UTC)


def business_date(moment: datetime) -> date:
    """The date a Japanese office would write on a slip for this moment."""
    return to_utc(moment).astimezone(JST).date()


def jst_midnight(day: date) -> datetime:
    """00:00 JST of ``day`` as an aware datetime (what 新単価実施日 means)."""
    return datetime(day.year, day.month, day.day, tzinfo=JST)


def from_unix(seconds: float | int | str) -> datetime:
    return datetime.fromtimestamp(float(seconds), UTC)


def to_unix(moment: datetime) -> int:
    return int(to_utc(moment).timestamp())


@overload
def iso(moment: datetime) -> str: ...
@overload
def iso(moment: datetime | None) -> str | None: ...
def iso(moment: datetime | None) -> str | None:
    return None if moment is None else to_utc(moment).isoformat(timespec="seconds")


def parse_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Clock:
    """Wall clock and monotonic clock behind one seam, so tests can control time."""

    def now(self) -> datetime:
        return utcnow()

    def monotonic(self) -> float:
        return _time.monotonic()

    def time(self) -> float:
        return _time.time()
