"""Customers: RFM segments, repeat rate, average order value, purchase interval, churn risk, new vs returning.

Definitions (the tests recompute them from the seed), over orders not cancelled, placed up to the period's end:
* purchase interval = (last order day − first order day) / (orders − 1), for customers with 2+ orders;
* churn risk = 2+ orders and days since the last order > ``churn_factor`` × the usual interval;
* new = first order inside the period; returning = ordered in the period and before it;
* repeat rate = share of the period's customers with 2+ orders so far;
* RFM over the ``rfm_days`` days up to the end: recency, frequency and sales each scored 1–5 in quintiles
  (ties broken by 得意先コード), then named segments;
* sales are net of returns (返品) on the return's JST day, credited to the order's 得意先コード: period sales and
  the RFM monetary value subtract the returns of their window (returns of cancelled orders are ignored); average
  order value = the period's net sales / the period's orders; order counts are not changed by returns.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bridge.analytics.reports.base import Chart, Column, Params, Report, Table, number

DEFAULTS = {"churn_factor": 2.0, "rfm_days": 365, "rows": 500}


def segment(r: int, f: int) -> str:
    if r >= 4 and f >= 4:
        return "優良 / champions"
    if f >= 4:
        return "ロイヤル / loyal"
    if r >= 4 and f <= 2:
        return "新規・有望 / promising"
    if r <= 2 and f >= 3:
        return "離反懸念 / at risk"
    if r <= 2 and f <= 2:
        return "休眠 / hibernating"
    return "一般 / others"


_SQL = """
WITH o AS (
    SELECT o.order_id, o.customer_code, o.placed_day, sum(l.amount) AS amount
    FROM orders o JOIN order_lines l ON l.order_id = o.order_id
    WHERE o.state <> 'cancelled' AND o.customer_code <> '' AND o.placed_day <= $end
    GROUP BY 1, 2, 3),
ret AS (
    SELECT coalesce(o.customer_code, r.customer_code) AS customer_code,
           sum(r.amount) FILTER (WHERE r.returned_day >= $start) AS period_returns,
           sum(r.amount) FILTER (WHERE r.returned_day >= $rfm_start) AS rfm_returns
    FROM returns r LEFT JOIN orders o ON o.order_id = r.order_id
    WHERE r.returned_day <= $end AND coalesce(o.state, '') <> 'cancelled'
    GROUP BY 1),
gross AS (
    SELECT customer_code, min(placed_day) AS first_day, max(placed_day) AS last_day, count(*) AS orders,
           count(*) FILTER (WHERE placed_day >= $start) AS period_orders,
           sum(amount) FILTER (WHERE placed_day >= $start) AS gross_period_sales,
           count(*) FILTER (WHERE placed_day >= $rfm_start) AS frequency,
           sum(amount) FILTER (WHERE placed_day >= $rfm_start) AS gross_monetary
    FROM o GROUP BY 1),
per AS (
    SELECT g.*, CASE WHEN g.period_orders > 0 OR ret.period_returns IS NOT NULL
                     THEN coalesce(g.gross_period_sales, 0) - coalesce(ret.period_returns, 0) END AS period_sales,
           CASE WHEN g.frequency > 0 THEN coalesce(g.gross_monetary, 0) - coalesce(ret.rfm_returns, 0) END
               AS monetary
    FROM gross g LEFT JOIN ret USING (customer_code)),
rfm AS (
    SELECT customer_code, date_diff('day', last_day, CAST($end AS DATE)) AS recency,
           ntile(5) OVER (ORDER BY date_diff('day', last_day, CAST($end AS DATE)) DESC, customer_code) AS r,
           ntile(5) OVER (ORDER BY frequency, customer_code) AS f,
           ntile(5) OVER (ORDER BY monetary, customer_code) AS m
    FROM per WHERE frequency > 0)
SELECT p.customer_code, coalesce(c.name, ''), coalesce(c.customer_group, '不明'), p.first_day, p.last_day, p.orders,
       p.period_orders, p.period_sales, rfm.recency, rfm.r, rfm.f, rfm.m, p.frequency, p.monetary
