"""End to end through the simulator: shoppers place orders, the job mirrors, gates, exports and writes statuses."""

from __future__ import annotations

from bridge.domain.orders import WorkflowState as S
from tests.orders.conftest import Harness


async def test_an_on_account_order_goes_to_smile_and_becomes_shipping_instructed(harness: Harness) -> None:
    await harness.credit("100001", None)
    order_id = await harness.place(user_id=1, lines=[(3, 2), (5, 1)])
    result = await harness.cycle()
    mirrored = await harness.state(order_id)
    assert mirrored.workflow_state is S.SHIPPING_INSTRUCTED, result.notes
    assert harness.exported_ids() == [order_id]
    assert harness.sim.state.orders[order_id].status == "E"
