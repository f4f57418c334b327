"""Returns (返品, issue 15 item 7) end to end with the SHIPPED rules (rules/returns.yaml among them) and the example
config's smile/orders/catalog sections on the simulator
with the smile_bridge add-on and CS-Cart's rma: an order goes to 完了, the customer asks to return part of it, staff
approve the request in CS-Cart (the add-on's return.status_changed event), and the orders job writes the 返品 slip
(negative rows, the configured 取引区分 / 取引区分属性, restock warehouses by reason), mails 返品受付 once and shows the
return in ``bridge orders show``; a declined item stays off the slip; a return of an order SMILE never got waits."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

from bridge.cscart.sim import returns as rma
from bridge.domain.orders import WorkflowState as S
from bridge.store import returns as returns_store
from tests.carriers.e2e import Shipping, later, shipping_for
from tests.carriers.test_e2e_credit import example_sections
from tests.carriers.test_e2e_mails import _mails, _with_addon
from tests.orders.shipped import shipped_rules_dir
from tests.orders.test_readback import cli

DEFECTIVE, WRONG_ITEM = 1, 2  # the simulator's rma reasons (rules/returns.yaml: Defective → discard)


def _return_rows(s: Shipping) -> list[dict[str, str]]:
    rows = []
    for path in sorted(s.orders.outbox.glob("juchu_*_R*.csv")):
        rows += list(csv.DictReader(io.StringIO(path.read_bytes().decode("cp932"))))
    return rows


async def _complete(s: Shipping, *lines: tuple[int, int]) -> int:
    order_id = await s.instruct(*lines)
    await s.run()
    s.drop(f"result_{order_id}.csv", f"order_no,delivery_no\n{order_id},389711074012\n")
    await s.run()
    await s.at(later(s, days=1))
    await s.run()
    assert await s.state(order_id) is S.COMPLETE
    return order_id


async def test_an_approved_return_gets_its_henpin_slip_restock_decisions_and_one_mail(tmp_path: Path) -> None:
    async with shipping_for(tmp_path, rules_dir=shipped_rules_dir(tmp_path / "shipped"), **example_sections()) as s:
        await _with_addon(s)
        state = s.orders.sim.state
        order_id = await _complete(s, (1, 3), (2, 2), (3, 1))
        items = list(state.orders[order_id].items.values())
        first, second, third = items
        request = rma.create_return(state, order_id, [(first.item_id, 2, WRONG_ITEM), (second.item_id, 1, DEFECTIVE),
                                                      (third.item_id, 1, WRONG_ITEM)], comment="サイズ違い")
        await s.orders.cycle()
        assert _return_rows(s) == []  # requested (R) only: nothing yet
        rma.decline_item(state, request.return_id, third.item_id)  # staff keep one item out of the return
        rma.change_return_status(state, request.return_id, "A")  # … and approve the request
        await s.orders.cycle()

        rows = _return_rows(s)
        assert sorted((r["商品ｺｰﾄﾞ"], r["数量"], r["金額"], r["倉庫ｺｰﾄﾞ"]) for r in rows) == sorted([
            (first.product_code, "-2", str(-2 * int(float(first.price))), "000001"),  # wrong item: back on sale
            (second.product_code, "-1", str(-int(float(second.price))), "000999"),  # defective: discard warehouse
        ])
        assert {(r["取引区分"], r["取引区分属性"], r["受注№"], r["備考"]) for r in rows} == {
            ("1", "2", str(order_id), f"返品 #{request.return_id}")}
        original = [r for path in sorted(s.orders.outbox.glob("juchu_*_O*.csv"))
                    for r in csv.DictReader(io.StringIO(path.read_bytes().decode("cp932")))
                    if r["受注№"] == str(order_id)]
        assert {r["得意先ｺｰﾄﾞ"] for r in rows} == {r["得意先ｺｰﾄﾞ"] for r in original}  # the 受注's 得意先

        [(kind, context)] = [(k, c) for k, c in _mails(s, order_id) if k == "returned"]
        returned = context["return"]
        assert isinstance(returned, dict) and returned["return_id"] == request.return_id
        assert returned["amount"] == f"{2 * int(float(first.price)) + int(float(second.price)):,}"
        assert sorted(map(tuple, (i.values() for i in returned["items"]))) == sorted([
            (first.product_code, first.product, 2), (second.product_code, second.product, 1)])

        rma.change_return_status(state, request.return_id, "C")  # completed later: never a second slip or mail
        await s.orders.cycle()
        await s.orders.cycle()
        assert len(_return_rows(s)) == 2
        assert [k for k, _ in _mails(s, order_id)].count("returned") == 1

        async with s.orders.store.transaction() as tx:
            [saved] = await returns_store.of_order(tx, order_id)
        assert saved.state == returns_store.SLIPPED and saved.batch_id == "R000001"
        assert sorted((line["product_code"], line["action"]) for line in saved.lines) == sorted([
            (first.product_code, "restock"), (second.product_code, "discard")])

        code, output = await asyncio.to_thread(cli, s.orders, "orders", "show", str(order_id))
        assert code == 0, output
        assert f"return {request.return_id} (CS-Cart status A): 返品 slip written" in output
        assert "file juchu_" in output and "(batch R000001)" in output
        assert f"{second.product_code} {second.product} × 1" in output and "discard → 倉庫 000999" in \
            output and "(reason: Defective)" in output


async def test_a_return_of_an_order_smile_never_got_waits(tmp_path: Path) -> None:
    async with shipping_for(tmp_path, rules_dir=shipped_rules_dir(tmp_path / "shipped")) as s:
        await _with_addon(s)
        state = s.orders.sim.state
        order_id = await s.orders.place(user_id=6, payment_id=2, lines=[(4, 1)])  # 先入金, unpaid: 保留
        await s.orders.cycle()
        assert await s.state(order_id) is S.HOLD
        [item] = state.orders[order_id].items.values()
        request = rma.create_return(state, order_id, [(item.item_id, 1, WRONG_ITEM)])
        rma.change_return_status(state, request.return_id, "A")
        result = await s.orders.cycle()
        assert _return_rows(s) == []
        assert any(f"return {request.return_id} of order {order_id}: order {order_id} has no 受注 in SMILE" in note
                   for note in result.notes)
        async with s.orders.store.transaction() as tx:
            [saved] = await returns_store.of_order(tx, order_id)
        assert saved.state == returns_store.HELD
