"""Stock: turnover, days of cover, stockout rate, slow movers, reorder points and order quantities, 入荷予定.

Definitions (the tests recompute them from the seed):
* stock of a SKU on a day = Σ over warehouses of the last 在庫 figure on or before that day (changes only are
  stored, a figure holds until the next one);
* average stock at cost = mean daily stock over the period × 原価; COGS = Σ sold quantity × 原価 (sales' cost);
  turnover = COGS / average stock at cost (for the period; ``turnover_year`` scales it to 365 days);
* days of cover = stock at the end / mean daily demand of the period;
* stockout rate = SKU-days at 0 / SKU-days, over the SKUs that had demand in the period;
* slow mover = stock at the end > 0 and nothing sold in the last ``slow_mover_days`` days;
* reorder point = mean daily demand × lead time + z(service level) × σ(daily demand) × √lead time, over the last
  ``lookback_days`` days (days without orders count as 0); order-up-to = reorder point + mean demand × review days;
  suggested order = order-up-to − (stock + 発注残), rounded up, when stock + 発注残 ≤ the reorder point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from statistics import NormalDist
from typing import Any

from bridge.analytics.periods import Period
from bridge.analytics.reports.base import Chart, Column, Params, Report, Table, number

DEFAULTS = {"lead_time_days": 7, "service_level": 0.95, "review_days": 14, "lookback_days": 90,
            "slow_mover_days": 90, "rows": 500}


@dataclass(frozen=True, slots=True)
class Reorder:
    mean: float  # daily demand
    stdev: float
    reorder_point: float
    order_up_to: float


# Σ daily demand and Σ (daily demand)² per SKU with demand in the lookback window ($start … $end)
DEMAND_SUMS_SQL = """
    WITH daily AS (
        SELECT l.product_code, o.placed_day, sum(l.quantity) AS q
        FROM orders o JOIN order_lines l ON l.order_id = o.order_id
        WHERE o.state <> 'cancelled' AND o.placed_day BETWEEN $start AND $end
        GROUP BY 1, 2)
    SELECT product_code, sum(q) AS total, sum(q * q) AS squares FROM daily GROUP BY 1"""


def demand_window(end: date, options: dict[str, Any]) -> dict[str, date]:
    """The parameters of ``DEMAND_SUMS_SQL`` for the lookback window ending at ``end``."""
    days = int({**DEFAULTS, **options}["lookback_days"])
    return {"start": end - timedelta(days=days - 1), "end": end}


def reorder_of(total: Any, squares: Any, options: dict[str, Any]) -> Reorder:
    """One SKU's reorder point from its demand sums (``DEMAND_SUMS_SQL``)."""
    o = {**DEFAULTS, **options}
    days = int(o["lookback_days"])
    lead, review = float(o["lead_time_days"]), float(o["review_days"])
    z = NormalDist().inv_cdf(float(o["service_level"]))
    mean = float(total) / days
    variance = max(0.0, (float(squares) - days * mean * mean) / (days - 1)) if days > 1 else 0.0
    stdev = math.sqrt(variance)
    point = mean * lead + z * stdev * math.sqrt(lead)
    return Reorder(mean, stdev, point, point + mean * review)


def reorder_points(con: Any, end: date, options: dict[str, Any]) -> dict[str, Reorder]:
    """Per SKU with demand in the lookback window ending at ``end``."""
    rows = con.execute(DEMAND_SUMS_SQL, demand_window(end, options)).fetchall()
    return {code: reorder_of(total, squares, options) for code, total, squares in rows}


