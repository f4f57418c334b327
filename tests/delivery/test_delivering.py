"""``Dispatcher.delivering``: a command that runs a job in this process delivers while the job is still running
(woken when it enqueues, as the daemon's dispatcher is), then everything still ready; a failing body stops it.

Real sqlite file, real dispatcher, a sink that records what it was given."""

from __future__ import annotations

import asyncio

import pytest

from bridge.dispatch import Dispatcher
from bridge.store import Store
from bridge.store import outbox as ob
from tests.delivery.test_outbox_stall import NOW, Clock, no_sleep, op, settings


class RecordingSink:
    target = "t"

    def __init__(self) -> None:
        self.delivered: dict[str, object] = {}
        self.arrived = asyncio.Event()

    async def deliver(self, item: ob.OutboxOp) -> None:
        self.delivered[item.key] = item.payload["v"]
        self.arrived.set()


async def enqueue(store: Store, *ops: ob.NewOp) -> None:
    async with store.transaction() as tx:
        await ob.enqueue(tx, list(ops), NOW)


async def test_writes_go_out_while_the_job_runs_and_the_rest_after(store: Store) -> None:
    sink = RecordingSink()
    dispatcher = Dispatcher(store, {"t": sink}, settings(), clock=Clock(), sleep=no_sleep)  # type: ignore[arg-type]
    async with dispatcher.delivering() as stats:
        await enqueue(store, op("A", 1))
        dispatcher.wake()  # as a job does after its commit
        # the job goes on with its bookkeeping; A is delivered meanwhile, not after the job
        await asyncio.wait_for(sink.arrived.wait(), timeout=10)
        assert sink.delivered == {"A": 1}
        await enqueue(store, op("B", 2))  # enqueued without a wake: delivered at the end
    assert sink.delivered == {"A": 1, "B": 2}
    assert stats.done == 2
    assert await store.fetchall("SELECT key FROM outbox WHERE state != 'done'") == []


async def test_a_failing_job_stops_the_delivery_and_leaves_the_rest_queued(store: Store) -> None:
    sink = RecordingSink()
    dispatcher = Dispatcher(store, {"t": sink}, settings(), clock=Clock(), sleep=no_sleep)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="job failed"):
        async with dispatcher.delivering():
            await enqueue(store, op("A", 1))
            raise RuntimeError("job failed")
    assert sink.delivered == {}
    pending = await store.fetchall("SELECT key, state FROM outbox")
    assert [(row["key"], row["state"]) for row in pending] == [("A", "pending")]
    dispatcher.wake()  # no follower left behind


class SlowSink(RecordingSink):
    """Takes ``pause`` seconds per delivery (CS-Cart slow to answer)."""

    def __init__(self, pause: float) -> None:
        super().__init__()
        self.pause, self.started = pause, asyncio.Event()

    async def deliver(self, item: ob.OutboxOp) -> None:
        self.started.set()
        await asyncio.sleep(self.pause)
        await super().deliver(item)


async def test_a_job_interrupted_during_a_delivery_stops_without_delivering_the_backlog(store: Store) -> None:
    sink = SlowSink(0.2)
    dispatcher = Dispatcher(store, {"t": sink}, settings(), clock=Clock(), sleep=no_sleep)  # type: ignore[arg-type]
    started = asyncio.get_running_loop().time()
    with pytest.raises(KeyboardInterrupt):
        async with dispatcher.delivering():
            await enqueue(store, op("A", 1))
            dispatcher.wake()
            await asyncio.wait_for(sink.started.wait(), timeout=10)  # A's delivery is under way
            await enqueue(store, op("B", 2))  # the backlog behind it
            raise KeyboardInterrupt  # Ctrl-C
    # A's delivery finished and was recorded (it had begun); B was not started: it waits for the next run
    assert asyncio.get_running_loop().time() - started < 5
    assert sink.delivered == {"A": 1}
    states = {row["key"]: row["state"] for row in await store.fetchall("SELECT key, state FROM outbox")}
    assert states == {"A": "done", "B": "pending"}


