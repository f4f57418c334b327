"""The order flow with the SHIPPED rules files (issue 15): each defect the audit found is reproduced here with
rules/order_flow.yaml and rules/pricing.yaml as delivered, not with rules written for the tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from bridge.domain.orders import WorkflowState as S
from bridge.rules.pricing import direct_ship_surcharge
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
        direct_ship_surcharge(subtotal, order_rules(h.context).pricing))
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