FROM per p LEFT JOIN rfm USING (customer_code) LEFT JOIN customers c USING (customer_code)
ORDER BY p.customer_code
"""


def customers(con: Any, params: Params) -> Report:
    o = {**DEFAULTS, **params.options}
    period = params.period
    rfm_start = period.end - timedelta(days=int(o["rfm_days"]) - 1)
    rows = []
    segments: dict[str, list[float]] = {}
    active = new = returning = repeaters = churn = 0
    period_orders = 0
    period_sales = 0.0
    for (code, name, group, first, last, orders, p_orders, p_sales, recency, r, f, m, freq,
         monetary) in con.execute(_SQL, {"start": period.start, "end": period.end, "rfm_start": rfm_start}).fetchall():
        interval = (last - first).days / (orders - 1) if orders >= 2 else None
        since_last = (period.end - last).days
        at_risk = interval is not None and since_last > float(o["churn_factor"]) * interval
        status = ""
        period_sales += number(p_sales)
        if p_orders:
            active += 1
            period_orders += p_orders
            status = "新規 / new" if first >= period.start else "既存 / returning"
            new += first >= period.start
            returning += first < period.start
            repeaters += orders >= 2
        churn += at_risk
        name_of_segment = segment(r, f) if r is not None else ""
        if name_of_segment:
            bucket = segments.setdefault(name_of_segment, [0, 0.0])
            bucket[0] += 1
            bucket[1] += number(monetary)
        rows.append((code, name, group, first, last, orders, p_orders, p_sales,
                     number(p_sales) / p_orders if p_orders else None, interval, since_last, at_risk, status,
                     r, f, m, name_of_segment))
    columns = (
        Column("customer_code", "得意先コード"), Column("name", "得意先名"), Column("group", "顧客グループ"),
        Column("first_day", "初回注文日 / first order", "date"), Column("last_day", "最終注文日 / last order", "date"),
        Column("orders", "累計注文数 / orders so far", "int"), Column("period_orders", "期間注文数", "int"),
        Column("period_sales", "期間売上", "yen"), Column("aov", "平均注文額 / AOV", "yen"),
        Column("interval", "購買間隔(日) / interval", "days"), Column("days_since_last", "最終注文からの日数", "int"),
        Column("churn_risk", "離反リスク / churn risk", "text"), Column("status", "新規/既存", "text"),
        Column("r", "R", "int"), Column("f", "F", "int"), Column("m", "M", "int"), Column("segment", "セグメント"),
    )
    limit = int(o["rows"]) if o.get("rows") else None
    detail = sorted(rows, key=lambda row: (-number(row[7]), row[0]))
    seg_rows = sorted(((k, v[0], v[1]) for k, v in segments.items()), key=lambda row: -row[1])
    summary = Table("customers_total", "顧客サマリー / customers", (
        Column("customers", "注文顧客数", "int"), Column("new", "新規", "int"), Column("returning", "既存", "int"),
        Column("repeat_rate", "リピート率", "pct"), Column("aov", "平均注文額", "yen"),
        Column("churn_risk", "離反リスク顧客数", "int")),
        [(active, new, returning, repeaters / active if active else None,
          period_sales / period_orders if period_orders else None, churn)])
    report = Report("customers", "顧客分析 / customers", period, [
        summary,
        Table("rfm_segments", "RFMセグメント / RFM segments", (
            Column("segment", "セグメント"), Column("customers", "顧客数", "int"),
            Column("sales", f"売上 (直近{o['rfm_days']}日)", "yen")), seg_rows),
        Table("customers", "顧客別 / by customer", columns, detail[:limit]),
        Table("churn_risk", "離反リスク / churn risk", columns, [r for r in detail if r[11]][:limit]),
    ])
    report.charts.append(Chart("RFMセグメント別顧客数", "bar", [r[0] for r in seg_rows],
                               {"顧客数": [float(r[1]) for r in seg_rows]}))
    report.summary = (f"注文顧客 {active}社 (新規 {new}, 既存 {returning}), リピート率 "
                      f"{(repeaters / active * 100) if active else 0:.1f}%, 離反リスク {churn}社")
    return report
