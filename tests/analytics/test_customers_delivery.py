"""Customer and delivery figures recomputed in plain Python over the seed."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest

from bridge.analytics.periods import Period
from bridge.analytics.reports.base import Params
from bridge.analytics.reports.customers import customers, segment
from bridge.analytics.reports.delivery import delivery
from bridge.domain.time import business_date

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))


def _ntile(keys_sorted: list[str], buckets: int = 5) -> dict[str, int]:
    """SQL ntile: the first (n mod b) buckets get one row more."""
    n = len(keys_sorted)
    size, extra = divmod(n, buckets)
    out, index = {}, 0
    for bucket in range(1, buckets + 1):
        take = size + (1 if bucket <= extra else 0)
        for key in keys_sorted[index:index + take]:
            out[key] = bucket
        index += take
    return out


def test_customer_figures_and_rfm_match_the_seed(shop) -> None:
    end = NOVEMBER.end
    orders = defaultdict(list)
    for o in shop.seeded.orders:
        day = business_date(o.placed_at)
        if o.order_id not in shop.seeded.cancelled and day <= end:
            orders[o.customer_code].append((day, sum((l.quantity * l.unit_price for l in o.lines), Decimal(0))))
    # returns (返品), netted on their JST day against the order's customer
    by_id = {o.order_id: o for o in shop.seeded.orders}
    returned = defaultdict(list)
    for item in shop.seeded.returns:
        day = business_date(item.returned_at)
        if item.order_id not in shop.seeded.cancelled and day <= end:
            returned[by_id[item.order_id].customer_code].append((day, item.amount))
    assert any(d >= NOVEMBER.start for v in returned.values() for d, _ in v)
    with shop.analytics.connect() as con:
        report = customers(con, Params(NOVEMBER, options={"churn_factor": 1.5, "rfm_days": 180, "rows": None}))
    got = {r["customer_code"]: r for r in report.table("customers").dicts()}
    assert set(got) == set(orders)
    rfm_start = end - timedelta(days=179)
    window = {c: [x for x in v if x[0] >= rfm_start] for c, v in orders.items()}
    window = {c: v for c, v in window.items() if v}
    recency = {c: (end - max(d for d, _ in v)).days for c, v in window.items()}
    monetary = {c: sum(a for _, a in v) - sum(a for d, a in returned[c] if d >= rfm_start) for c, v in window.items()}
    r = _ntile(sorted(window, key=lambda c: (-recency[c], c)))
    f = _ntile(sorted(window, key=lambda c: (len(window[c]), c)))
    m = _ntile(sorted(window, key=lambda c: (monetary[c], c)))
    active = repeat = churn = period_orders = 0
    period_sales = Decimal(0)
    for code, placed in orders.items():
        days = sorted(d for d, _ in placed)
        row = got[code]
        in_period = [a for d, a in placed if d >= NOVEMBER.start]
        assert row["orders"] == len(placed) and row["period_orders"] == len(in_period)
        interval = (days[-1] - days[0]).days / (len(days) - 1) if len(days) > 1 else None
        assert row["interval"] == (pytest.approx(interval) if interval is not None else None)
        at_risk = interval is not None and (end - days[-1]).days > 1.5 * interval
        assert row["churn_risk"] == at_risk
        churn += at_risk
        returns_in_period = [a for d, a in returned[code] if d >= NOVEMBER.start]
        net = sum(in_period, Decimal(0)) - sum(returns_in_period, Decimal(0))
        assert row["period_sales"] == (net if in_period or returns_in_period else None)
        period_sales += net
        period_orders += len(in_period)
        if in_period:
            active += 1
            repeat += len(placed) >= 2
            assert row["aov"] == pytest.approx(float(net) / len(in_period))
            assert row["status"] == ("新規 / new" if days[0] >= NOVEMBER.start else "既存 / returning")
        if code in window:
            assert (row["r"], row["f"], row["m"]) == (r[code], f[code], m[code])
            assert row["segment"] == segment(r[code], f[code])
    total = report.table("customers_total").dicts()[0]
    assert total["customers"] == active and total["churn_risk"] == churn
    assert total["repeat_rate"] == pytest.approx(repeat / active)
    assert total["aov"] == pytest.approx(float(period_sales) / period_orders)


def test_delivery_lead_times_and_on_time_rates_match_the_seed(shop) -> None:
    s = shop.seeded
    by_carrier: dict[str, list] = defaultdict(list)
    for o in s.orders:
        shipped = s.shipped_at.get(o.order_id)
        if shipped is None or not NOVEMBER.start <= business_date(shipped) <= NOVEMBER.end:
            continue
        by_carrier[s.carrier[o.order_id]].append(o)
    with shop.analytics.connect() as con:
        report = delivery(con, Params(NOVEMBER, options={"transit_days": 2}))
    labels = {"yamato": "ヤマト運輸", "sagawa": "佐川急便", "japanpost": "日本郵便"}
    rows = {r["key"]: r for r in report.table("delivery_by_carrier").dicts()}
    assert set(rows) == {labels[c] for c in by_carrier}
    for carrier, group in by_carrier.items():
        row = rows[labels[carrier]]
        hours = [(s.shipped_at[o.order_id] - o.placed_at).total_seconds() / 3600 for o in group]
        done = [(s.completed_at[o.order_id] - o.placed_at).total_seconds() / 3600 for o in group]
        dated = [o for o in group if o.delivery_date]
        on_time = [o for o in dated if business_date(s.shipped_at[o.order_id]) + timedelta(days=2) <= o.delivery_date]
        assert row["shipped"] == len(group)
        assert row["ship_hours"] == pytest.approx(sum(hours) / len(hours), abs=0.01)
        assert row["complete_hours"] == pytest.approx(sum(done) / len(done), abs=0.01)
        assert row["with_date"] == len(dated) and row["on_time"] == len(on_time)
        assert row["direct_share"] == pytest.approx(sum(o.direct_ship for o in group) / len(group))
