"""Cancellations and edits: before export they are mirrored; after export they become flagged items for staff with
an event (and optionally a 赤伝 file). Nothing is ever deleted."""

from __future__ import annotations

import csv
import io

from bridge.domain.orders import WorkflowState as S
from tests.orders.conftest import ORDER_FLOW_YAML, Harness

PREPAID = 2


async def test_cancelled_before_export_is_mirrored_and_never_sent(harness: Harness) -> None:
    order_id = await harness.place(user_id=1, payment_id=PREPAID)
    await harness.cycle()
    assert (await harness.state(order_id)).workflow_state is S.HOLD
    await harness.set_status(order_id, "I")
    writes_before = len(harness.status_writes(order_id))
    await harness.cycle()
    assert (await harness.state(order_id)).workflow_state is S.CANCELLED
    assert (await harness.history(order_id))[-1].reason == "cancelled in CS-Cart before export"
    assert harness.files() == []
    assert len(harness.status_writes(order_id)) == writes_before  # the bridge writes nothing back
    assert await harness.flags(order_id) == {}
    await harness.set_status(order_id, "P")  # a late payment does not revive it
    await harness.cycle()
    assert harness.files() == []


async def test_cancelled_after_export_is_flagged_for_staff_with_an_event(harness: Harness) -> None:
    order_id = await harness.place(user_id=2)
    await harness.cycle()
    assert harness.exported_ids() == [order_id]
    await harness.set_status(order_id, "I")
    await harness.cycle()
    mirrored = await harness.state(order_id)
    assert mirrored.workflow_state is S.CANCELLED
    flag = (await harness.flags(order_id))["cancelled_after_export"]
    assert "cancel the SMILE 受注 slip" in flag
    assert harness.events.of("order_flagged")[-1] == {"order_id": order_id, "flag": "cancelled_after_export",
                                                      "detail": flag}
    assert harness.exported_ids() == [order_id]  # no 赤伝 unless the rules ask for it
    live = await harness.store.fetchall("SELECT batch_id FROM order_exports WHERE order_id = ?", (order_id,))
    assert len(live) == 1  # the export record stays: SMILE still has the slip
    await harness.cycle()
    assert len(harness.events.of("order_flagged")) == 1  # flagged once, not every cycle


async def test_the_rules_can_ask_for_a_cancellation_file(harness: Harness) -> None:
    (harness.settings.rules_dir / "order_flow.yaml").write_text(
        ORDER_FLOW_YAML + "cancellations: {file: true}\n", encoding="utf-8")
    await harness.wired.services.rules.reload_hook()
    order_id = await harness.place(user_id=3, lines=[(3, 2)])
    await harness.cycle()
    await harness.set_status(order_id, "I")
    result = await harness.cycle()
    files = sorted(harness.outbox.glob("juchu_*.csv"))
    assert len(files) == 2, result.notes
    (red_file,) = [path for path in files if "_C" in path.name]  # batch C…: cancellation
    red = list(csv.DictReader(io.StringIO(red_file.read_bytes().decode("cp932"))))
    first = red[0]
    assert (first["オーダー№"], first["商品ｺｰﾄﾞ"], first["数量"]) == (str(order_id), "10000003", "-2")
    assert all(row["金額"].startswith("-") for row in red)
    assert any("赤伝 file" in note for note in result.notes)
    assert "(a 赤伝 file follows)" in (await harness.flags(order_id))["cancelled_after_export"]


async def test_an_order_edited_in_cs_cart_after_export_is_flagged(harness: Harness) -> None:
    order_id = await harness.place(user_id=4, lines=[(3, 2)])
    await harness.cycle()
    sim_order = harness.sim.state.orders[order_id]
    next(iter(sim_order.items.values())).amount = 5  # staff change the quantity in the admin
    harness.touch(order_id)
    await harness.cycle()
    assert (await harness.state(order_id)).workflow_state is S.SHIPPING_INSTRUCTED
    assert "edited in CS-Cart after export" in (await harness.flags(order_id))["edited_after_export"]
    assert harness.exported_ids() == [order_id]  # never re-sent on its own


async def test_a_status_change_after_export_is_not_an_edit(harness: Harness) -> None:
    order_id = await harness.place(user_id=5)
    await harness.cycle()
    harness.touch(order_id)
    await harness.cycle()
    assert await harness.flags(order_id) == {}
