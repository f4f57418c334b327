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

from datetime import date
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

# The lines (and returns, negated) of every day a sales report looks at, built once per connection: a pack runs
# several sales reports over the same period, and each needs the period, the one before, a year ago and both years
# to date. The cost (an ASOF join on the price history, the expensive part) is computed for the report period only:
# the other periods show sales, not cost.
FACTS_SQL = """
    CREATE OR REPLACE TEMP TABLE _sales_facts AS
    WITH lines AS (
        SELECT l.order_id, o.placed_day AS day, l.product_code, l.quantity, l.amount
        FROM orders o JOIN order_lines l ON l.order_id = o.order_id
        WHERE o.state <> 'cancelled' AND o.placed_day BETWEEN $start AND $end),
    rets AS (
        SELECT r.order_id, r.returned_day AS day, r.product_code, -r.quantity AS quantity, -r.amount AS amount,
               coalesce(o.placed_day, r.returned_day) AS cost_day, r.customer_code AS ret_customer
        FROM returns r LEFT JOIN orders o ON o.order_id = r.order_id
        WHERE r.returned_day BETWEEN $start AND $end AND coalesce(o.state, '') <> 'cancelled')
    SELECT l.order_id, l.day, l.product_code, l.quantity, l.amount,
           l.quantity * coalesce(h.cost_price, p.cost_price) AS cost, CAST(NULL AS VARCHAR) AS ret_customer,
           FALSE AS is_return
    FROM (SELECT * FROM lines WHERE day BETWEEN $cost_start AND $cost_end) l
    LEFT JOIN products p ON p.product_code = l.product_code
    ASOF LEFT JOIN price_history h ON h.product_code = l.product_code AND l.day >= h.day
    UNION ALL
    SELECT l.order_id, l.day, l.product_code, l.quantity, l.amount, NULL, NULL, FALSE
    FROM lines l WHERE l.day NOT BETWEEN $cost_start AND $cost_end
    UNION ALL
    SELECT r.order_id, r.day, r.product_code, r.quantity, r.amount,
           r.quantity * coalesce(h.cost_price, p.cost_price), r.ret_customer, TRUE
    FROM rets r
    LEFT JOIN products p ON p.product_code = r.product_code
    ASOF LEFT JOIN price_history h ON h.product_code = r.product_code AND r.cost_day >= h.day
"""
# what the facts were built from: a write on the same connection since then makes them be built again
_FINGERPRINT_SQL = """
    SELECT (SELECT count(*) FROM orders), (SELECT max(updated_at) FROM orders), (SELECT count(*) FROM order_lines),
           (SELECT count(*) FROM returns), (SELECT count(*) FROM price_history), (SELECT count(*) FROM products)
"""
_BUILT: dict[int, tuple[Any, ...]] = {}


def _facts(con: Any, start: date, end: date, cost: Period) -> None:
    """``_sales_facts`` (a temp table of this connection) covering [start, end], with cost over ``cost``."""
    fingerprint = tuple(con.execute(_FINGERPRINT_SQL).fetchall()[0])
    key = (start, end, cost.start, cost.end, fingerprint)
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = '_sales_facts' "
                         "AND temporary").fetchall()[0][0]
    if exists and _BUILT.get(id(con)) == key:
        return
    con.execute(FACTS_SQL, {"start": start, "end": end, "cost_start": cost.start, "cost_end": cost.end})
    _BUILT.clear()  # one entry: connections are short-lived, an id may be reused by the next one
    _OVERALL.clear()
    _BUILT[id(con)] = key


_OVERALL: dict[tuple[Any, ...], dict[str, dict[str, dict[str, Any]]]] = {}


def _overall(con: Any, windows: dict[str, Period]) -> dict[str, dict[str, dict[str, Any]]]:
    """The "all" aggregate of the windows, once per facts table (every sales report of a pack needs it)."""
    key = (_BUILT.get(id(con)), tuple(sorted((n, w.start, w.end) for n, w in windows.items())))
    if key not in _OVERALL:
        _OVERALL.clear()
        _OVERALL[key] = _aggregate(con, "all", windows)
    return _OVERALL[key]


