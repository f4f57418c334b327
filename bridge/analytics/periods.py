"""Report periods: inclusive ranges of JST business dates (a JST day runs 00:00–24:00 Japan time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True, slots=True)
class Period:
    start: date  # first day, inclusive
    end: date  # last day, inclusive

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start}); give --from before --to")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length just before (period over period)."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def year_ago(self) -> Period:
        return Period(_years_back(self.start, 1), _years_back(self.end, 1))

    def year_to_date(self) -> Period:
        return Period(date(self.end.year, 1, 1), self.end)

    def label(self) -> str:
        return f"{self.start:%Y-%m-%d}〜{self.end:%Y-%m-%d}"


def _years_back(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 Feb
        return day.replace(year=day.year - years, day=28)


def day(of: date) -> Period:
    return Period(of, of)


def week(of: date) -> Period:
    """Monday to Sunday, the week holding ``of``."""
    start = of - timedelta(days=of.weekday())
    return Period(start, start + timedelta(days=6))


def month(of: date) -> Period:
    start = of.replace(day=1)
    following = (start + timedelta(days=32)).replace(day=1)
    return Period(start, following - timedelta(days=1))


def last_complete(kind: str, today: date) -> Period:
    """The period a scheduled pack run on ``today`` covers: yesterday, last week (Mon–Sun), last month."""
    if kind == "daily":
        return day(today - timedelta(days=1))
    if kind == "weekly":
        return week(today - timedelta(days=today.weekday() + 1))
    if kind == "monthly":
        return month(today.replace(day=1) - timedelta(days=1))
    raise ValueError(f"unknown period kind {kind!r}: daily, weekly or monthly")
