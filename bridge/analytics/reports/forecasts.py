"""Forecasts as a report: monthly sales and weekly demand of the busiest SKUs, each with its backtest MASE next to
the seasonal-naive MASE (bridge/analytics/forecast.py)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from bridge.analytics.forecast import forecast
from bridge.analytics.reports.base import Chart, Column, Params, Report, Table, number

DEFAULTS = {"top_skus": 20, "horizon_weeks": 4, "horizon_months": 3, "history_weeks": 104}


def _month_add(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def monthly_sales(con: Any, end: date) -> list[tuple[date, float]]:
    """Sales per JST month up to the last month complete at ``end``; months without sales are 0."""
    last = _month_add(end + timedelta(days=1), -1) if (end + timedelta(days=1)).day == 1 else _month_add(end, -1)
    last = last.replace(day=1)
    rows = dict(con.execute("""
        SELECT CAST(date_trunc('month', o.placed_day) AS DATE) AS m, sum(l.amount)
        FROM orders o JOIN order_lines l ON l.order_id = o.order_id
        WHERE o.state <> 'cancelled' AND o.placed_day < ? GROUP BY 1""", [_month_add(last, 1)]).fetchall())
    if not rows:
        return []
    first = min(rows)
    out, month = [], first
    while month <= last:
        out.append((month, number(rows.get(month))))
        month = _month_add(month, 1)
    return out


def weekly_demand(con: Any, end: date, weeks: int, top: int) -> tuple[list[date], dict[str, list[float]]]:
    """Units per SKU and week (Monday–Sunday, JST) for the ``top`` SKUs by units over the history."""
    last_monday = end - timedelta(days=end.weekday()) - (timedelta(days=7) if end.weekday() != 6 else timedelta(0))
    first_monday = last_monday - timedelta(weeks=weeks - 1)
    mondays = [first_monday + timedelta(weeks=n) for n in range(weeks)]
    rows = con.execute("""
        WITH w AS (
            SELECT l.product_code, CAST(date_trunc('week', o.placed_day) AS DATE) AS week, sum(l.quantity) AS q
            FROM orders o JOIN order_lines l ON l.order_id = o.order_id
            WHERE o.state <> 'cancelled' AND o.placed_day BETWEEN ? AND ?
            GROUP BY 1, 2),
        top AS (SELECT product_code FROM w GROUP BY 1 ORDER BY sum(q) DESC, product_code LIMIT ?)
        SELECT product_code, week, q FROM w JOIN top USING (product_code)""",
        [first_monday, last_monday + timedelta(days=6), top]).fetchall()
    # history starts at the SKU's first week with demand inside the window
    series: dict[str, dict[date, float]] = {}
    for code, week, q in rows:
        series.setdefault(code, {})[week] = float(q)
    out = {}
    for code, by_week in series.items():
        start = min(by_week)
        out[code] = [by_week.get(m, 0.0) for m in mondays if m >= start]
    return mondays, out


def forecasts(con: Any, params: Params) -> Report:
    o = {**DEFAULTS, **params.options}
    end = params.period.end
    months = monthly_sales(con, end)
    h_m = int(o["horizon_months"])
    monthly_rows = []
    chart = None
    if len(months) >= 2:
        f = forecast([v for _, v in months], h_m, 12)
        future = [_month_add(months[-1][0], n + 1) for n in range(h_m)]
        monthly_rows = [(m.strftime("%Y-%m"), round(v), f.method, f.mase, f.naive_mase, f.beats_naive)
                        for m, v in zip(future, f.values, strict=True)]
        labels = [m.strftime("%Y-%m") for m, _ in months] + [m.strftime("%Y-%m") for m in future]
        history = [v for _, v in months]
        chart = Chart("月次売上と予測", "line", labels,
                      {"実績": history + [float("nan")] * h_m,
                       "予測": [float("nan")] * (len(history) - 1) + [history[-1]] + f.values})
    mondays, weekly = weekly_demand(con, end, int(o["history_weeks"]), int(o["top_skus"]))
    names = dict(con.execute("SELECT product_code, name FROM products").fetchall())
    h_w = int(o["horizon_weeks"])
    weekly_rows = []
    for code in sorted(weekly, key=lambda c: (-sum(weekly[c]), c)):
        series = weekly[code]
        f = forecast(series, h_w, 52, trend=False)
        weekly_rows.append((code, names.get(code, ""), f.method, len(series), f.mase, f.naive_mase, f.beats_naive,
                            *[round(v, 1) for v in f.values]))
    week_cols = tuple(Column(f"w{n + 1}", f"{(mondays[-1] + timedelta(weeks=n + 1)):%m/%d}週", "float")
                      for n in range(h_w)) if mondays else ()
    report = Report("forecast", "需要・売上予測 / forecasts", params.period, [
        Table("forecast_monthly", "月次売上予測 / monthly sales forecast", (
            Column("month", "月"), Column("forecast", "予測売上", "yen"), Column("method", "手法"),
            Column("mase", "MASE (モデル)", "float"), Column("naive_mase", "MASE (季節ナイーブ)", "float"),
            Column("beats_naive", "ナイーブより良い", "text")), monthly_rows),
        Table("forecast_weekly", "SKU別 週次需要予測 / weekly demand per SKU", (
            Column("product_code", "商品コード"), Column("name", "商品名"), Column("method", "手法"),
            Column("weeks", "履歴週数", "int"), Column("mase", "MASE (モデル)", "float"),
            Column("naive_mase", "MASE (季節ナイーブ)", "float"), Column("beats_naive", "ナイーブより良い", "text"),
            *week_cols), weekly_rows),
    ])
    if chart:
        report.charts.append(chart)
    losing = sum(1 for r in weekly_rows if r[6] is False)
    monthly_note = (f"来月売上予測 {monthly_rows[0][1]:,}円 ({monthly_rows[0][2]}, MASE "
                    f"{_fmt(monthly_rows[0][3])} / ナイーブ {_fmt(monthly_rows[0][4])})") if monthly_rows else "月次履歴不足"
    report.summary = f"{monthly_note}; SKU予測 {len(weekly_rows)}件中 {losing}件はナイーブ予測に劣る"
    return report


def _fmt(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "—"