_WINDOWS = ("now", "prev", "ago", "ytd", "ytd_ago")
# per key and order first (no DISTINCT over many groups, which is slow), then each window sums its orders
_PER_ORDER = """
    sum(x.quantity) AS quantity, sum(x.amount) AS sales, sum(x.cost) AS cost,
    sum(CASE WHEN x.cost IS NOT NULL THEN x.amount END) AS costed,
    count(*) FILTER (WHERE x.cost IS NULL AND NOT x.is_return) AS unknown, count(*) AS lines"""
_FIGURES = """
    count(*) FILTER (WHERE NOT is_return AND {c}) AS {n}_orders, sum(quantity) FILTER (WHERE {c}) AS {n}_quantity,
    sum(sales) FILTER (WHERE {c}) AS {n}_sales, sum(cost) FILTER (WHERE {c}) AS {n}_cost,
    sum(costed) FILTER (WHERE {c}) AS {n}_costed, sum(unknown) FILTER (WHERE {c}) AS {n}_unknown,
    coalesce(-sum(sales) FILTER (WHERE is_return AND {c}), 0) AS {n}_returns, sum(lines) FILTER (WHERE {c}) AS {n}_rows"""
# a window only compared with (previous period, a year ago): its sales
_SALES_ONLY = """
    NULL, NULL, sum(sales) FILTER (WHERE {c}) AS {n}_sales, NULL, NULL, NULL, NULL,
    sum(lines) FILTER (WHERE {c}) AS {n}_rows"""
_ORDER_COLUMNS = """, coalesce(o.customer_code, f.ret_customer) AS customer_code,
    coalesce(o.prefecture, '') AS prefecture, coalesce(o.payment_kind, 'other') AS payment_kind,
    coalesce(o.direct_ship, FALSE) AS direct_ship"""
_DIMENSION_JOINS = """
    LEFT JOIN products p ON p.product_code = x.product_code
    LEFT JOIN customers c ON c.customer_code = x.customer_code
    LEFT JOIN (VALUES {regions}) r(prefecture, region) ON r.prefecture = x.prefecture"""


