"""Stock figures recomputed in plain Python from the seed's daily snapshots and orders."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from statistics import NormalDist, mean, stdev

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), st.sampled_from(["000001", "000002"]),
                          st.integers(0, 40), st.integers(-3, 30), st.integers(0, 5), st.one_of(st.none(), st.integers(0, 60))),
                min_size=1, max_size=40),
       st.integers(5, 30), st.integers(0, 25))
def test_stock_levels_match_a_day_by_day_count_over_several_warehouses(changes, start_day, length) -> None:
    """The levels query (state at the start + the period's changes as differences) against the definition: the
    stock of a SKU on a day is the Σ over its warehouses of the last figure on or before that day."""
    import importlib

    import duckdb

    from bridge.analytics.store import AnalyticsStore

    stock_module = importlib.import_module("bridge.analytics.reports.stock")  # the package's `stock` is the report

    base = date(2026, 1, 1)
    rows = {}
    for code, warehouse, day, on_hand, on_order, expected in changes:  # one row per SKU, warehouse and day
        rows[(code, warehouse, day)] = (on_hand, on_order, None if expected is None else base + timedelta(expected))
    start, end = base + timedelta(start_day), base + timedelta(start_day + length)
    con = duckdb.connect()
    AnalyticsStore._create(con)
    con.executemany("INSERT INTO stock_changes VALUES (?, ?, ?, ?, 0, ?, ?)",
                    [(c, w, base + timedelta(d), h, o, e) for (c, w, d), (h, o, e) in rows.items()])
    got = {r[0]: r[1:] for r in con.execute(stock_module._LEVELS_SQL, {"start": start, "end": end,
                                                                        "days": length + 1}).fetchall()}

    def state(code: str, warehouse: str, day: date) -> tuple[int, int, date | None]:
        known = [(d, v) for (c, w, d), v in rows.items() if c == code and w == warehouse and base + timedelta(d) <= day]
        return max(known)[1] if known else (0, 0, None)

    skus = {c for (c, w, d) in rows if base + timedelta(d) <= end}
    assert set(got) == skus
    for code in skus:
        warehouses = {w for (c, w, d) in rows if c == code and base + timedelta(d) <= end}
        days = [start + timedelta(n) for n in range(length + 1)]
        totals = [sum(state(code, w, day)[0] for w in warehouses) for day in days]
        avg_qty, zero_days, on_hand, on_order, expected = got[code]
        assert float(avg_qty) == pytest.approx(sum(totals) / len(days))
        assert zero_days == sum(1 for t in totals if t <= 0)
        assert on_hand == totals[-1]
        assert on_order == sum(state(code, w, end)[1] for w in warehouses)
        dates = [e for w in warehouses if (e := state(code, w, end)[2]) is not None]
        assert expected == (min(dates) if dates else None)
