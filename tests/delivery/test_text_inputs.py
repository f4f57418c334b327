"""Issue 13 item 5: text that must not reach SMILE or CS-Cart as it is — control characters, text CS-Cart already
damaged ('?' for a non-BMP character), a product name longer than CS-Cart's column, and a 商品名 cut inside a number.
Through the real orders job / sink against the simulator, and as properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.cscart.client import CSCartClient
from bridge.cscart.sink import CSCartSink
from bridge.cscart.textguard import TextTooLong
from bridge.domain.orders import WorkflowState as S
from bridge.smile.textguard import TextGuard
from bridge.store import outbox as ob
from tests.orders.conftest import Harness, harness  # noqa: F401 - a fixture


def op(name: str, payload: dict) -> ob.OutboxOp:  # type: ignore[type-arg]
    return ob.OutboxOp(id=7, target="cscart", op=name, entity="product", key="3", payload_json="", payload_hash="",
                       idempotency_key="i", track_ledger=False, state="in_flight", attempts=0, next_attempt_at=0.0,
                       payload=payload)


def juchu_text(harness: Harness) -> str:
    return "".join(path.read_bytes().decode("cp932") for path in harness.files())


async def test_control_characters_never_reach_the_juchu_file(harness: Harness) -> None:  # noqa: F811
    order_id = await harness.place(user_id=2, notes="至急\x07お願いします\x1b[31m")
    item = next(iter(harness.sim.state.orders[order_id].items.values()))
    item.product = "タオル\x07白"
    await harness.cycle()
    assert harness.exported_ids() == [order_id]
    text = juchu_text(harness)
    assert "\x07" not in text and "\x1b" not in text
    assert "タオル白" in text


async def test_an_order_whose_text_cs_cart_damaged_is_held_naming_the_field(harness: Harness) -> None:  # noqa: F811
    order_id = await harness.place(user_id=3)
    harness.sim.state.orders[order_id].address["s_address"] = "????町1-2"  # 𠮷野町, as CS-Cart stored it
    await harness.cycle()
    assert (await harness.state(order_id)).workflow_state is S.HOLD
    reason = (await harness.history(order_id))[-1].reason
    assert "shipping.street" in reason and "'?'" in reason, reason
    assert harness.exported_ids() == []


async def test_a_product_name_cut_to_the_column_keeps_numbers_whole(harness: Harness) -> None:  # noqa: F811
    order_id = await harness.place(user_id=4)
    item = next(iter(harness.sim.state.orders[order_id].items.values()))
    item.product = "業務用タオル（白）特大サイズ 10000000入"  # 商品名 holds 36 half-width: 29 + 8 digits
    await harness.cycle()
    text = juchu_text(harness)
    assert "業務用タオル（白）特大サイズ" in text
    assert "サイズ 10" not in text  # never a number cut short


async def test_cs_cart_product_names_lose_control_characters_and_too_long_ones_are_refused() -> None:
    from bridge.cscart.simulator import run_simulator

    async with run_simulator(products=5, users=1, orders=0) as sim:
        async with CSCartClient(sim.client_settings()) as client:
            sink = CSCartSink(client)
            await sink.deliver(op("product.update", {"product_id": 3, "fields": {"product": "タオル\x07\x1b白"}}))
            assert sim.state.products[3].product == "タオル白"
            with pytest.raises(TextTooLong, match="300 characters.*255"):
                await sink.deliver(op("product.update", {"product_id": 3, "fields": {"product": "名" * 300}}))
            assert sim.state.products[3].product == "タオル白"


@given(st.text(alphabet=st.sampled_from("タオル白特大 0123456789入"), max_size=40), st.integers(1, 36))
def test_truncation_never_splits_a_number(text: str, limit: int) -> None:
    cut = TextGuard("cp932").truncate(text, limit, "halfwidth")
    assert text.startswith(cut)
    rest = text[len(cut):]
    assert not (cut and rest and cut[-1].isdigit() and rest[0].isdigit())
