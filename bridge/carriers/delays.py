"""Delay watch: orders still in 出荷指示 after N business days, or past the customer's requested delivery date.

Pure: the caller passes the orders, the calendar (from ``delay_watch`` in rules/shipping.yaml) and now, and
raises the alert and event for each ``Delay``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bridge.carriers.rules import DelayWatch
from bridge.domain.time import business_date
from bridge.i18n import _


@dataclass(frozen=True, slots=True)
class InstructedOrder:
    order_id: int
    instructed_at: datetime  # when the order entered 出荷指示
    requested_date: date | None = None  # お届け希望日
    carrier: str = ""


@dataclass(frozen=True, slots=True)
class Delay:
    order_id: int
    carrier: str
    business_days: int  # business days spent in 出荷指示 so far
    reasons: tuple[str, ...]
    past_requested_date: bool


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    weekend: frozenset[int] = frozenset({5, 6})  # date.weekday(): Saturday, Sunday
    holidays: frozenset[date] = frozenset()  # the shop's own days off
    national_holidays: bool = False  # Japan's 祝日 from jpholiday (the rules default it to on)

    @classmethod
    def from_rules(cls, watch: DelayWatch) -> BusinessCalendar:
        return cls(watch.weekend_numbers(), frozenset(watch.holidays), watch.national_holidays)

    def is_business_day(self, day: date) -> bool:
        if day.weekday() in self.weekend or day in self.holidays:
            return False
        if self.national_holidays:
            import jpholiday

            return not jpholiday.is_holiday(day)
        return True

    def business_days_between(self, start: date, end: date) -> int:
        """Business days after ``start`` up to and including ``end`` (0 when end ≤ start)."""
        count, day = 0, start + timedelta(days=1)
        while day <= end:
            count += self.is_business_day(day)
            day += timedelta(days=1)
        return count


def find_delays(orders: Iterable[InstructedOrder], calendar: BusinessCalendar, now: datetime,
                max_business_days: int) -> list[Delay]:
    """Every order over the limit or past its requested date, in order-id order, with the reasons."""
    today = business_date(now)
    delays: list[Delay] = []
    for order in sorted(orders, key=lambda o: o.order_id):
        elapsed = calendar.business_days_between(business_date(order.instructed_at), today)
        reasons: list[str] = []
        if elapsed > max_business_days:
            reasons.append(_("in 出荷指示 for {elapsed} business days (limit {max_business_days}) since {since}").format(
                               elapsed=elapsed, max_business_days=max_business_days,
                               since=business_date(order.instructed_at)))
        late = order.requested_date is not None and today > order.requested_date
        if late:
            reasons.append(_("requested delivery date {requested_date} has passed and it is not shipped").format(
                               requested_date=order.requested_date))
        if reasons:
            delays.append(Delay(order.order_id, order.carrier, elapsed, tuple(reasons), late))
    return delays
