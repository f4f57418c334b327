"""With the smile_bridge add-on installed, the letters the daemon writes are the add-on's current ones (the events
feed's ``params.statuses``), not order_flow.yaml's: a reinstall that had to pick another letter for 出荷指示 must not
leave the bridge writing the old one."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bridge.cscart.sim.addon import install
from bridge.cscart.sim.state import SimStatus
from bridge.domain.orders import WorkflowState as S
from bridge.rules.order_flow import OrderFlowRules
from tests.orders.conftest import Harness

ADDON_STATES = (S.HOLD, S.SHIPPING_INSTRUCTED, S.SHIPPED, S.NOTIFIED)


async def test_the_orders_job_writes_the_letter_the_add_on_has_now(harness: Harness) -> None:
    state = harness.sim.state
    addon = install(state)
    assert addon.statuses["shipping_instructed"] == "E"  # the seed's 出荷指示 was adopted, as order_flow.yaml says
    # a reinstall put 出荷指示 on X (E is somebody else's now)
    state.statuses["X"] = SimStatus(status_id=99, status="X", description="出荷指示", inventory="D")
    state.statuses["E"].description = "Express (another add-on)"
    addon.params["status.shipping_instructed"] = "X"
    assert await harness.context.services.cscart.addon_installed(refresh=True)  # the daemon re-detects it
    await harness.credit("100001", None)
    order_id = await harness.place(user_id=1, lines=[(3, 2)])
    result = await harness.cycle()
    assert (await harness.state(order_id)).workflow_state is S.SHIPPING_INSTRUCTED, result.notes
    assert state.orders[order_id].status == "X"
    assert [n.status for n in harness.status_writes(order_id)][-1] == "X"


@given(st.lists(st.sampled_from("ABDEFGHJKLMQRSUVWXYZ"), min_size=4, max_size=4, unique=True))
def test_with_letters_gives_each_add_on_state_exactly_its_letter(letters: list[str]) -> None:
    flow = OrderFlowRules()
    chosen = dict(zip(ADDON_STATES, letters, strict=True))
    moved = flow.with_letters(chosen)
    for state in ADDON_STATES:
        assert moved.letter_for(state) == chosen[state]
        assert moved.state_for_letter(chosen[state]) is state
    owners: dict[str, S] = {}
    for state, status in moved.states.items():
        for letter in status.letters:
            assert owners.setdefault(letter, state) is state  # no letter belongs to two states
    assert flow.with_letters({s: flow.letter_for(s) for s in ADDON_STATES}) is flow
