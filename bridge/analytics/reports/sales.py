"""Sales by a dimension, with gross margin, shares, top/bottom N and period over period (previous, a year ago).

Definitions (the tests recompute them from the seed):
* sales = Σ quantity × unit price of the lines of orders placed in the period (JST), cancelled orders excluded;
* cost = Σ quantity × 原価 in force on the order's day (price_history as of that day, else the product's cost now);
* gross margin and margin rate are over the lines whose cost is known (``cost_unknown_lines`` counts the rest);
* returns (返品) are netted on their own JST day: a returned product counts as a negative line of its order (the
  order's customer, prefecture, payment and 直送; the cost in force on the order's day), so ``sales``, ``quantity``,
  ``cost`` and ``margin`` are net, ``returns`` is the amount credited, ``gross_sales`` = sales + returns; returns
  of cancelled orders are ignored; ``orders`` counts the orders placed in the period.
"""

from __future__ import annotations

from typing import Any

from bridge.analytics.periods import Period
from bridge.analytics.regions import region_values_sql
from bridge.analytics.reports.base import Chart, Column, Params, Report, Table, number

DIMENSIONS: dict[str, tuple[str, str]] = {
    # by: (key expression, label expression)
    "product": ("l.product_code", "coalesce(p.name, '')"),
    "category": ("coalesce(p.category_code, '')", "coalesce(p.category_code, '')"),
    "customer": ("o.customer_code", "coalesce(c.name, '')"),
    "customer_group": ("coalesce(c.customer_group, '不明')", "coalesce(c.customer_group, '不明')"),
    "prefecture": ("o.prefecture", "o.prefecture"),
    "region": ("coalesce(r.region, '不明')", "coalesce(r.region, '不明')"),
    "day": ("strftime(o.placed_day, '%Y-%m-%d')", "strftime(o.placed_day, '%Y-%m-%d')"),
    "week": ("strftime(date_trunc('week', o.placed_day), '%Y-%m-%d')",
             "strftime(date_trunc('week', o.placed_day), '%Y-%m-%d') || '週'"),
    "month": ("strftime(o.placed_day, '%Y-%m')", "strftime(o.placed_day, '%Y-%m')"),
    "payment": ("o.payment_kind", "o.payment_kind"),
    "direct_ship": ("CASE WHEN o.direct_ship THEN 'direct' ELSE 'normal' END",
                    "CASE WHEN o.direct_ship THEN '直送' ELSE '通常' END"),
}
BY = tuple(DIMENSIONS)
DIMENSIONS["all"] = ("'all'", "'合計'")
PAYMENT_LABELS = {"on_account": "掛売", "prepaid": "先入金", "card": "カード", "cod": "代引き", "other": "その他"}

LINES_SQL = """
    SELECT o.order_id, o.placed_day, o.customer_code, o.prefecture, o.payment_kind, o.direct_ship,
           l.product_code, l.quantity, l.amount,
           l.quantity * coalesce(h.cost_price, p.cost_price) AS cost, FALSE AS is_return
    FROM orders o
    JOIN order_lines l ON l.order_id = o.order_id
    LEFT JOIN products p ON p.product_code = l.product_code
    ASOF LEFT JOIN price_history h ON h.product_code = l.product_code AND o.placed_day >= h.day
    WHERE o.state <> 'cancelled' AND o.placed_day BETWEEN $start AND $end
    UNION ALL
    SELECT r.order_id, r.returned_day, coalesce(o.customer_code, r.customer_code), coalesce(o.prefecture, ''),
           coalesce(o.payment_kind, 'other'), coalesce(o.direct_ship, FALSE),
           r.product_code, -r.quantity, -r.amount,
           -r.quantity * coalesce(h.cost_price, p.cost_price) AS cost, TRUE AS is_return
    FROM (SELECT r.*, coalesce(o.placed_day, r.returned_day) AS cost_day FROM returns r
          LEFT JOIN orders o ON o.order_id = r.order_id
          WHERE r.returned_day BETWEEN $start AND $end AND coalesce(o.state, '') <> 'cancelled') r
    LEFT JOIN orders o ON o.order_id = r.order_id
    LEFT JOIN products p ON p.product_code = r.product_code
    ASOF LEFT JOIN price_history h ON h.product_code = r.product_code AND r.cost_day >= h.day
"""


def _aggregate(con: Any, by: str, period: Period) -> dict[str, dict[str, Any]]:
    key, label = DIMENSIONS[by]
    sql = f"""
        WITH lines AS ({LINES_SQL})
        SELECT {key.replace('l.', 'x.').replace('o.', 'x.')} AS key,
               {label.replace('o.', 'x.')} AS label,
               count(DISTINCT x.order_id) FILTER (WHERE NOT x.is_return) AS orders, sum(x.quantity) AS quantity,
               sum(x.amount) AS sales, sum(x.cost) AS cost,
               sum(CASE WHEN x.cost IS NOT NULL THEN x.amount END) AS costed_sales,
               count(*) FILTER (WHERE x.cost IS NULL AND NOT x.is_return) AS unknown,
               coalesce(-sum(x.amount) FILTER (WHERE x.is_return), 0) AS returns
        FROM lines x
        LEFT JOIN products p ON p.product_code = x.product_code
        LEFT JOIN customers c ON c.customer_code = x.customer_code
        LEFT JOIN (VALUES {region_values_sql()}) r(prefecture, region) ON r.prefecture = x.prefecture
        GROUP BY 1, 2
    """
    out: dict[str, dict[str, Any]] = {}
    rows = con.execute(sql, {"start": period.start, "end": period.end}).fetchall()
    for k, lab, orders, quantity, sales, cost, costed, unknown, returns in rows:
        if by == "payment":
            lab = PAYMENT_LABELS.get(k, k)
        out[k] = {"label": lab, "orders": orders, "quantity": quantity, "sales": sales, "cost": cost,
                  "margin": (costed - cost) if cost is not None and costed is not None else None,
                  "costed_sales": costed, "unknown": unknown, "returns": returns}
    return out