# One pass over the history up to the start (each SKU and warehouse's figures then), then only the period's
# changes, as differences summed per SKU; the same figures as valuing every SKU at every change day, at a fraction
# of the cost.
_LEVELS_SQL = """
WITH keys AS (   -- every SKU and warehouse known by the end: its figures as of the start (0 before its first row)
    SELECT product_code, warehouse_code,
           coalesce(arg_max(on_hand, day) FILTER (WHERE day <= $start), 0) AS on_hand,
           coalesce(arg_max(on_order, day) FILTER (WHERE day <= $start), 0) AS on_order,
           arg_max_null(expected_on, day) AS expected_on
    FROM stock_changes WHERE day <= $end GROUP BY 1, 2),
moves AS (       -- the start, then each change inside the period as a difference from the figure before it
    SELECT product_code, warehouse_code, day, on_hand - lag(on_hand) OVER w AS d_on_hand,
           on_order - lag(on_order) OVER w AS d_on_order, day = CAST($start AS DATE) AS first
    FROM (SELECT product_code, warehouse_code, CAST($start AS DATE) AS day, on_hand, on_order FROM keys
          UNION ALL
          SELECT product_code, warehouse_code, day, on_hand, on_order FROM stock_changes
          WHERE day > $start AND day <= $end)
    WINDOW w AS (PARTITION BY product_code, warehouse_code ORDER BY day)),
points AS (      -- Σ warehouses of each SKU at each day one of them changed
    SELECT product_code, day,
           sum(CASE WHEN first THEN 0 ELSE d_on_hand END) AS d_on_hand,
           sum(CASE WHEN first THEN 0 ELSE d_on_order END) AS d_on_order
    FROM moves GROUP BY 1, 2),
starts AS (SELECT product_code, sum(on_hand) AS on_hand, sum(on_order) AS on_order, min(expected_on) AS expected_on
           FROM keys GROUP BY 1),
valued AS (
    SELECT p.product_code, p.day, s.on_hand + sum(p.d_on_hand) OVER c AS on_hand,
           s.on_order + sum(p.d_on_order) OVER c AS on_order,
           date_diff('day', p.day, coalesce(lead(p.day) OVER c, CAST($end AS DATE) + 1)) AS span
    FROM points p JOIN starts s USING (product_code)
    WINDOW c AS (PARTITION BY p.product_code ORDER BY p.day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW))
SELECT v.product_code, sum(v.on_hand * v.span) / $days AS avg_qty,
       sum(CASE WHEN v.on_hand <= 0 THEN v.span ELSE 0 END) AS zero_days,
       arg_max(v.on_hand, v.day) AS on_hand, arg_max(v.on_order, v.day) AS on_order,
       any_value(s.expected_on) AS expected_on
FROM valued v JOIN starts s USING (product_code) GROUP BY 1
"""

_DEMAND_SQL = """
SELECT l.product_code, sum(l.quantity) FILTER (WHERE o.placed_day >= $start) AS sold,
       sum(l.quantity) AS sold_recent
FROM orders o JOIN order_lines l ON l.order_id = o.order_id
WHERE o.state <> 'cancelled' AND o.placed_day BETWEEN $since AND $end
GROUP BY 1
"""


_COLUMNS = (
    Column("product_code", "商品コード"), Column("name", "商品名"), Column("on_hand", "在庫数 / stock", "qty"),
    Column("on_order", "発注残 / on order", "qty"), Column("expected_on", "入荷予定日 / expected", "date"),
    Column("avg_qty", "平均在庫数 / average stock", "float"), Column("cost", "原価 / cost", "yen"),
    Column("avg_value", "平均在庫金額 / average stock at cost", "yen"),
    Column("cogs", "売上原価 / COGS", "yen"), Column("turnover", "回転率 / turnover", "float"),
    Column("turnover_year", "年換算回転率 / turnover a year", "float"),
    Column("days_of_cover", "在庫日数 / days of cover", "days"),
    Column("stockout_days", "欠品日数 / days at 0", "int"), Column("stockout_rate", "欠品率 / stockout rate", "pct"),
    Column("sold", "販売数 / sold", "qty"), Column("slow_mover", "滞留 / slow mover", "text"),
    Column("reorder_point", "発注点 / reorder point", "float"),
    Column("suggested_order", "推奨発注数 / suggested order", "int"),
    Column("arrives_after_stockout", "入荷前に欠品 / arrives after stock-out", "text"),
)


_SKUS_SQL = """
CREATE OR REPLACE TEMP TABLE _stock_skus AS
WITH levels AS ({levels}),
demand AS ({demand}),
costs AS (
    SELECT p.product_code, coalesce(h.cost_price, p.cost_price) AS cost, p.name FROM products p
    LEFT JOIN (SELECT product_code, arg_max_null(cost_price, day) AS cost_price FROM price_history
               WHERE day <= $end GROUP BY 1) h USING (product_code)),
daily AS (
    SELECT l.product_code, o.placed_day, sum(l.quantity) AS q
    FROM orders o JOIN order_lines l ON l.order_id = o.order_id
    WHERE o.state <> 'cancelled' AND o.placed_day BETWEEN $lookback_start AND $end
    GROUP BY 1, 2),
reorder AS (SELECT product_code, sum(q) AS total, sum(q * q) AS squares FROM daily GROUP BY 1)
SELECT coalesce(l.product_code, d.product_code) AS product_code, l.product_code IS NOT NULL AS has_level,
       l.avg_qty, l.zero_days, l.on_hand, l.on_order, l.expected_on, d.sold, d.sold_recent, c.cost,
       coalesce(c.name, '') AS name, r.product_code IS NOT NULL AS has_reorder, r.total, r.squares
FROM levels l FULL JOIN demand d ON d.product_code = l.product_code
LEFT JOIN costs c ON c.product_code = coalesce(l.product_code, d.product_code)
LEFT JOIN reorder r ON r.product_code = coalesce(l.product_code, d.product_code)
"""
# every number as a double (what the Python arithmetic of the report used: float(Decimal) is exact rounding)
_SKUS_FETCH = """
SELECT product_code, has_level, coalesce(CAST(avg_qty AS DOUBLE), 0) AS avg_qty,
       coalesce(zero_days, 0) AS zero_days, coalesce(CAST(on_hand AS DOUBLE), 0) AS on_hand,
       coalesce(CAST(on_order AS DOUBLE), 0) AS on_order, expected_on IS NOT NULL AS has_expected,
       coalesce(date_diff('day', CAST($end AS DATE), expected_on), 0) AS expected_after_end,
       coalesce(CAST(sold AS DOUBLE), 0) AS sold, coalesce(CAST(sold_recent AS DOUBLE), 0) AS sold_recent,
       cost IS NOT NULL AS has_cost, coalesce(CAST(cost AS DOUBLE), 0) AS cost, has_reorder,
       coalesce(CAST(total AS DOUBLE), 0) AS total, coalesce(CAST(squares AS DOUBLE), 0) AS squares
FROM _stock_skus
"""


