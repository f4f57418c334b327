"""The business dashboard (ops/grafana/business.json): titled from the catalogue, every query valid PromQL (promtool)
over metrics the bridge exports, and the figures behind them right on a real state store.

Grafana itself cannot be installed here (Debian and PyPI have no Grafana server; its Go module is AGPL), so the
import into a real Grafana is not tested. Instead both dashboards go through the dashboard model of Grafana's
Foundation SDK (generated from Grafana's published schema): nothing but the import-only keys may be lost.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bridge import dashboards, metrics
from bridge.daemon import set_business_gauges
from bridge.domain.orders import Order, OrderLine, WorkflowState
from bridge.store import Store, business
from bridge.store import orders as mirror
from tests.ops.promql import exported_names, metric_names
from tests.ops.test_dashboard_and_alert_names import PROMETHEUS_OWN, dashboard_queries, label_values_metric

ROOT = Path(__file__).resolve().parents[2]
BUSINESS = ROOT / "ops" / "grafana" / "business.json"
VARIABLES = {"$instance": ".*", "$__rate_interval": "1m", "$__interval": "15s", "$__range": "5m"}


def load() -> dict[str, Any]:
    return json.loads(BUSINESS.read_text(encoding="utf-8"))


def test_shipped_file_is_the_japanese_rendering_and_english_renders_too() -> None:
    shipped = BUSINESS.read_text(encoding="utf-8")
    assert dashboards.dumps(dashboards.render(json.loads(shipped), "ja")) == shipped, (
        "ops/grafana/business.json is out of step: run python -m bridge.dashboards --input ops/grafana/business.json "
        "--output ops/grafana/business.json")
    english = dashboards.render(json.loads(shipped), "en")
    titles = {panel["title"] for panel in english["panels"]}
    assert {"Orders per hour", "Held orders by reason", "SKUs below reorder point", "Campaigns running",
            "直送 share today", "Sales per day"} <= titles
    japanese = " | ".join(panel["title"] for panel in load()["panels"])
    for topic in ("受注", "売上", "直送比率", "保留", "出荷", "発注点", "キャンペーン"):
        assert topic in japanese


def test_structure_grafana_needs_on_import() -> None:
    dashboard = load()
    assert dashboard["uid"] == dashboards.BUSINESS_UID and dashboard["uid"] != json.loads(
        (ROOT / "ops" / "grafana" / "dashboard.json").read_text(encoding="utf-8"))["uid"]
    assert len(dashboard["uid"]) <= 40  # Grafana's limit
    assert dashboard["__inputs"] == [dashboards.DATASOURCE_INPUT]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)) and set(ids) == set(dashboards.BUSINESS_TITLES)
    cells: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        area = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"]) for y in range(grid["y"], grid["y"] + grid["h"])}
        assert not area & cells, f"{panel['title']} overlaps another panel"
        cells |= area
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}" and panel["targets"], panel["title"]
            assert all(t["datasource"]["uid"] == "${datasource}" for t in panel["targets"])


def test_every_query_uses_exported_names_and_is_valid_promql(tmp_path: Path) -> None:
    exported = exported_names(metrics.REGISTRY) | PROMETHEUS_OWN
    queries = list(dashboard_queries(load()))
    used: set[str] = set()
    rules = []
    for number, query in enumerate(queries):
        names = label_values_metric(query) if query.startswith("label_values(") else metric_names(query)
        assert names and names <= exported, f"unknown metric(s) {sorted(names - exported)} in {query!r}"
        used |= names
        if not query.startswith("label_values("):
            for variable, value in VARIABLES.items():
                query = query.replace(variable, value)
            rules.append({"record": f"business:query_{number}", "expr": query})
    assert {"bridge_orders_placed_today", "bridge_sales_today_yen", "bridge_orders_on_hold",
            "bridge_orders_shipped_today", "bridge_stock_below_reorder", "bridge_campaigns_running",
            "bridge_campaign_usages"} <= used
    path = tmp_path / "business_rules.yml"
    path.write_text(json.dumps({"groups": [{"name": "business", "rules": rules}]}), encoding="utf-8")
    promtool = shutil.which("promtool") or "promtool"
    checked = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr


DROPPED_ON_IMPORT = {"__inputs", "__requires", "definition"}  # import metadata; `definition` is UI-only


def _lost(original: Any, parsed: Any, path: str = "") -> list[str]:
    if isinstance(original, dict) and isinstance(parsed, dict):
        lost = [f"{path}.{key}" for key in original if key not in parsed and key not in DROPPED_ON_IMPORT]
        return lost + [item for key in original if key in parsed for item in _lost(original[key], parsed[key],
                                                                                     f"{path}.{key}")]
    if isinstance(original, list) and isinstance(parsed, list):
        assert len(original) == len(parsed), path
        return [item for n, (a, b) in enumerate(zip(original, parsed)) for item in _lost(a, b, f"{path}[{n}]")]
    return []


@pytest.mark.parametrize("name", ["business.json", "dashboard.json"])
def test_both_dashboards_fit_grafanas_dashboard_schema(name: str) -> None:
    import importlib.util

    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.models.dashboard import Dashboard

    original = json.loads((ROOT / "ops" / "grafana" / name).read_text(encoding="utf-8"))
    parsed = json.loads(json.dumps(Dashboard.from_json(original), cls=JSONEncoder))
    assert _lost(original, parsed) == []  # every key is one the schema knows
    misspelt = {**original, "refersh": "1m", "panels": [{**original["panels"][1], "gridpos": {}}]}
    reparsed = json.loads(json.dumps(Dashboard.from_json(misspelt), cls=JSONEncoder))
    assert _lost(misspelt, reparsed) == [".refersh", ".panels[0].gridpos"]  # and a misspelt one is caught
    assert parsed["schemaVersion"] == original["schemaVersion"] and len(parsed["panels"]) == len(original["panels"])
    for panel in original["panels"]:
        assert panel["type"] == "row" or importlib.util.find_spec(
            f"grafana_foundation_sdk.models.{panel['type']}") is not None, f"unknown panel type {panel['type']}"


def _order(order_id: int, placed: datetime, total: int, direct: bool) -> Order:
    return Order(order_id=order_id, status="O", placed_at=placed, updated_at=None, user_id=1, email="a@example.jp",
                 total=Decimal(total), direct_ship=direct,
                 lines=(OrderLine(product_code="10000001", name="紙コップ", quantity=Decimal(1),
                                  unit_price=Decimal(total)),))


@pytest.mark.parametrize("hold_by, reason, kind", [
    ("bridge", "waiting for payment (先入金): ship after 入金確認", "payment"),
    ("bridge", "credit limit ¥100000 exceeded: open ¥90000 + this order ¥20000", "credit"),
    ("bridge", "unknown product code(s) 999: not in the SMILE 商品マスター", "unknown_code"),
    ("bridge", "直送 is not allowed to 沖縄県", "direct_ship"),
    ("staff", "held by staff in CS-Cart", "staff"),
    ("bridge", "something new", "other"),
])
def test_hold_reasons_fall_into_a_bounded_set_of_kinds(hold_by: str, reason: str, kind: str) -> None:
    assert business.hold_kind(hold_by, reason) == kind


async def test_figures_from_a_real_store_become_the_gauges(tmp_path: Path) -> None:
    now = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)  # 12:00 JST; the business day began at 2026-12-03 15:00 UTC
    store = await Store.open(tmp_path / "state.sqlite3")
    try:
        async with store.transaction() as tx:
            for order in (_order(1, now - timedelta(minutes=20), 1000, False),  # this hour
                          _order(2, now - timedelta(hours=5), 3000, True),  # today, 直送
                          _order(3, now - timedelta(hours=11, minutes=30), 500, False),  # 15:30 UTC yesterday = today
                          _order(4, now - timedelta(hours=13), 7000, False)):  # 14:00 UTC yesterday = yesterday JST
                await mirror.upsert(tx, order, initial_state=WorkflowState.RECEIVED)
            await mirror.transition(tx, 3, WorkflowState.HOLD, "waiting for payment (先入金)")
            await mirror.set_hold(tx, 3, "bridge", "waiting for payment (先入金): ship after 入金確認")
            await mirror.transition(tx, 2, WorkflowState.SHIPPING_INSTRUCTED, "gates passed")
            await mirror.transition(tx, 2, WorkflowState.SHIPPED, "tracking number")
        async with store.transaction() as tx:
            found = await business.figures(tx, now)
    finally:
        await store.close()
    assert found.orders_today == {False: 2, True: 1}
    assert found.sales_today == {False: Decimal(1500), True: Decimal(3000)}
    assert found.orders_last_hour == 1
    assert found.shipped_today == 1
    assert found.on_hold == {"payment": 1}
    set_business_gauges(found)
    scraped = metrics.exposition().decode()
    assert 'bridge_orders_placed_today{direct_ship="yes"} 1.0' in scraped
    assert 'bridge_sales_today_yen{direct_ship="no"} 1500.0' in scraped
    assert 'bridge_orders_on_hold{reason="payment"} 1.0' in scraped
    assert 'bridge_orders_on_hold{reason="credit"} 0.0' in scraped  # every kind is present, at 0 when none
