"""Delivery: lead time order → 出荷済 → 完了, on-time rate against the requested date, delays by carrier and
prefecture, direct-ship share.

Definitions (the tests recompute them from the seed), over orders whose first 出荷済 falls in the period (JST):
* lead time to ship = first entry into 出荷済 − order time, hours; to complete = first entry into 完了 − order time;
* on time = an order with a requested delivery date (配達希望日) shipped no later than ``transit_days`` before it;
  late days = ship day + transit days − requested day, for the late ones.
"""

from __future__ import annotations

from typing import Any

from bridge.analytics.reports.base import Chart, Column, Params, Report, Table, number

DEFAULTS = {"transit_days": 1}
CARRIER_LABELS = {"yamato": "ヤマト運輸", "sagawa": "佐川急便", "japanpost": "日本郵便", "other": "その他"}

_SQL = """
WITH firsts AS (
    SELECT order_id, min(entered_at) FILTER (WHERE state = 'shipped') AS shipped_at,
           min(entered_at) FILTER (WHERE state = 'complete') AS completed_at
    FROM order_states GROUP BY 1),
carrier AS (SELECT order_id, arg_min(carrier, shipped_at) AS carrier FROM shipments GROUP BY 1),
d AS (
    SELECT o.order_id, o.prefecture, o.direct_ship, o.requested_day, coalesce(c.carrier, 'other') AS carrier,
           date_diff('second', o.placed_at, f.shipped_at) / 3600.0 AS ship_hours,
           date_diff('second', o.placed_at, f.completed_at) / 3600.0 AS complete_hours,
           CAST(f.shipped_at + INTERVAL 9 HOUR AS DATE) AS ship_day
    FROM orders o JOIN firsts f USING (order_id) LEFT JOIN carrier c USING (order_id)
    WHERE f.shipped_at IS NOT NULL)
SELECT {key} AS key, count(*) AS shipped, avg(ship_hours), avg(complete_hours),
       count(*) FILTER (WHERE requested_day IS NOT NULL) AS with_date,
       count(*) FILTER (WHERE requested_day IS NOT NULL AND ship_day + $transit <= requested_day) AS on_time,
       avg(date_diff('day', requested_day, ship_day + $transit))
           FILTER (WHERE requested_day IS NOT NULL AND ship_day + $transit > requested_day) AS late_days,
       count(*) FILTER (WHERE direct_ship) AS direct
FROM d WHERE ship_day BETWEEN $start AND $end
GROUP BY 1 ORDER BY 1
"""

COLUMNS = (
    Column("key", "区分"), Column("shipped", "出荷件数 / shipped", "int"),
    Column("ship_hours", "出荷までの平均時間 / hours to ship", "float"),
    Column("complete_hours", "完了までの平均時間 / hours to complete", "float"),
    Column("with_date", "希望日指定 / with requested date", "int"), Column("on_time", "期日内 / on time", "int"),
    Column("on_time_rate", "期日内率 / on-time rate", "pct"), Column("late_days", "平均遅延日数 / late days", "float"),
    Column("direct_share", "直送比率 / direct-ship share", "pct"),
)


def _rows(con: Any, key: str, params: Params, transit: int) -> list[tuple[Any, ...]]:
    out = []
    for k, shipped, ship_h, done_h, with_date, on_time, late, direct in con.execute(
            _SQL.format(key=key), {"start": params.period.start, "end": params.period.end,
                                   "transit": transit}).fetchall():
        out.append((CARRIER_LABELS.get(k, k) if key == "carrier" else k, shipped, _r(ship_h), _r(done_h), with_date,
                    on_time, on_time / with_date if with_date else None, _r(late), direct / shipped))
    return out


def _r(value: Any) -> Any:
    return round(float(value), 2) if value is not None else None


def delivery(con: Any, params: Params) -> Report:
    transit = int({**DEFAULTS, **params.options}["transit_days"])
    total = _rows(con, "'全体'", params, transit)
    by_carrier = _rows(con, "carrier", params, transit)
    by_prefecture = _rows(con, "prefecture", params, transit)
    report = Report("delivery", "配送分析 / delivery", params.period, [
        Table("delivery_total", "配送サマリー / totals", COLUMNS, total),
        Table("delivery_by_carrier", "運送会社別 / by carrier", COLUMNS, by_carrier),
        Table("delivery_by_prefecture", "都道府県別 / by prefecture", COLUMNS, by_prefecture),
    ])
    report.charts.append(Chart("運送会社別 期日内率 (%)", "bar", [r[0] for r in by_carrier],
                               {"期日内率": [number(r[6]) * 100 for r in by_carrier]}))
    report.charts.append(Chart("運送会社別 出荷までの平均時間", "bar", [r[0] for r in by_carrier],
                               {"時間": [number(r[2]) for r in by_carrier]}))
    if total:
        t = total[0]
        report.summary = (f"出荷 {t[1]}件, 出荷まで平均 {number(t[2]):.1f}時間, 期日内率 "
                          f"{number(t[6]) * 100:.1f}%, 直送比率 {number(t[8]) * 100:.1f}%")
    else:
        report.summary = "期間内の出荷はありません"
    return report