async def test_a_job_failing_inside_its_transaction_leaves_the_batch_the_dispatcher_waited_for(store: Store) -> None:
    sink = RecordingSink()
    dispatcher = Dispatcher(store, {"t": sink}, settings(), clock=Clock(), sleep=no_sleep)  # type: ignore[arg-type]
    await enqueue(store, op("A", 1))
    with pytest.raises(RuntimeError, match="job failed"):
        async with dispatcher.delivering():
            async with store.transaction():  # the job's transaction holds the store
                dispatcher.wake()
                await asyncio.sleep(0.2)  # the dispatcher is now waiting for the store, to claim A
                raise RuntimeError("job failed")  # rolled back: the store is free again
    assert sink.delivered == {}  # nothing claimed once the job had failed
    states = [(row["key"], row["state"]) for row in await store.fetchall("SELECT key, state FROM outbox")]
    assert states == [("A", "pending")]


class FailingSink(RecordingSink):
    async def deliver(self, item: ob.OutboxOp) -> None:
        raise RuntimeError("CS-Cart said no")


async def test_next_batch_is_set_when_a_claimed_batch_is_over_and_not_before(store: Store) -> None:
    """What `bridge sync` in the daemon waits on (bridge/control/server.py): taken before a look at the outbox, the
    event is set once the next batch's outcomes are recorded — delivered or failed — and not by a look that claims
    nothing."""
    sink = RecordingSink()
    dispatcher = Dispatcher(store, {"t": sink}, settings(), clock=Clock(), sleep=no_sleep)  # type: ignore[arg-type]
    empty = dispatcher.next_batch()
    assert await dispatcher.dispatch_once() == 0
    assert not empty.is_set()

    await enqueue(store, op("A", 1))
    taken = dispatcher.next_batch()
    assert await dispatcher.dispatch_once() == 1
    assert taken.is_set() and sink.delivered == {"A": 1}
    assert (await store.fetchone("SELECT state FROM outbox WHERE key = 'A'"))["state"] == "done"
    assert not dispatcher.next_batch().is_set()  # a new event for the batch after

    failing = Dispatcher(store, {"t": FailingSink()}, settings(), clock=Clock(), sleep=no_sleep)  # type: ignore[arg-type]
    await enqueue(store, op("B", 2))
    taken = failing.next_batch()
    assert await failing.dispatch_once() == 1
    assert taken.is_set()
    assert (await store.fetchone("SELECT state FROM outbox WHERE key = 'B'"))["state"] != "in_flight"


async def test_a_wake_during_a_look_that_found_nothing_is_not_lost(store: Store) -> None:
    """A job that commits and wakes the daemon's dispatcher while it is looking at an empty outbox: the dispatcher
    looks again at once, not after ``idle_poll`` (600 s here), which the wake would otherwise be cleared into."""
    sink = RecordingSink()
    dispatcher = Dispatcher(store, {"t": sink}, settings().model_copy(update={"idle_poll": 600}),  # type: ignore[arg-type]
                            clock=Clock(), sleep=no_sleep)
    look = dispatcher.dispatch_once
    looks = 0

    async def look_while_a_job_commits() -> int:
        nonlocal looks
        looks += 1
        handled = await look()
        if looks == 1:  # the look has found nothing; now the job commits and wakes
            assert handled == 0
            await enqueue(store, op("A", 1))
            dispatcher.wake()
        return handled

    dispatcher.dispatch_once = look_while_a_job_commits  # type: ignore[method-assign]
    running = asyncio.create_task(dispatcher.run())
    try:
        await asyncio.wait_for(sink.arrived.wait(), timeout=10)
        assert sink.delivered == {"A": 1}
    finally:
        dispatcher.stop()
        await asyncio.wait_for(running, timeout=10)
