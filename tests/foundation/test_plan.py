"""The ledger diff: only differences are enqueued, and a delivered value is never written again."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.config import DispatchSettings
from bridge.dispatch import Dispatcher
from bridge.store import Store
from bridge.store import outbox as ob
from bridge.sync import plan as planning


class RecordingSink:
    target = "cscart"

    def __init__(self) -> None:
        self.writes: list[tuple[str, object]] = []

    async def deliver(self, op: ob.OutboxOp) -> None:
        self.writes.append((op.key, op.payload))


async def cycle(store: Store, desired: dict[str, dict], sink: RecordingSink) -> planning.Plan:
    async with store.transaction() as tx:
        plan = await planning.diff(tx, "cscart", "product_stock", "product.stock", desired)
        await planning.enqueue(tx, plan, 0)
    await Dispatcher(store, {"cscart": sink}, DispatchSettings()).drain_all()
    return plan


async def test_second_identical_cycle_writes_nothing_and_a_change_writes_one(store: Store) -> None:
    sink = RecordingSink()
    desired = {f"P{i}": {"product_id": i, "amount": 10} for i in range(100)}
    first = await cycle(store, desired, sink)
    assert len(first.changes) == 100 and len(sink.writes) == 100
    second = await cycle(store, desired, sink)
    assert second.changes == [] and second.unchanged == 100 and len(sink.writes) == 100
    desired["P7"] = {"product_id": 7, "amount": 3}
    third = await cycle(store, desired, sink)
    assert [c.key for c in third.changes] == ["P7"]
    assert third.changes[0].old == {"product_id": 7, "amount": 10}
    assert sink.writes[-1] == ("P7", {"product_id": 7, "amount": 3})
    assert third.describe() == ['P7: {"amount": 10, "product_id": 7} → {"amount": 3, "product_id": 7}']


async def test_undelivered_value_is_planned_again_but_coalesces(store: Store) -> None:
    async with store.transaction() as tx:
        for _ in range(3):
            plan = await planning.diff(tx, "cscart", "product_stock", "product.stock", {"P1": {"amount": 1}})
            await planning.enqueue(tx, plan, 0)
        depth = await ob.depth_by_state(tx)
    assert depth["pending"] == 1


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rounds=st.lists(st.dictionaries(st.sampled_from([f"P{i}" for i in range(8)]), st.integers(0, 3), max_size=8),
                    min_size=1, max_size=5)
)
async def test_after_delivery_the_ledger_equals_the_last_desired_state(tmp_path_factory, rounds) -> None:
    store = await Store.open(tmp_path_factory.mktemp("plan") / "s.sqlite3")
    try:
        sink = RecordingSink()
        seen: dict[str, int] = {}
        for desired in rounds:
            before = len(sink.writes)
            payloads = {k: {"amount": v} for k, v in desired.items()}
            await cycle(store, payloads, sink)
            # exactly the keys whose value differs from the last delivered value were written
            expected = {k for k, v in desired.items() if seen.get(k) != v}
            assert {k for k, _ in sink.writes[before:]} == expected
            assert len(sink.writes) - before == len(expected)
            seen.update(desired)
    finally:
        await store.close()
