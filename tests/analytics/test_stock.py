"""Stock figures recomputed in plain Python from the seed's daily snapshots and orders."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from statistics import NormalDist, mean, stdev

import pytest

from bridge.analytics.periods import Period
from bridge.analytics.reports.base import Params
from bridge.analytics.reports.stock import stock

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))
OPTIONS = {"lead_time_days": 5, "service_level": 0.9, "review_days": 10, "lookback_days": 60,
           "slow_mover_days": 30, "rows": None}


def _daily_sold(shop) -> dict[str, dict[date, Decimal]]:
    from bridge.domain.time import business_date

    sold: dict[str, dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for order in shop.seeded.orders:
        if order.order_id in shop.seeded.cancelled:
            continue
        for line in order.lines:
            sold[line.product_code][business_date(order.placed_at)] += line.quantity
    return sold


def _stock_on(shop, code: str, day: date) -> tuple[Decimal, Decimal]:
    snapshot = shop.seeded.stock[day]
    rows = [s for s in snapshot if s.product_code == code]
    return sum((s.on_hand for s in rows), Decimal(0)), sum((s.on_order for s in rows), Decimal(0))


@pytest.fixture(scope="module")
def report(shop):
    with shop.analytics.connect() as con:
        return stock(con, Params(NOVEMBER, options=OPTIONS))


def test_turnover_cover_and_stockouts_match_the_seed(shop, report) -> None:
    sold = _daily_sold(shop)
    costs = {p.code: p.cost_price for p in shop.seeded.products}
    days = [NOVEMBER.start + timedelta(days=n) for n in range(NOVEMBER.days)]
    rows = {r["product_code"]: r for r in report.table("stock_by_sku").dicts()}
    checked = 0
    for product in shop.seeded.products:
        code = product.code
        daily = [_stock_on(shop, code, d)[0] for d in days]
        in_period = sum((q for d, q in sold[code].items() if NOVEMBER.start <= d <= NOVEMBER.end), Decimal(0))
        row = rows[code]
        assert row["avg_qty"] == pytest.approx(float(sum(daily)) / len(days))
        assert row["on_hand"] == daily[-1]
        assert row["sold"] == float(in_period)
        if costs[code] is not None and in_period:
            cogs = float(in_period * costs[code])
            avg_value = float(sum(daily)) / len(days) * float(costs[code])
            assert row["cogs"] == pytest.approx(cogs)
            assert row["turnover"] == pytest.approx(cogs / avg_value)
            assert row["days_of_cover"] == pytest.approx(float(daily[-1]) / (float(in_period) / len(days)), abs=0.01)
            checked += 1
        if in_period:
            zeros = sum(1 for q in daily if q == 0)
            assert row["stockout_days"] == zeros
            assert row["stockout_rate"] == pytest.approx(zeros / len(days))
        else:
            assert row["stockout_days"] is None
    assert checked > 20
    with_demand = [r for r in rows.values() if r["stockout_days"] is not None]
    total = report.table("stock_total").dicts()[0]
    assert total["stockout_rate"] == pytest.approx(sum(r["stockout_days"] for r in with_demand)
                                                   / (len(with_demand) * len(days)))


def test_reorder_points_and_suggested_orders(shop, report) -> None:
    sold = _daily_sold(shop)
    window = [NOVEMBER.end - timedelta(days=n) for n in range(60)]
    z = NormalDist().inv_cdf(0.9)
    rows = {r["product_code"]: r for r in report.table("stock_by_sku").dicts()}
    suggested = 0
    for code, row in rows.items():
        series = [float(sold[code].get(d, 0)) for d in window]
        if not any(series):
            assert row["reorder_point"] is None
            continue
        point = mean(series) * 5 + z * stdev(series) * math.sqrt(5)
        assert row["reorder_point"] == pytest.approx(point, abs=0.01)
        on_hand, on_order = _stock_on(shop, code, NOVEMBER.end)
        held = float(on_hand + on_order)
        expected = math.ceil(point + mean(series) * 10 - held) if held <= point else 0
        assert row["suggested_order"] == expected
        suggested += expected > 0
    assert len(report.table("reorder").rows) == suggested


def test_slow_movers_have_stock_and_no_recent_sales(shop, report) -> None:
    sold = _daily_sold(shop)
    recent = {NOVEMBER.end - timedelta(days=n) for n in range(30)}
    expected = sorted(p.code for p in shop.seeded.products
                      if _stock_on(shop, p.code, NOVEMBER.end)[0] > 0
                      and not any(d in recent for d in sold[p.code]))
    assert sorted(r["product_code"] for r in report.table("slow_movers").dicts()) == expected