def _aggregate(con: Any, by: str, windows: dict[str, Period], *, sales_only: tuple[str, ...] = (),
               keep: str = "", limit: int | None = None) -> dict[str, dict[str, dict[str, Any]]]:
    """Per window name: key → figures, as if each window were aggregated alone (a key is absent from a window
    without rows in it). Cost figures are only right for the window the facts were costed for ("now"); windows
    in ``sales_only`` get sales alone. ``keep`` = "top" / "bottom" with ``limit``: only the keys with the most /
    least "now" sales (ties by key); otherwise only the keys with "now" rows (the others are of no use)."""
    key, label = DIMENSIONS[by]
    names = [n for n in _WINDOWS if n in windows]
    figures = ",".join((_SALES_ONLY if n in sales_only else _FIGURES).format(
        n=n, c=f"day BETWEEN ${n}_start AND ${n}_end") for n in names)
    order = {"top": "ORDER BY now_sales DESC, key", "bottom": "ORDER BY now_sales, key"}.get(keep, "")
    if order and limit:
        order += f" LIMIT {int(limit)}"
    having = "HAVING now_rows > 0" if by != "all" and "now" in names else ""
    dims = by != "all"
    sql = f"""
        WITH per_order AS (
            SELECT {key.replace('l.', 'x.').replace('o.', 'x.')} AS key, {label.replace('o.', 'x.')} AS label,
                   x.placed_day AS day, x.order_id, x.is_return, {_PER_ORDER}
            FROM (SELECT f.order_id, f.day AS placed_day, f.product_code, f.quantity, f.amount, f.cost, f.is_return
                         {_ORDER_COLUMNS if dims else ''}
                  FROM _sales_facts f {'LEFT JOIN orders o ON o.order_id = f.order_id' if dims else ''}
                  WHERE {' OR '.join(f"f.day BETWEEN ${n}_start AND ${n}_end" for n in names)}) x
            {_DIMENSION_JOINS.format(regions=region_values_sql()) if dims else ''}
            GROUP BY 1, 2, 3, 4, 5)
        SELECT key, label, {figures} FROM per_order GROUP BY 1, 2 {having} {order}
    """
    values: dict[str, Any] = {}
    for n in names:
        values[f"{n}_start"], values[f"{n}_end"] = windows[n].start, windows[n].end
    out: dict[str, dict[str, dict[str, Any]]] = {n: {} for n in names}
    for row in con.execute(sql, values).fetchall():
        k, lab = row[0], row[1]
        if by == "payment":
            lab = PAYMENT_LABELS.get(k, k)
        for index, n in enumerate(names):
            orders, quantity, sales, cost, costed, unknown, returns, count = row[2 + 8 * index:10 + 8 * index]
            if not count:
                continue
            out[n][k] = {"label": lab, "orders": orders, "quantity": quantity, "sales": sales, "cost": cost,
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

_COLUMN = {column.key: column for column in COLUMNS}


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
    windows = {"now": period, "prev": period.previous(), "ago": period.year_ago(), "ytd": period.year_to_date(),
               "ytd_ago": period.year_to_date().year_ago()}
    _facts(con, min(w.start for w in windows.values()), max(w.end for w in windows.values()), period)
    chronological = by in ("day", "week", "month")
    keep = "" if chronological else "top" if params.top else "bottom" if params.bottom else ""
    grouped = _aggregate(con, by, {n: windows[n] for n in ("now", "prev", "ago")}, sales_only=("prev", "ago"),
                         keep=keep, limit=params.top or params.bottom)
    now, previous, year_ago = grouped["now"], grouped["prev"], grouped["ago"]
    overall = _overall(con, windows)
    # Σ of every key's sales (the same sum whether or not only the top / bottom keys were fetched)
    total_sales = number(overall["now"]["all"]["sales"]) if overall["now"] else 0
    rows = []
    for key, v in now.items():
        before = previous.get(key, {}).get("sales")
        ago = year_ago.get(key, {}).get("sales")
        rows.append((key, v["label"], v["orders"], v["quantity"], v["sales"], v["cost"], v["margin"],
                     _ratio(v["margin"], v["costed_sales"]), _ratio(v["sales"], total_sales), before,
                     _change(v["sales"], before), ago, _change(v["sales"], ago), v["unknown"], v["returns"]))
    rows.sort(key=(lambda r: r[0]) if chronological else (lambda r: (-number(r[4]), r[0])))
    if params.top and not chronological:
        rows = rows[:params.top]
    elif params.bottom and not chronological:
        rows = sorted(rows, key=lambda r: (number(r[4]), r[0]))[:params.bottom]
    table = Table(f"sales_by_{by}", f"売上 ({by}別) / sales by {by}", COLUMNS, rows)
    totals, prev_totals = _totals(overall["now"]), _totals(overall["prev"])
    ytd, ytd_before = _totals(overall["ytd"]), _totals(overall["ytd_ago"])
    summary_rows = [(
        totals["orders"], totals["sales"], totals["cost"], totals["margin"], _ratio(totals["margin"], totals["costed"]),
        prev_totals["sales"], _change(totals["sales"], prev_totals["sales"]), ytd["sales"], ytd_before["sales"],
        _change(ytd["sales"], ytd_before["sales"]), totals["returns"],
    )]
    summary_table = Table("sales_total", "売上合計 / totals", (
        *(_COLUMN[key] for key in ("orders", "sales", "cost", "margin", "margin_rate")),
        Column("previous_sales", "前期売上", "yen"), Column("change", "前期比", "pct"),
        Column("ytd_sales", "年初来売上 / year to date", "yen"),
        Column("ytd_last_year", "前年同期年初来 / YTD a year ago", "yen"),
        Column("ytd_change", "年初来前年比 / YTD vs a year ago", "pct"), _COLUMN["returns"]), summary_rows)
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