def _rounded(values: Any, valid: Any) -> list[float | None]:
    return [round(float(v), 2) if ok else None for v, ok in zip(values.tolist(), valid.tolist(), strict=True)]


def stock(con: Any, params: Params) -> Report:
    import numpy as np

    o = {**DEFAULTS, **params.options}
    period = params.period
    since = min(period.start, period.end - timedelta(days=int(o["slow_mover_days"]) - 1))
    lookback = int(o["lookback_days"])
    lead, review = float(o["lead_time_days"]), float(o["review_days"])
    z = NormalDist().inv_cdf(float(o["service_level"]))
    con.execute(_SKUS_SQL.format(levels=_LEVELS_SQL, demand=_DEMAND_SQL),
                {"start": period.start, "end": period.end, "days": period.days, "since": since,
                 "lookback_start": period.end - timedelta(days=lookback - 1)})
    raw = con.execute(_SKUS_FETCH, {"end": period.end}).fetchnumpy()
    order = np.argsort(np.array([str(c) for c in raw["product_code"]], dtype=object), kind="stable")
    a = {k: np.asarray(v)[order] for k, v in raw.items()}
    codes = [str(c) for c in a["product_code"]]
    days = period.days
    # the same float operations, in the same order, as the per-SKU arithmetic they replace
    avg_qty, on_hand, on_order, sold, cost = a["avg_qty"], a["on_hand"], a["on_order"], a["sold"], a["cost"]
    has_cost = a["has_cost"].astype(bool)
    avg_value = avg_qty * cost
    cogs = sold * cost
    with np.errstate(divide="ignore", invalid="ignore"):
        has_turnover = has_cost & (avg_value != 0)
        turnover = np.where(has_turnover, cogs / np.where(avg_value != 0, avg_value, 1), 0.0)
        daily = sold / days
        has_cover = daily != 0
        cover = np.where(has_cover, on_hand / np.where(has_cover, daily, 1), 0.0)
        mean = a["total"] / lookback
        variance = (np.maximum(0.0, (a["squares"] - lookback * mean * mean) / (lookback - 1)) if lookback > 1
                    else np.zeros(len(codes)))
    stdev = np.sqrt(variance)
    point = mean * lead + z * stdev * np.sqrt(lead)
    order_up_to = point + mean * review
    has_reorder = a["has_reorder"].astype(bool)
    position_ = on_hand + on_order
    below = has_reorder & (position_ <= point) & (mean > 0)
    suggested = np.where(below, np.ceil(order_up_to - position_), 0).astype(np.int64)
    demand_skus_mask = sold > 0
    zeros = a["zero_days"].astype(np.int64)
    slow = (on_hand > 0) & (a["sold_recent"] == 0)
    late = a["has_expected"].astype(bool) & has_cover & (a["expected_after_end"] > np.trunc(cover))
    stockout_days = int(zeros[demand_skus_mask].sum())
    demand_skus = int(demand_skus_mask.sum())
    total_cogs = total_avg_value = 0.0
    for value in np.where(has_cost, cogs, 0.0).tolist():
        total_cogs += value
    for value in np.where(has_cost, avg_value, 0.0).tolist():
        total_avg_value += value
    cogs_r = _rounded(cogs, has_cost)
    cover_r = _rounded(cover, has_cover)
    stockout_rate = stockout_days / (demand_skus * days) if demand_skus else None
    limit = int(o["rows"]) if o.get("rows") else None
    index = range(len(codes))
    detail = sorted(index, key=lambda i: (-(cogs_r[i] or 0.0), codes[i]))
    slow_index = [i for i in index if slow[i]]
    reorder_index = sorted((i for i in index if suggested[i] > 0), key=lambda i: (cover_r[i] or 0.0, codes[i]))
    expected_on_of: dict[str, Any] = {}
    chosen = {codes[i] for part in (detail, reorder_index, slow_index) for i in part[:limit]}
    arrivals_all = [i for i in index if on_order[i] > 0]
    exact = {r[0]: r[1:] for r in con.execute(
        "SELECT product_code, on_hand, on_order, expected_on, avg_qty, zero_days, cost, name FROM _stock_skus "
        "WHERE on_order > 0 OR product_code IN (SELECT unnest($codes))", {"codes": sorted(chosen)}).fetchall()}
    for code, values in exact.items():
        expected_on_of[code] = values[2]
    arrivals = sorted(arrivals_all, key=lambda i: (expected_on_of.get(codes[i]) or date.max, codes[i]))

    def row(i: int) -> tuple[Any, ...]:
        code = codes[i]
        on_hand_x, on_order_x, expected, avg_x, zeros_x, cost_x, name = exact[code]
        if not a["has_level"][i]:
            on_hand_x, on_order_x, expected, avg_x, zeros_x = 0, 0, None, 0, 0
        t = float(turnover[i]) if has_turnover[i] else None
        r_ok = bool(has_reorder[i])
        has_demand = bool(demand_skus_mask[i])
        return (code, name, on_hand_x, on_order_x, expected, avg_x, cost_x,
                round(float(avg_value[i]), 2) if has_cost[i] else None, cogs_r[i], t,
                t * 365 / days if t else None, cover_r[i], int(zeros_x or 0) if has_demand else None,
                (int(zeros_x or 0) / days) if has_demand else None, float(sold[i]), bool(slow[i]),
                round(float(point[i]), 2) if r_ok else None, int(suggested[i]), bool(late[i]))

    columns = _COLUMNS
    slow_rows = [row(i) for i in slow_index[:limit]]
    reorder_rows = [row(i) for i in reorder_index[:limit]]
    detail_rows = [row(i) for i in detail[:limit]]
    arrival_rows = [row(i) for i in arrivals[:limit]]
    total_turnover = total_cogs / total_avg_value if total_avg_value else None
    summary_table = Table("stock_total", "在庫サマリー / stock summary", (
        Column("skus", "SKU数", "int"), Column("avg_value", "平均在庫金額", "yen"), Column("cogs", "売上原価", "yen"),
        Column("turnover", "回転率", "float"), Column("stockout_rate", "欠品率", "pct"),
        Column("slow_movers", "滞留SKU数", "int"), Column("below_reorder", "発注点割れSKU数", "int")),
        [(len(codes), round(total_avg_value), round(total_cogs), total_turnover, stockout_rate, len(slow_index),
          len(reorder_index))])
    report = Report("stock", "在庫分析 / stock", period, [
        summary_table,
        Table("stock_by_sku", "SKU別在庫 / stock by SKU", columns, detail_rows),
        Table("reorder", "発注提案 / reorder suggestions", columns, reorder_rows),
        Table("slow_movers", "滞留在庫 / slow movers", columns, slow_rows),
        Table("arrivals", "入荷予定 / expected arrivals", columns, arrival_rows),
    ])
    con.execute("DROP TABLE IF EXISTS _stock_skus")
    top = detail_rows[:15]
    report.charts.append(Chart("売上原価と平均在庫金額 (上位15SKU)", "bar", [r[0] for r in top],
                               {"売上原価": [number(r[8]) for r in top], "平均在庫金額": [number(r[7]) for r in top]}))
    report.summary = (f"在庫回転率 {total_turnover or 0:.2f}, 欠品率 {(stockout_rate or 0) * 100:.1f}%, "
                      f"発注点割れ {len(reorder_index)} SKU, 滞留 {len(slow_index)} SKU")
    return report


def _round(value: Any) -> Any:
    if value is None:
        return None
    return round(float(value), 2)


def position(con: Any, day: date, among: str | None = None) -> dict[str, tuple[Decimal, Decimal]]:
    """Stock and 発注残 per SKU as of ``day`` (Σ warehouses): what the low-stock check compares. ``among``: a
    table whose ``product_code`` column lists the SKUs wanted (None: every SKU)."""
    only = f"AND product_code IN (SELECT product_code FROM {among})" if among else ""
    rows = con.execute(f"""
        SELECT product_code, sum(on_hand), sum(on_order) FROM (
            SELECT product_code, warehouse_code, arg_max(on_hand, day) AS on_hand, arg_max(on_order, day) AS on_order
            FROM stock_changes WHERE day <= ? {only} GROUP BY 1, 2) GROUP BY 1""", [day]).fetchall()
    return {code: (on_hand, on_order) for code, on_hand, on_order in rows}


__all__ = ["DEFAULTS", "DEMAND_SUMS_SQL", "Period", "Reorder", "demand_window", "position", "reorder_of",
           "reorder_points", "stock"]
