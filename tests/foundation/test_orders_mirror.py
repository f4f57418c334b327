"""The orders mirror keeps every order, its history with reasons, and what SMILE has not confirmed."""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from bridge.domain import JST, Address, Order, OrderLine, WorkflowState
from bridge.domain.serialize import from_data, to_data
from bridge.store import Store
from bridge.store import orders as mirror


def order(order_id: int, lines: list[tuple[str, int]], status: str = "O") -> Order:
    return Order(
        order_id=order_id, status=status, placed_at=datetime(2026, 11, 24, 23, 59, tzinfo=JST), updated_at=None,
        user_id=3, email="buyer@example.jp", total=Decimal("1100"), customer_code="000123",
        lines=tuple(OrderLine(code, "商品", Decimal(q), Decimal("100")) for code, q in lines),
        shipping=Address(name="山田 太郎", postcode="1000001", prefecture="東京都"),
    )


async def test_mirror_history_and_unconfirmed_quantities(store: Store) -> None:
    async with store.transaction() as tx:
        await mirror.upsert(tx, order(1, [("A", 2), ("B", 1)]), initial_state=WorkflowState.RECEIVED)
        await mirror.upsert(tx, order(2, [("A", 5)]), initial_state=WorkflowState.RECEIVED)
        await mirror.upsert(tx, order(3, [("A", 7)]), initial_state=WorkflowState.RECEIVED)
        await mirror.transition(tx, 2, WorkflowState.SHIPPING_INSTRUCTED, "written to SMILE batch 1")
        await mirror.confirm(tx, 2, "00012345", "77")  # SMILE knows order 2 now
        await mirror.transition(tx, 3, WorkflowState.CANCELLED, "cancelled by customer before export")
        quantities = await mirror.unconfirmed_quantities(tx)
        history = await mirror.history(tx, 2)
        got = await mirror.get(tx, 1)
        counts = await mirror.counts_by_state(tx)
    assert quantities == {"A": Decimal(2), "B": Decimal(1)}
    assert [(h.from_state, h.to_state) for h in history] == [
        (None, WorkflowState.RECEIVED), (WorkflowState.RECEIVED, WorkflowState.SHIPPING_INSTRUCTED)]
    assert history[1].reason == "written to SMILE batch 1"
    assert got is not None and got.order == order(1, [("A", 2), ("B", 1)])
    assert counts["received"] == 1 and counts["cancelled"] == 1


async def test_re_mirroring_an_edited_order_replaces_its_lines(store: Store) -> None:
    async with store.transaction() as tx:
        await mirror.upsert(tx, order(1, [("A", 2)]), initial_state=WorkflowState.RECEIVED)
        previous = await mirror.upsert(tx, order(1, [("C", 4)]), initial_state=WorkflowState.RECEIVED)
        assert previous is not None and previous.order.lines[0].product_code == "A"
        assert await mirror.unconfirmed_quantities(tx) == {"C": Decimal(4)}
        assert len(await mirror.history(tx, 1)) == 1


@given(st.lists(st.tuples(st.text(min_size=1, max_size=8), st.integers(1, 10_000)), max_size=5),
       st.sampled_from(["O", "P", "C"]))
def test_orders_round_trip_through_json(lines: list[tuple[str, int]], status: str) -> None:
    original = order(9, lines, status)
    assert from_data(Order, to_data(original)) == original


async def test_an_export_batch_reads_back_as_it_was_recorded_until_written(store: Store) -> None:
    """One ``ExportBatch`` type both ways: the orders job records it, a restart reads the same batch back."""
    from bridge.store import exports

    made = exports.ExportBatch.of("O000001", "order", "JUCHU_O000001.csv", (4, 5), 3, b"\xff\xfe1,2\r\n")
    assert made.checksum == hashlib.sha256(made.content).hexdigest()
    async with store.transaction() as tx:
        assert await exports.next_batch_id(tx, "order") == "O000001"
        await exports.record(tx, made)
        assert await exports.live_export(tx, 5) == "O000001"
    assert await exports.pending(store) == [made]
    async with store.transaction() as tx:
        await exports.mark_written(tx, made.batch_id)
    assert await exports.pending(store) == []
