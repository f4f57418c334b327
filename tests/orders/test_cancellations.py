"""Cancellations and edits: before export they are mirrored; after export they become flagged items for staff with
an event, a 赤伝 file (and, for an edit, a corrected 受注) by default, or only the flag by setting. Nothing is ever
deleted."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

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
    assert harness.exported_ids() == [order_id, order_id]  # the 受注 and, by default, its 赤伝
    live = await harness.store.fetchall("SELECT kind FROM order_exports WHERE order_id = ? AND superseded_at IS NULL",
                                        (order_id,))
    assert sorted(row[0] for row in live) == ["cancel", "order"]  # the export record stays: SMILE has the slip
    await harness.cycle()
    assert len(harness.events.of("order_flagged")) == 1  # flagged once, not every cycle


async def test_a_cancellation_after_export_writes_a_red_slip(harness: Harness) -> None:
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


async def test_the_rules_can_ask_for_flags_only(harness: Harness) -> None:
    (harness.settings.rules_dir / "order_flow.yaml").write_text(
        ORDER_FLOW_YAML + "cancellations: {file: false, edits: flag}\n", encoding="utf-8")
    await harness.wired.services.rules.reload_hook()
    edited = await harness.place(user_id=4, lines=[(3, 2)])
    cancelled = await harness.place(user_id=4, lines=[(4, 1)])
    await harness.cycle()
    next(iter(harness.sim.state.orders[edited].items.values())).amount = 5  # staff change the quantity
    harness.touch(edited)
    await harness.set_status(cancelled, "I")
    await harness.cycle()
    assert (await harness.state(edited)).workflow_state is S.SHIPPING_INSTRUCTED
    assert "check the SMILE slip" in (await harness.flags(edited))["edited_after_export"]
    assert "cancel the SMILE 受注 slip" in (await harness.flags(cancelled))["cancelled_after_export"]
    assert sorted(harness.exported_ids()) == [edited, cancelled]  # nothing written besides the first 受注


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("cp932"))))


async def test_an_order_edited_after_export_gets_a_red_slip_and_a_corrected_one(harness: Harness) -> None:
    order_id = await harness.place(user_id=4, lines=[(3, 2)])
    await harness.cycle()
    sim_order = harness.sim.state.orders[order_id]
    next(iter(sim_order.items.values())).amount = 5  # staff change the quantity in the admin
    harness.touch(order_id)
    result = await harness.cycle()
    assert (await harness.state(order_id)).workflow_state is S.SHIPPING_INSTRUCTED
    assert "a corrected 受注 follow" in (await harness.flags(order_id))["edited_after_export"]
    first, red, corrected = sorted(harness.outbox.glob("juchu_*.csv"), key=lambda p: p.name.split("_")[-1][1:])
    assert "_C" in red.name and "_O" in corrected.name, result.notes
    assert [(r["商品ｺｰﾄﾞ"], r["数量"]) for r in _rows(red)] == [("10000003", "-2")]  # what SMILE has, taken back
    assert [(r["商品ｺｰﾄﾞ"], r["数量"]) for r in _rows(corrected)] == [("10000003", "5")]
    assert sum(Decimal(r["金額"]) for r in _rows(corrected)) == sim_order.total
    live = await harness.store.fetchall(
        "SELECT kind, batch_id FROM order_exports WHERE order_id = ? AND superseded_at IS NULL ORDER BY kind",
        (order_id,))
    assert [row[0] for row in live] == ["cancel", "order"] and live[1][1] in corrected.name
    await harness.cycle()
    assert len(sorted(harness.outbox.glob("juchu_*.csv"))) == 3  # corrected once, not every cycle

    await harness.set_status(order_id, "I")  # cancelled later: the 赤伝 takes back the corrected slip
    await harness.cycle()
    last = sorted(harness.outbox.glob("juchu_*_C*.csv"))[-1]
    assert [(r["商品ｺｰﾄﾞ"], r["数量"]) for r in _rows(last)] == [("10000003", "-5")]


async def test_a_status_change_after_export_is_not_an_edit(harness: Harness) -> None:
    order_id = await harness.place(user_id=5)
    await harness.cycle()
    harness.touch(order_id)
    await harness.cycle()
    assert await harness.flags(order_id) == {}
