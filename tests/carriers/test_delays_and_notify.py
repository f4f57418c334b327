"""Delay watch over a business-day calendar, and when the shipping mail is due."""

from __future__ import annotations

from datetime import date, datetime

from bridge.carriers.delays import BusinessCalendar, InstructedOrder, find_delays
from bridge.carriers.notify import notification_due, tracking_link
from bridge.carriers.rules import Notification
from bridge.domain import JST, UTC
from tests.carriers.samples import shipped_rules

CALENDAR = BusinessCalendar(holidays=frozenset({date(2026, 11, 23)}))  # 勤労感謝の日, a Monday


def test_business_days_skip_weekends_and_holidays() -> None:
    # Friday 11-20 → Tuesday 11-24: Saturday, Sunday and the Monday holiday do not count
    assert CALENDAR.business_days_between(date(2026, 11, 20), date(2026, 11, 24)) == 1
    assert CALENDAR.business_days_between(date(2026, 11, 24), date(2026, 11, 24)) == 0
    assert CALENDAR.business_days_between(date(2026, 11, 25), date(2026, 11, 24)) == 0


def test_calendar_from_the_shipped_rules() -> None:
    calendar = BusinessCalendar.from_rules(shipped_rules().delay_watch)
    assert not calendar.is_business_day(date(2026, 11, 23)) and calendar.is_business_day(date(2026, 11, 24))
    assert not calendar.is_business_day(date(2026, 11, 28))  # Saturday
    # national holidays come from jpholiday, for any year, without a list in the rules
    assert not calendar.is_business_day(date(2030, 1, 14))  # 成人の日 2030 (second Monday of January)
    assert not calendar.is_business_day(date(2026, 9, 22))  # 国民の休日 between 敬老の日 and 秋分の日
    assert not calendar.is_business_day(date(2026, 12, 30))  # the shop's own day off (rules: holidays)
    assert calendar.is_business_day(date(2030, 1, 15))


def test_orders_over_the_limit_or_past_the_requested_date() -> None:
    now = datetime(2026, 11, 26, 10, 0, tzinfo=JST)  # Thursday
    orders = [
        InstructedOrder(1, datetime(2026, 11, 20, 9, 0, tzinfo=JST), carrier="yamato"),  # Fri: 3 business days
        InstructedOrder(2, datetime(2026, 11, 24, 9, 0, tzinfo=JST)),  # Tue: 2, at the limit
        InstructedOrder(3, datetime(2026, 11, 25, 9, 0, tzinfo=JST), requested_date=date(2026, 11, 25)),
        InstructedOrder(4, datetime(2026, 11, 25, 9, 0, tzinfo=JST), requested_date=date(2026, 11, 26)),
    ]
    delays = find_delays(orders, CALENDAR, now, max_business_days=2)
    assert [(d.order_id, d.business_days, d.past_requested_date) for d in delays] == [(1, 3, False), (3, 1, True)]
    assert delays[0].reasons == ("in 出荷指示 for 3 business days (limit 2) since 2026-11-20",)
    assert "requested delivery date 2026-11-25 has passed" in delays[1].reasons[0]


def test_instructed_time_is_taken_in_japan() -> None:
    # 2026-11-23 20:00 UTC is already Tuesday 11-24 in Tokyo
    late_evening = InstructedOrder(1, datetime(2026, 11, 23, 20, 0, tzinfo=UTC))
    now = datetime(2026, 11, 26, 10, 0, tzinfo=JST)
    assert find_delays([late_evening], CALENDAR, now, 1)[0].business_days == 2


def test_notification_immediately_or_at_the_next_set_time() -> None:
    shipped = datetime(2026, 11, 24, 13, 5, tzinfo=JST)
    assert notification_due(shipped, Notification()) == shipped
    timed = Notification(mode="times", times=["17:00", "12:00"])
    assert notification_due(shipped, timed) == datetime(2026, 11, 24, 17, 0, tzinfo=JST)
    evening = datetime(2026, 11, 24, 18, 0, tzinfo=JST)
    assert notification_due(evening, timed) == datetime(2026, 11, 25, 12, 0, tzinfo=JST)


def test_tracking_link_uses_the_rules_templates() -> None:
    assert tracking_link(shipped_rules(), "sagawa", "5125-4751-4334").endswith("okurijoNo=512547514334")
