"""Low-stock alerts once per crossing (metric, MQTT event, staff mail), the CLI, and Parquet/CSV export."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
from typer.testing import CliRunner

from bridge import metrics
from bridge.analytics import alerts, feed
from bridge.analytics.store import AnalyticsStore
from bridge.cli import app
from bridge.config import Settings
from bridge.domain.catalog import Product, StockLevel
from bridge.domain.time import UTC
from tests.analytics.smtp import smtp_server

RULES_DIR = Path(__file__).resolve().parents[2] / "rules"


class Events:
    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []

    async def publish(self, kind: str, payload: Mapping[str, Any]) -> None:
        from bridge.domain.time import Clock
        from bridge.events import build_event

        build_event(kind, payload, source="test", clock=Clock())  # a wrong kind or field raises
        self.published.append((kind, dict(payload)))


class Context:
    def __init__(self, settings: Settings, events: Events) -> None:
        from bridge.rules import load_rules
        from bridge.sync.services import FixedRules, Services
        from bridge.wiring import rule_files

        self.settings = settings
        self.services = Services(rules=FixedRules(load_rules(RULES_DIR, rule_files())), events=events)


def _orders(analytics: AnalyticsStore, day: date) -> None:
    """Demand of 10 a day for 30 days for SKU A (none for B)."""
    orders, lines = [], []
    for n in range(30):
        placed = datetime.combine(day - timedelta(days=n), datetime.min.time()).replace(hour=3, tzinfo=UTC)
        orders.append((n + 1, placed.replace(tzinfo=None), placed.replace(tzinfo=None), (day - timedelta(days=n)),
                       "100001", 1, "", "東京都", "掛売", "on_account", False, [], "complete", Decimal(1000),
                       Decimal(1000), Decimal(0), None, placed.replace(tzinfo=None)))
        lines.append((n + 1, 0, "A", Decimal(10), Decimal(100), Decimal(1000)))
    with analytics.connect() as con:
        feed.write_orders(con, orders, lines)


async def test_a_sku_crossing_its_reorder_point_alerts_once(tmp_path: Path) -> None:
    day = date(2026, 11, 30)
    analytics = AnalyticsStore(tmp_path / "analytics.duckdb")
    feed.products(analytics, [Product(code="A", name="ゴム手袋", cost_price=Decimal(50)),
                              Product(code="B", name="割り箸", cost_price=Decimal(5))], day)
    _orders(analytics, day)
    events = Events()
    with smtp_server() as (inbox, port):
        settings = Settings(data_dir=tmp_path, rules_dir=RULES_DIR,
                            mail={"smtp_host": "127.0.0.1", "smtp_port": port, "starttls": False,
                                  "staff": ["soko@example.jp"]})
        context = Context(settings, events)
        before = metrics.STOCK_REORDER_ALERTS._value.get()
        # lead time 7 days × 10 a day = 70 (σ is 0 over the 30 days with demand, the other 60 days count as 0)
        feed.stock(analytics, [StockLevel("A", "01", Decimal(500)), StockLevel("B", "01", Decimal(1))], day)
        assert await alerts.check(context, analytics, day) == []
        feed.stock(analytics, [StockLevel("A", "01", Decimal(20)), StockLevel("B", "01", Decimal(1))],
                   day + timedelta(days=1))
        crossed = await alerts.check(context, analytics, day + timedelta(days=1))
        again = await alerts.check(context, analytics, day + timedelta(days=1))
        feed.stock(analytics, [StockLevel("A", "01", Decimal(900)), StockLevel("B", "01", Decimal(1))],
                   day + timedelta(days=2))
        recovered = await alerts.check(context, analytics, day + timedelta(days=2))
        feed.stock(analytics, [StockLevel("A", "01", Decimal(5)), StockLevel("B", "01", Decimal(1))],
                   day + timedelta(days=3))
        crossed_again = await alerts.check(context, analytics, day + timedelta(days=3))
    assert [c.product_code for c in crossed] == ["A"] and again == [] and recovered == []
    assert [c.product_code for c in crossed_again] == ["A"]
    assert metrics.STOCK_REORDER_ALERTS._value.get() - before == 2
    assert metrics.STOCK_BELOW_REORDER._value.get() == 1
    assert [kind for kind, _ in events.published] == ["stock_below_reorder", "stock_below_reorder"]
    assert events.published[0][1]["product_code"] == "A" and events.published[0][1]["available"] == 20
    assert len(inbox.messages) == 2
    assert inbox.messages[0]["Subject"] == "[stock] 1 below reorder point"  # ja: tests/i18n
    assert "A ゴム手袋: 在庫+発注残 20" in inbox.messages[0].get_body(("plain",)).get_content()


def test_cli_lists_reports_prints_one_and_exports(shop, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"data_dir: {tmp_path}\nrules_dir: {RULES_DIR}\nanalytics:\n  path: {shop.analytics.path}\n",
                      encoding="utf-8")
    runner = CliRunner()
    listed = runner.invoke(app, ["report", "list"])
    assert listed.exit_code == 0 and "sales" in listed.stdout and "forecast" in listed.stdout
    shown = runner.invoke(app, ["report", "sales", "--from", "2026-11-01", "--to", "2026-11-30", "--by", "payment",
                                "-c", str(config)])
    assert shown.exit_code == 0, shown.output
    assert "掛売" in shown.stdout and "売上" in shown.stdout
    out = tmp_path / "csv"
    written = runner.invoke(app, ["report", "sales", "--from", "2026-11-01", "--to", "2026-11-30", "--by",
                                  "customer", "--format", "csv", "-o", str(out), "-c", str(config)])
    assert written.exit_code == 0, written.output
    with (out / "sales_by_customer.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    with shop.analytics.connect() as con:
        expected = con.execute("""
            SELECT customer_code, sum(amount) FROM (
                SELECT o.customer_code, l.amount FROM orders o JOIN order_lines l USING (order_id)
                WHERE o.state <> 'cancelled' AND o.placed_day BETWEEN '2026-11-01' AND '2026-11-30'
                UNION ALL  -- net of returns (返品) on their day
                SELECT o.customer_code, -r.amount FROM returns r JOIN orders o USING (order_id)
                WHERE o.state <> 'cancelled' AND r.returned_day BETWEEN '2026-11-01' AND '2026-11-30')
            GROUP BY 1""").fetchall()
    assert {r["key"]: Decimal(r["sales"]) for r in rows} == {k: v for k, v in expected}
    bad = runner.invoke(app, ["report", "sales", "--by", "colour", "-c", str(config)])
    assert bad.exit_code == 1 and "--by" in bad.output
    parquet = tmp_path / "lines.parquet"
    exported = runner.invoke(app, ["analytics", "export", "order_lines", "-o", str(parquet), "-c", str(config)])
    assert exported.exit_code == 0, exported.output
    with shop.analytics.connect() as con:
        count = con.execute("SELECT count(*), sum(amount) FROM order_lines").fetchall()[0]
    assert duckdb.sql(f"SELECT count(*), sum(amount) FROM '{parquet}'").fetchall()[0] == count
    pq = tmp_path / "tables"
    as_parquet = runner.invoke(app, ["report", "stock", "--from", "2026-11-01", "--to", "2026-11-30", "--format",
                                     "parquet", "-o", str(pq), "-c", str(config)])
    assert as_parquet.exit_code == 0, as_parquet.output
    assert duckdb.sql(f"SELECT count(*) FROM '{pq / 'stock_by_sku.parquet'}'").fetchall()[0][0] > 0
