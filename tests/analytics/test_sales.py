"""Sales figures recomputed in plain Python over the seed."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest

from bridge.analytics.periods import Period
from bridge.analytics.regions import region_of
from bridge.analytics.reports.base import Params
from bridge.analytics.reports.sales import sales
from bridge.domain.time import business_date

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))


def _expected(shop, period: Period, key_of) -> dict[str, dict[str, Decimal]]:
    costs = {p.code: p.cost_price for p in shop.seeded.products}
    groups: dict[str, dict] = defaultdict(lambda: {"orders": set(), "sales": Decimal(0), "cost": Decimal(0),
                                                   "costed": Decimal(0), "quantity": Decimal(0)})
    for order in shop.seeded.orders:
        if order.order_id in shop.seeded.cancelled:
            continue
        day = business_date(order.placed_at)
        if not period.start <= day <= period.end:
            continue
        for line in order.lines:
            g = groups[key_of(order, line)]
            g["orders"].add(order.order_id)
            amount = line.quantity * line.unit_price
            g["sales"] += amount
            g["quantity"] += line.quantity
            if costs[line.product_code] is not None:
                g["cost"] += line.quantity * costs[line.product_code]
                g["costed"] += amount
    return groups


@pytest.mark.parametrize("by, key_of", [
    ("product", lambda o, l: l.product_code),
    ("customer", lambda o, l: o.customer_code),
    ("prefecture", lambda o, l: o.shipping.prefecture),
    ("region", lambda o, l: region_of(o.shipping.prefecture)),
    ("direct_ship", lambda o, l: "direct" if o.direct_ship else "normal"),
    ("day", lambda o, l: business_date(o.placed_at).isoformat()),
])
def test_sales_by_dimension_match_the_seed(shop, by, key_of) -> None:
    with shop.analytics.connect() as con:
        report = sales(con, Params(NOVEMBER, by=by))
    expected = _expected(shop, NOVEMBER, key_of)
    got = {row["key"]: row for row in report.table(f"sales_by_{by}").dicts()}
    assert set(got) == set(expected)
    for key, e in expected.items():
        assert got[key]["orders"] == len(e["orders"])
        assert got[key]["sales"] == e["sales"]
        assert got[key]["quantity"] == e["quantity"]
        assert got[key]["margin"] == (e["costed"] - e["cost"] if e["costed"] else None)
        if e["costed"]:
            assert got[key]["margin_rate"] == pytest.approx(float((e["costed"] - e["cost"]) / e["costed"]))


def test_totals_period_over_period_and_top_n(shop) -> None:
    with shop.analytics.connect() as con:
        report = sales(con, Params(NOVEMBER, by="product", top=5))
    now = _expected(shop, NOVEMBER, lambda o, l: "all")["all"]
    before = _expected(shop, NOVEMBER.previous(), lambda o, l: "all")["all"]
    total = report.table("sales_total").dicts()[0]
    assert total["orders"] == len(now["orders"]) and total["sales"] == now["sales"]
    assert total["change"] == pytest.approx(float(now["sales"] / before["sales"] - 1))
    ytd = _expected(shop, Period(date(2026, 1, 1), NOVEMBER.end), lambda o, l: "all")["all"]
    ytd_before = _expected(shop, Period(date(2025, 1, 1), date(2025, 11, 30)), lambda o, l: "all")["all"]
    assert (total["ytd_sales"], total["ytd_last_year"]) == (ytd["sales"], ytd_before["sales"])
    rows = report.table("sales_by_product").dicts()
    per_product = _expected(shop, NOVEMBER, lambda o, l: l.product_code)
    best = sorted(per_product, key=lambda k: (-per_product[k]["sales"], k))[:5]
    assert [r["key"] for r in rows] == best
    a_year_ago = _expected(shop, NOVEMBER.year_ago(), lambda o, l: l.product_code)
    for row in rows:
        assert row["year_ago_sales"] == (a_year_ago[row["key"]]["sales"] if row["key"] in a_year_ago else None)
    assert "売上" in report.summary


def test_a_product_without_cost_counts_in_sales_not_in_margin(shop) -> None:
    with shop.analytics.connect() as con:
        report = sales(con, Params(NOVEMBER, by="category"))
    row = {r["key"]: r for r in report.table("sales_by_category").dicts()}["C99"]
    assert row["sales"] > 0 and row["cost"] is None and row["margin"] is None and row["cost_unknown_lines"] > 0
