"""Ops a dead dispatcher held are marked recovered; a sink that can tell skips those that already arrived."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bridge.config import DispatchSettings
from bridge.dispatch import BatchSink, CheckingSink, Dispatcher
from bridge.store import Store, ledger
from bridge.store import outbox as ob
from tests.foundation.fakes import FakeClock

DEAD_OWNER = f"{ob.owner_token().split(':')[0]}:999999999"  # a process on this host that no longer exists


class TargetSink:
    """A target holding key → value; ``deliveries`` lists every write it received, in order."""

    target = "t"

    def __init__(self, values: dict[str, Any], check_fails: bool = False) -> None:
        self.values = values
        self.deliveries: list[str] = []
        self.checked: list[str] = []
        self.check_fails = check_fails

    async def deliver(self, op: ob.OutboxOp) -> None:
        self.deliveries.append(op.key)
        self.values[op.key] = op.payload["v"]

    async def already_applied(self, op: ob.OutboxOp) -> bool:
        self.checked.append(op.key)
        if self.check_fails:
            raise ConnectionError("target unreachable")
        return self.values.get(op.key) == op.payload["v"]


class BatchTargetSink(TargetSink):
    max_batch = 100

    async def deliver_batch(self, ops: Sequence[ob.OutboxOp]) -> list[BaseException | None]:
        for op in ops:
            await self.deliver(op)
        return [None] * len(ops)


async def enqueue_and_orphan(store: Store, clock: FakeClock, orphaned: dict[str, int], fresh: dict[str, int]) -> None:
    """``orphaned`` ops claimed by a dead dispatcher, ``fresh`` ones never claimed."""
    async with store.transaction() as tx:
        await ob.enqueue(tx, [ob.NewOp("t", "set", "thing", k, {"v": v}) for k, v in orphaned.items()], clock.time())
        await ob.claim(tx, targets=["t"], limit=len(orphaned), now=clock.time(), lease=300, owner=DEAD_OWNER)
        await ob.enqueue(tx, [ob.NewOp("t", "set", "thing", k, {"v": v}) for k, v in fresh.items()], clock.time())


async def run(store: Store, sink: TargetSink, clock: FakeClock) -> Dispatcher:
    dispatcher = Dispatcher(store, {"t": sink}, DispatchSettings(), clock=clock, sleep=clock.sleep)
    await dispatcher.release_abandoned()
    await dispatcher.drain_all()
    return dispatcher


async def test_release_marks_ops_of_a_dead_owner_recovered(store: Store) -> None:
    clock = FakeClock()
    await enqueue_and_orphan(store, clock, {"A": 1}, {"B": 1})
    async with store.transaction() as tx:
        assert await ob.release_abandoned(tx, clock.time()) == 1
        claimed = await ob.claim(tx, targets=["t"], limit=10, now=clock.time(), lease=300, owner="me:1")
    assert {op.key: op.recovered for op in claimed} == {"A": True, "B": False}


async def test_recovered_ops_that_arrived_are_not_sent_again(store: Store) -> None:
    clock = FakeClock()
    # A reached the target before the dispatcher died; B did not; C is fresh, so it is never checked
    sink = TargetSink({"A": 1, "B": 0, "C": 3})
    assert isinstance(sink, CheckingSink)
    await enqueue_and_orphan(store, clock, {"A": 1, "B": 2}, {"C": 3})
    await run(store, sink, clock)
    assert sink.checked == ["A", "B"]
    assert sorted(sink.deliveries) == ["B", "C"]
    rows = await store.fetchall("SELECT key, state FROM outbox ORDER BY key")
    assert [tuple(r) for r in rows] == [("A", "done"), ("B", "done"), ("C", "done")]
    async with store.transaction() as tx:
        entry = await ledger.get(tx, "t", "thing", "A")
    assert entry is not None and entry.value == {"v": 1}, "a skipped op still records its value as delivered"


async def test_a_failing_check_sends_the_op_again(store: Store) -> None:
    clock = FakeClock()
    sink = TargetSink({"A": 1}, check_fails=True)
    await enqueue_and_orphan(store, clock, {"A": 1}, {})
    await run(store, sink, clock)
    assert sink.deliveries == ["A"]  # at-least-once wins over a check that could not be made


async def test_batch_sinks_skip_recovered_ops_that_arrived(store: Store) -> None:
    clock = FakeClock()
    sink = BatchTargetSink({"A": 1, "B": 0})
    assert isinstance(sink, BatchSink)
    await enqueue_and_orphan(store, clock, {"A": 1, "B": 2}, {"C": 3})
    await run(store, sink, clock)
    assert sorted(sink.deliveries) == ["B", "C"]
    rows = await store.fetchall("SELECT state, COUNT(*) FROM outbox GROUP BY state")
    assert [tuple(r) for r in rows] == [("done", 3)]