COLUMNS = (
    Column("key", "キー / key"), Column("label", "名称 / name"), Column("orders", "受注件数 / orders", "int"),
    Column("quantity", "数量 / quantity", "qty"), Column("sales", "売上 / sales", "yen"),
    Column("cost", "原価 / cost", "yen"), Column("margin", "粗利 / gross margin", "yen"),
    Column("margin_rate", "粗利率 / margin rate", "pct"), Column("share", "構成比 / share", "pct"),
    Column("previous_sales", "前期売上 / previous period", "yen"), Column("change", "前期比 / vs previous", "pct"),
    Column("year_ago_sales", "前年同期売上 / a year ago", "yen"), Column("yoy", "前年比 / vs a year ago", "pct"),
    Column("cost_unknown_lines", "原価不明行 / lines without cost", "int"),
    Column("returns", "返品 / returns", "yen"),
)


def _ratio(part: Any, whole: Any) -> float | None:
    if part is None or whole in (None, 0):
        return None
    return float(part) / float(whole)


def _change(now: Any, before: Any) -> float | None:
    if before in (None, 0):
        return None
    return float(now or 0) / float(before) - 1


def sales(con: Any, params: Params) -> Report:
    by = params.by or "product"
    if by not in BY:
        raise ValueError(f"sales --by {by!r}: choose one of {', '.join(BY)}")
    period = params.period
    now = _aggregate(con, by, period)
    previous = _aggregate(con, by, period.previous())
    year_ago = _aggregate(con, by, period.year_ago())
    total_sales = sum(number(v["sales"]) for v in now.values())
    rows = []
    for key, v in now.items():
        before = previous.get(key, {}).get("sales")
        ago = year_ago.get(key, {}).get("sales")
        rows.append((key, v["label"], v["orders"], v["quantity"], v["sales"], v["cost"], v["margin"],
                     _ratio(v["margin"], v["costed_sales"]), _ratio(v["sales"], total_sales), before,
                     _change(v["sales"], before), ago, _change(v["sales"], ago), v["unknown"], v["returns"]))
    chronological = by in ("day", "week", "month")
    rows.sort(key=(lambda r: r[0]) if chronological else (lambda r: (-number(r[4]), r[0])))
    if params.top and not chronological:
        rows = rows[:params.top]
    elif params.bottom and not chronological:
        rows = sorted(rows, key=lambda r: (number(r[4]), r[0]))[:params.bottom]
    table = Table(f"sales_by_{by}", f"売上 ({by}別) / sales by {by}", COLUMNS, rows)
    totals = _totals(_aggregate(con, "all", period))
    prev_totals = _totals(_aggregate(con, "all", period.previous()))
    ytd = _totals(_aggregate(con, "all", period.year_to_date()))
    ytd_before = _totals(_aggregate(con, "all", period.year_to_date().year_ago()))
    summary_rows = [(
        totals["orders"], totals["sales"], totals["cost"], totals["margin"], _ratio(totals["margin"], totals["costed"]),
        prev_totals["sales"], _change(totals["sales"], prev_totals["sales"]), ytd["sales"], ytd_before["sales"],
        _change(ytd["sales"], ytd_before["sales"]), totals["returns"],
    )]
    summary_table = Table("sales_total", "売上合計 / totals", (
        Column("orders", "受注件数 / orders", "int"), Column("sales", "売上 / sales", "yen"),
        Column("cost", "原価 / cost", "yen"), Column("margin", "粗利 / gross margin", "yen"),
        Column("margin_rate", "粗利率 / margin rate", "pct"), Column("previous_sales", "前期売上", "yen"),
        Column("change", "前期比", "pct"), Column("ytd_sales", "年初来売上 / year to date", "yen"),
        Column("ytd_last_year", "前年同期年初来 / YTD a year ago", "yen"),
        Column("ytd_change", "年初来前年比 / YTD vs a year ago", "pct"),
        Column("returns", "返品 / returns", "yen")), summary_rows)
    chart_rows = rows[:20]
    chart = Chart(f"売上 ({by}別)", "line" if chronological else "bar", [str(r[1] or r[0]) for r in chart_rows],
                  {"売上": [number(r[4]) for r in chart_rows], "粗利": [number(r[6]) for r in chart_rows]})
    change = _change(totals["sales"], prev_totals["sales"])
    summary = (f"売上 {number(totals['sales']):,.0f}円 (受注 {totals['orders']}件, 粗利率 "
               f"{_pct(_ratio(totals['margin'], totals['costed']))}, 前期比 {_pct(change, signed=True)})")
    return Report("sales", "売上分析 / sales", period, [summary_table, table], [chart], summary)


def _totals(groups: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """From the one-group aggregate (by "all"), so an order split over products is counted once."""
    sums = {name: sum(number(v[name]) for v in groups.values() if v[name] is not None)
            for name in ("sales", "cost", "costed_sales", "returns")}
    margin = sums["costed_sales"] - sums["cost"]
    return {"orders": sum(v["orders"] for v in groups.values()), "sales": sums["sales"], "cost": sums["cost"],
            "margin": margin, "costed": sums["costed_sales"], "returns": sums["returns"]}


def _pct(value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value * 100:+.1f}%" if signed else f"{value * 100:.1f}%"
