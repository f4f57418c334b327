"""The order flow with the SHIPPED rules files (issue 15): each defect the audit found is reproduced here with
rules/order_flow.yaml and rules/pricing.yaml as delivered, not with rules written for the tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bridge.domain.orders import WorkflowState as S
from bridge.rules.pricing import direct_ship_surcharge
from bridge.store import orders as mirror
from bridge.sync.orders.credit import credit_exposure
from bridge.sync.orders.rules import order_rules
from tests.orders.conftest import Harness, harness_for
from tests.orders.shipped import shipped_rules_dir

ON_ACCOUNT, PREPAID, CARD, COD = 1, 2, 3, 4


@pytest.fixture
async def shipped(tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness_for(tmp_path, rules_dir=shipped_rules_dir(tmp_path / "shipped-rules")) as built:
        yield built


async def _direct(h: Harness, user_id: int, product: int) -> int:
    order_id = await h.place(user_id=user_id, lines=[(product, 2)], direct_ship={"smile_ship_to_code": ""})
    subtotal = h.sim.state.orders[order_id].subtotal
    h.addon[order_id]["smile_direct_ship_surcharge"] = str(
        direct_ship_surcharge(subtotal, order_rules(h.context.services.rules.current).pricing))
    return order_id


async def _last_reason(h: Harness, order_id: int) -> str:
    return (await h.history(order_id))[-1].reason


# -- defect 1: the product's 直送可 flag -------------------------------------------------------------------------


async def test_direct_ship_of_a_flagged_product_goes_to_smile_with_the_shipped_rules(shipped: Harness) -> None:
    shipped.sim.state.products[3].extra = {"smile_direct_ship_allowed": "Y"}  # staff ticked 直送可 in CS-Cart
    shipped.sim.state.products[4].extra = {"smile_direct_ship_allowed": "N"}
    allowed = await _direct(shipped, 13, product=3)
    refused = await _direct(shipped, 14, product=4)
    await shipped.cycle()
    assert (await shipped.state(allowed)).workflow_state is S.SHIPPING_INSTRUCTED
    assert shipped.exported_ids() == [allowed]
    assert (await shipped.state(refused)).workflow_state is S.HOLD
    assert "直送 is not allowed for product(s) 10000004" in await _last_reason(shipped, refused)

    shipped.sim.state.products[4].extra = {"smile_direct_ship_allowed": "Y"}  # ticked later: the held order goes
    await shipped.cycle()
    assert (await shipped.state(refused)).workflow_state is S.SHIPPING_INSTRUCTED
    assert sorted(shipped.exported_ids()) == [allowed, refused]


# -- defect 2: credit with SMILE's 売掛残 ---------------------------------------------------------------------------


async def _complete(h: Harness, order_id: int) -> None:
    """The order went its whole way: shipped, mailed, 完了 (it is still unpaid until SMILE's 入金)."""
    async with h.store.transaction() as tx:
        for state in (S.SHIPPED, S.NOTIFIED, S.COMPLETE):
            await mirror.transition(tx, order_id, state, "test: delivered")


async def test_a_completed_order_counts_until_smiles_receivable_includes_it(shipped: Harness) -> None:
    first = await shipped.place(user_id=3, lines=[(5, 1)])
    total = shipped.sim.state.orders[first].total
    await shipped.credit("100003", total * 3 / 2)  # room for one such order, not two
    await shipped.cycle()
    assert (await shipped.state(first)).workflow_state is S.SHIPPING_INSTRUCTED
    await _complete(shipped, first)

    second = await shipped.place(user_id=3, lines=[(5, 1)])
    await shipped.cycle()
    assert (await shipped.state(second)).workflow_state is S.HOLD, "the first order is unpaid: it still counts"
    assert f"open ¥{total} + this order ¥{total}" in await _last_reason(shipped, second)

    # SMILE's 得意先マスター after the first order's export: it is in the 売掛残 now, and paid (0 left).
    row = await shipped.store.fetchone("SELECT exported_at FROM order_exports WHERE order_id = ?", (first,))
    exported = datetime.fromisoformat(row[0])
    await shipped.credit_file("100003", total * 3 / 2, Decimal(0), as_of=exported + timedelta(minutes=1))
    await shipped.cycle()
    assert (await shipped.state(second)).workflow_state is S.SHIPPING_INSTRUCTED


async def test_smiles_receivable_holds_an_order_and_the_checkout_figure_is_the_same_number(shipped: Harness) -> None:
    order_id = await shipped.place(user_id=4, lines=[(5, 1)])
    total = shipped.sim.state.orders[order_id].total
    await shipped.credit_file("100004", Decimal(10_000), Decimal(10_000) - total + 1,
                              as_of=datetime.now(UTC) - timedelta(days=1))
    await shipped.cycle()
    assert (await shipped.state(order_id)).workflow_state is S.HOLD
    reason = await _last_reason(shipped, order_id)
    assert f"credit limit ¥10000 exceeded: open ¥{Decimal(10_000) - total + 1}" in reason
    async with shipped.store.transaction() as tx:
        checkout = (await credit_exposure(tx))["100004"]
    assert checkout == Decimal(10_000) + 1, "the add-on's figure: 売掛残 + the order waiting in 保留"


# -- defect 3: the slip carries every yen of the order ------------------------------------------------------------


def _slip(h: Harness, order_id: int) -> list[tuple[str, str, str]]:
    lines = h.files()[-1].read_bytes().decode("cp932").splitlines()
    header = lines[0].split(",")
    at = {name: header.index(name) for name in ("オーダー№", "商品ｺｰﾄﾞ", "商品名", "金額")}
    return [(cells[at["商品ｺｰﾄﾞ"]], cells[at["商品名"]], cells[at["金額"]])
            for cells in (line.split(",") for line in lines[1:]) if cells[at["オーダー№"]] == str(order_id)]


async def test_cod_fee_and_coupon_are_slip_lines_and_the_slip_adds_up(shipped: Harness) -> None:
    order_id = await shipped.place(user_id=5, lines=[(3, 2)], payment_id=COD)
    sim_order = shipped.sim.state.orders[order_id]
    sim_order.shipping_cost, sim_order.payment_surcharge, sim_order.subtotal_discount = "660.00", "330.00", "200.00"
    await shipped.cycle()
    assert (await shipped.state(order_id)).workflow_state is S.SHIPPING_INSTRUCTED
    slip = _slip(shipped, order_id)
    assert [(code, name) for code, name, _ in slip[1:]] == [
        ("NB-01", "値引 promotion ?"), ("99999999", "送料"), ("99999999", "代引手数料")]  # 値引: campaigns.yaml slip
    assert sum(Decimal(amount) for *_, amount in slip) == sim_order.total


async def test_an_order_whose_rows_do_not_add_up_is_held_with_the_difference(shipped: Harness) -> None:
    order_id = await shipped.place(user_id=6, lines=[(3, 1)])
    shipped.sim.state.orders[order_id].extra["smile_direct_ship_surcharge"] = "123.00"  # a charge the bridge can't see
    await shipped.cycle()
    assert (await shipped.state(order_id)).workflow_state is S.HOLD
    assert shipped.files() == []
    reason = await _last_reason(shipped, order_id)
    assert "受注 file refuses this order" in reason and "¥123 missing from the slip" in reason
