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


def reorder_points(con: Any, end: date, options: dict[str, Any]) -> dict[str, Reorder]:
    """Per SKU with demand in the lookback window ending at ``end``."""
    o = {**DEFAULTS, **options}
    days = int(o["lookback_days"])
    lead, review = float(o["lead_time_days"]), float(o["review_days"])
    z = NormalDist().inv_cdf(float(o["service_level"]))
    rows = con.execute("""
        WITH daily AS (
            SELECT l.product_code, o.placed_day, sum(l.quantity) AS q
            FROM orders o JOIN order_lines l ON l.order_id = o.order_id
            WHERE o.state <> 'cancelled' AND o.placed_day BETWEEN ? AND ?
            GROUP BY 1, 2)
        SELECT product_code, sum(q), sum(q * q) FROM daily GROUP BY 1""",
        [end - timedelta(days=days - 1), end]).fetchall()
    out = {}
    for code, total, squares in rows:
        mean = float(total) / days
        variance = max(0.0, (float(squares) - days * mean * mean) / (days - 1)) if days > 1 else 0.0
        stdev = math.sqrt(variance)
        point = mean * lead + z * stdev * math.sqrt(lead)
        out[code] = Reorder(mean, stdev, point, point + mean * review)
    return out


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
       arg_max(v.on_hand, v.day) AS on_hand, arg_max(v.on_order, v.day) AS on_order, any_value(s.expected_on)
FROM valued v JOIN starts s USING (product_code) GROUP BY 1
"""

_DEMAND_SQL = """
SELECT l.product_code, sum(l.quantity) FILTER (WHERE o.placed_day >= $start) AS sold,
       sum(l.quantity) AS sold_recent
FROM orders o JOIN order_lines l ON l.order_id = o.order_id
WHERE o.state <> 'cancelled' AND o.placed_day BETWEEN $since AND $end
GROUP BY 1
"""


def stock(con: Any, params: Params) -> Report:
    o = {**DEFAULTS, **params.options}
    period = params.period
    levels = {r[0]: r[1:] for r in con.execute(_LEVELS_SQL, {"start": period.start, "end": period.end,
                                                             "days": period.days}).fetchall()}
    since = min(period.start, period.end - timedelta(days=int(o["slow_mover_days"]) - 1))
    demand = {r[0]: r[1:] for r in con.execute(_DEMAND_SQL, {"start": period.start, "end": period.end,
                                                             "since": since}).fetchall()}
    costs = dict(con.execute("""
        SELECT p.product_code, coalesce(h.cost_price, p.cost_price) FROM products p
        LEFT JOIN (SELECT product_code, arg_max_null(cost_price, day) AS cost_price FROM price_history
                   WHERE day <= ? GROUP BY 1) h USING (product_code)""",
        [period.end]).fetchall())
    names = dict(con.execute("SELECT product_code, name FROM products").fetchall())
    reorder = reorder_points(con, period.end, o)
    rows = []
    zero_days = demand_skus = 0
    total_cogs = total_avg_value = 0.0
    for code in sorted(set(levels) | set(demand)):
        avg_qty, zeros, on_hand, on_order, expected = levels.get(code, (0, 0, 0, 0, None))
        sold, sold_recent = demand.get(code, (None, None))
        sold = number(sold)
        cost = costs.get(code)
        avg_value = number(avg_qty) * number(cost) if cost is not None else None
        cogs = sold * number(cost) if cost is not None else None
        turnover = cogs / avg_value if cogs is not None and avg_value else None
        daily = sold / period.days
        cover = number(on_hand) / daily if daily else None
        if sold > 0:
            demand_skus += 1
            zero_days += int(zeros or 0)
        total_cogs += cogs or 0
        total_avg_value += avg_value or 0
        slow = number(on_hand) > 0 and not number(sold_recent)
        r = reorder.get(code)
        position = number(on_hand) + number(on_order)
        below = r is not None and position <= r.reorder_point and r.mean > 0
        suggested = math.ceil(r.order_up_to - position) if below and r is not None else 0
        late = bool(expected and cover is not None and expected > period.end + timedelta(days=int(cover)))
        rows.append((code, names.get(code, ""), on_hand, on_order, expected, avg_qty, cost,
                     _round(avg_value), _round(cogs), turnover, turnover * 365 / period.days if turnover else None,
                     _round(cover), int(zeros or 0) if sold > 0 else None,
                     (int(zeros or 0) / period.days) if sold > 0 else None, sold, slow,
                     _round(r.reorder_point) if r else None, suggested, late))
    stockout_rate = zero_days / (demand_skus * period.days) if demand_skus else None
    columns = (
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
    slow_rows = [r for r in rows if r[15]]
    reorder_rows = sorted((r for r in rows if r[17] > 0), key=lambda r: (number(r[11]), r[0]))
    arrivals = sorted((r for r in rows if number(r[3]) > 0), key=lambda r: (r[4] or date.max, r[0]))
    limit = int(o["rows"]) if o.get("rows") else None
    detail = sorted(rows, key=lambda r: (-number(r[8]), r[0]))
    total_turnover = total_cogs / total_avg_value if total_avg_value else None
    summary_table = Table("stock_total", "在庫サマリー / stock summary", (
        Column("skus", "SKU数", "int"), Column("avg_value", "平均在庫金額", "yen"), Column("cogs", "売上原価", "yen"),
        Column("turnover", "回転率", "float"), Column("stockout_rate", "欠品率", "pct"),
        Column("slow_movers", "滞留SKU数", "int"), Column("below_reorder", "発注点割れSKU数", "int")),
        [(len(rows), round(total_avg_value), round(total_cogs), total_turnover, stockout_rate, len(slow_rows),
          len(reorder_rows))])
    report = Report("stock", "在庫分析 / stock", period, [
        summary_table,
        Table("stock_by_sku", "SKU別在庫 / stock by SKU", columns, detail[:limit]),
        Table("reorder", "発注提案 / reorder suggestions", columns, reorder_rows[:limit]),
        Table("slow_movers", "滞留在庫 / slow movers", columns, slow_rows[:limit]),
        Table("arrivals", "入荷予定 / expected arrivals", columns, arrivals[:limit]),
    ])
    top = detail[:15]
    report.charts.append(Chart("売上原価と平均在庫金額 (上位15SKU)", "bar", [r[0] for r in top],
                               {"売上原価": [number(r[8]) for r in top], "平均在庫金額": [number(r[7]) for r in top]}))
    report.summary = (f"在庫回転率 {total_turnover or 0:.2f}, 欠品率 {(stockout_rate or 0) * 100:.1f}%, "
                      f"発注点割れ {len(reorder_rows)} SKU, 滞留 {len(slow_rows)} SKU")
    return report


def _round(value: Any) -> Any:
    if value is None:
        return None
    return round(float(value), 2)


def position(con: Any, day: date) -> dict[str, tuple[Decimal, Decimal]]:
    """Stock and 発注残 per SKU as of ``day`` (Σ warehouses): what the low-stock check compares."""
    rows = con.execute("""
        SELECT product_code, sum(on_hand), sum(on_order) FROM (
            SELECT product_code, warehouse_code, arg_max(on_hand, day) AS on_hand, arg_max(on_order, day) AS on_order
            FROM stock_changes WHERE day <= ? GROUP BY 1, 2) GROUP BY 1""", [day]).fetchall()
    return {code: (on_hand, on_order) for code, on_hand, on_order in rows}


__all__ = ["DEFAULTS", "Period", "Reorder", "position", "reorder_points", "stock"]
