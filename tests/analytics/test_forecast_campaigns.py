"""Forecasts (method, backtest MASE against seasonal naive) and campaign figures, recomputed independently."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

import pytest

from bridge.analytics.forecast import croston_sba, forecast
from bridge.analytics.periods import Period
from bridge.analytics.reports.base import Params
from bridge.analytics.reports.campaigns import campaigns
from bridge.analytics.reports.forecasts import forecasts
from bridge.domain.time import JST, business_date
from bridge.rules.campaigns import CampaignRules


def test_croston_sba_by_hand() -> None:
    series = [0, 0, 6, 0, 0, 0, 4, 0, 8]
    # demands at 2 (6), 6 (4), 8 (8); alpha 0.1: size 6 → 5.8 → 6.02; interval 3 → 3.1 → 2.99
    size = 6 + 0.1 * (4 - 6)
    size += 0.1 * (8 - size)
    interval = 3 + 0.1 * (4 - 3)
    interval += 0.1 * (2 - interval)
    assert croston_sba(series, 2) == pytest.approx([(1 - 0.05) * size / interval] * 2)


def test_seasonal_series_model_beats_naive_and_mase_is_scaled_by_in_sample_naive() -> None:
    pattern = [100, 80, 120, 150, 130, 90, 70, 60, 110, 140, 160, 200]
    series = [pattern[m % 12] + 2 * m + (3 if m % 5 == 0 else -1) for m in range(48)]
    result = forecast(series, 6, 12)
    assert result.method == "Holt-Winters"
    train, test = series[:-6], series[-6:]
    scale = sum(abs(train[i] - train[i - 12]) for i in range(12, len(train))) / (len(train) - 12)
    naive = [train[-12 + i] for i in range(6)]
    assert result.naive_mase == pytest.approx(sum(abs(a - b) for a, b in zip(test, naive)) / 6 / scale)
    assert result.beats_naive is True
    truth = [pattern[m % 12] + 2 * m for m in range(48, 54)]
    assert all(abs(a - b) < 8 for a, b in zip(result.values, truth))


def test_forecast_report_months_match_the_seed(shop) -> None:
    per_month: dict[str, Decimal] = defaultdict(Decimal)
    for o in shop.seeded.orders:
        if o.order_id not in shop.seeded.cancelled:
            per_month[business_date(o.placed_at).strftime("%Y-%m")] += sum(l.quantity * l.unit_price for l in o.lines)
    with shop.analytics.connect() as con:
        from bridge.analytics.reports.forecasts import monthly_sales
        months = monthly_sales(con, date(2026, 11, 30))
        report = forecasts(con, Params(Period(date(2026, 11, 1), date(2026, 11, 30)), options={"top_skus": 5}))
    assert [(m.strftime("%Y-%m"), v) for m, v in months] == [(k, float(per_month[k])) for k in sorted(per_month)]
    monthly = report.table("forecast_monthly").dicts()
    assert [r["month"] for r in monthly] == ["2026-12", "2027-01", "2027-02"]
    assert all(r["mase"] is not None and r["naive_mase"] is not None for r in monthly)
    weekly = report.table("forecast_weekly").dicts()
    assert len(weekly) == 5 and all(r["beats_naive"] in (True, False) for r in weekly)
    assert "MASE" in report.summary


RULES = CampaignRules.model_validate({"version": 1, "campaigns": [{
    "id": "nov-c01", "name": "11月 C01 セール", "period": {"start": "2026-11-10", "end": "2026-11-19"},
    "target": {"categories": ["C01"]}, "conditions": {"min_order_amount": 5000},
    "benefits": [{"type": "discount", "percent": 5}]}]})


def test_campaign_figures_match_the_seed(shop) -> None:
    category = {p.code: p.category_code for p in shop.seeded.products}
    cost = {p.code: p.cost_price for p in shop.seeded.products}
    start = datetime(2026, 11, 10, tzinfo=JST)
    end = datetime(2026, 11, 20, tzinfo=JST)
    length = end - start

    def matching(lo, hi):
        out = []
        for o in shop.seeded.orders:
            if o.order_id in shop.seeded.cancelled or not lo <= o.placed_at < hi:
                continue
            target = [l for l in o.lines if category[l.product_code] == "C01"]
            if target and sum(l.quantity * l.unit_price for l in o.lines) >= 5000:
                out.append((o, target))
        return out

    during, before = matching(start, end), matching(start - length, start)
    sales = sum(float(sum(l.quantity * l.unit_price for l in o.lines)) for o, _ in during)
    target_sales = sum(float(l.quantity * l.unit_price) for _, t in during for l in t)
    margin = sum(float(l.quantity * (l.unit_price - cost[l.product_code])) for _, t in during for l in t)
    base_sales = sum(float(sum(l.quantity * l.unit_price for l in o.lines)) for o, _ in before)
    base_margin = sum(float(l.quantity * (l.unit_price - cost[l.product_code])) for _, t in before for l in t)
    benefit = target_sales * 0.05
    with shop.analytics.connect() as con:
        report = campaigns(con, Params(Period(date(2026, 11, 1), date(2026, 11, 30)), options={"rules": RULES}))
    row = report.table("campaigns").dicts()[0]
    assert row["orders"] == len(during) and row["baseline_orders"] == len(before)
    assert row["sales"] == round(sales) and row["target_sales"] == round(target_sales)
    assert row["margin"] == round(margin) and row["uplift"] == round(sales - base_sales)
    assert row["benefit_cost"] == round(benefit)
    assert row["roi"] == pytest.approx((margin - base_margin - benefit) / benefit)
    assert (row["start"], row["end"]) == (date(2026, 11, 10), date(2026, 11, 19))
