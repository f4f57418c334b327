"""The delay watch and the notification timing, on the simulator: the metric the BridgeShipmentDelayed alert uses
is really exported, the event goes out once per delay, and an immediate notification mails at the next run."""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML

from bridge import metrics
from bridge.domain.orders import WorkflowState as S
from tests.carriers.e2e import later, past_wall_clock, shipping_for
from tests.carriers.samples import ROOT, SHIPPED_RULES


def alert_metric(name: str) -> str:
    """The series an alert of ops/prometheus/alerts.yml compares (``metric > 0``)."""
    doc = YAML(typ="safe").load((ROOT / "ops" / "prometheus" / "alerts.yml").read_text(encoding="utf-8"))
    rules = [rule for group in doc["groups"] for rule in group["rules"] if rule.get("alert") == name]
    return rules[0]["expr"].split()[0]


def exported_value(name: str) -> float | None:
    for line in metrics.exposition().decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


async def test_delayed_orders_raise_the_alert_metric_and_one_event(tmp_path: Path) -> None:
    name = alert_metric("BridgeShipmentDelayed")
    async with shipping_for(tmp_path) as s:
        order_id = await s.instruct((1, 1))
        await s.run()
        assert exported_value(name) == 0
        await s.at(later(s, days=10))  # no result file: still 出荷指示 after more than 2 business days
        assert exported_value(name) == 1
        await s.run()
        events = [e for e in s.orders.events.of("order_flagged") if e["flag"] == "shipment_delayed"]
        assert len(events) == 1 and events[0]["order_id"] == order_id
        assert "business days (limit 2)" in events[0]["detail"]
        assert "shipment_delayed" in await s.orders.flags(order_id)

        s.drop("late.csv", f"order_no,delivery_no\n{order_id},389711074012\n")
        await s.run()
        assert await s.state(order_id) is S.SHIPPED
        assert exported_value(name) == 0 and "shipment_delayed" not in await s.orders.flags(order_id)


async def test_immediate_notification_mails_once_shipments_exist(tmp_path: Path) -> None:
    rules = SHIPPED_RULES.read_text(encoding="utf-8").replace(
        'notification:\n  mode: times\n  times: ["12:00", "17:00"]', "notification:\n  mode: immediate")
    assert "mode: immediate" in rules
    async with shipping_for(tmp_path, rules) as s:
        order_id = await s.instruct((1, 1))
        s.drop("now.csv", f"order_no,delivery_no\n{order_id},389711074012\n")
        await s.run()
        assert await s.state(order_id) is S.SHIPPED  # the shipment is created by this run's writes …
        # The mirror stamps the move with the wall clock (whole seconds), the test clock started before it: the next
        # run is a moment after the wall clock, as in the daemon (2 s after the test clock was not enough when the
        # steps above took longer than that on a loaded machine).
        await s.at(past_wall_clock(s, seconds=2))
        assert await s.state(order_id) is S.NOTIFIED  # … and the mail follows as soon as CS-Cart has it
        assert len(s.customer_mails(order_id)) == 1
        await s.run()
        await s.run()
        assert await s.state(order_id) is S.COMPLETE and len(s.customer_mails(order_id)) == 1
