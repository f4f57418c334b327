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
    """Net of returns: a returned product is a negative line of its order on the return's JST day, costed as the
    order (the seed's costs never change); key_of(order, product_code, day)."""
    costs = {p.code: p.cost_price for p in shop.seeded.products}
    orders = {o.order_id: o for o in shop.seeded.orders}
    groups: dict[str, dict] = defaultdict(lambda: {"orders": set(), "sales": Decimal(0), "cost": Decimal(0),
                                                   "costed": Decimal(0), "quantity": Decimal(0),
                                                   "returns": Decimal(0), "has_cost": False})

    def add(order, code, day, quantity, amount, returned) -> None:
        g = groups[key_of(order, code, day)]
        if not returned:
            g["orders"].add(order.order_id)
        sign = -1 if returned else 1
        g["sales"] += sign * amount
        g["quantity"] += sign * quantity
        g["returns"] += amount if returned else 0
        if costs[code] is not None:
            g["has_cost"] = True
            g["cost"] += sign * quantity * costs[code]
            g["costed"] += sign * amount

    for order in shop.seeded.orders:
        if order.order_id in shop.seeded.cancelled:
            continue
        day = business_date(order.placed_at)
        if period.start <= day <= period.end:
            for line in order.lines:
                add(order, line.product_code, day, line.quantity, line.quantity * line.unit_price, False)
    for item in shop.seeded.returns:
        day = business_date(item.returned_at)
        if item.order_id not in shop.seeded.cancelled and period.start <= day <= period.end:
            add(orders[item.order_id], item.product_code, day, item.quantity, item.amount, True)
    return groups


@pytest.mark.parametrize("by, key_of", [
    ("product", lambda o, code, day: code),
    ("customer", lambda o, code, day: o.customer_code),
    ("prefecture", lambda o, code, day: o.shipping.prefecture),
    ("region", lambda o, code, day: region_of(o.shipping.prefecture)),
    ("direct_ship", lambda o, code, day: "direct" if o.direct_ship else "normal"),
    ("day", lambda o, code, day: day.isoformat()),
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
        assert got[key]["returns"] == e["returns"]
        assert got[key]["margin"] == (e["costed"] - e["cost"] if e["has_cost"] else None)
        if e["costed"]:
            assert got[key]["margin_rate"] == pytest.approx(float((e["costed"] - e["cost"]) / e["costed"]))


def test_totals_period_over_period_and_top_n(shop) -> None:
    with shop.analytics.connect() as con:
        report = sales(con, Params(NOVEMBER, by="product", top=5))
    now = _expected(shop, NOVEMBER, lambda o, code, day: "all")["all"]
    before = _expected(shop, NOVEMBER.previous(), lambda o, code, day: "all")["all"]
    total = report.table("sales_total").dicts()[0]
    assert total["orders"] == len(now["orders"]) and total["sales"] == now["sales"]
    assert total["returns"] == now["returns"] > 0
    assert total["change"] == pytest.approx(float(now["sales"] / before["sales"] - 1))
    ytd = _expected(shop, Period(date(2026, 1, 1), NOVEMBER.end), lambda o, code, day: "all")["all"]
    ytd_before = _expected(shop, Period(date(2025, 1, 1), date(2025, 11, 30)), lambda o, code, day: "all")["all"]
    assert (total["ytd_sales"], total["ytd_last_year"]) == (ytd["sales"], ytd_before["sales"])
    rows = report.table("sales_by_product").dicts()
    per_product = _expected(shop, NOVEMBER, lambda o, code, day: code)
    best = sorted(per_product, key=lambda k: (-per_product[k]["sales"], k))[:5]
    assert [r["key"] for r in rows] == best
    a_year_ago = _expected(shop, NOVEMBER.year_ago(), lambda o, code, day: code)
    for row in rows:
        assert row["year_ago_sales"] == (a_year_ago[row["key"]]["sales"] if row["key"] in a_year_ago else None)
    assert "売上" in report.summary


def test_a_product_without_cost_counts_in_sales_not_in_margin(shop) -> None:
    with shop.analytics.connect() as con:
        report = sales(con, Params(NOVEMBER, by="category"))
    row = {r["key"]: r for r in report.table("sales_by_category").dicts()}["C99"]
    assert row["sales"] > 0 and row["cost"] is None and row["margin"] is None and row["cost_unknown_lines"] > 0
