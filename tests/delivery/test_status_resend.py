"""Issue 13 item 2: a status write a killed dispatcher held is checked against the order's current status before it
is sent again (a status write may mail the customer). Real simulator, real store, real dispatcher."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator

import pytest

from bridge.config import DispatchSettings
from bridge.cscart.client import CSCartClient
from bridge.cscart.simulator import Simulator, run_simulator
from bridge.cscart.sink import CSCartSink
from bridge.dispatch import Dispatcher
from bridge.store import Store
from bridge.store import outbox as ob


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with run_simulator(products=20, users=3, orders=12, seed=7) as running:
        yield running


def dead_owner() -> str:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return f"{ob.owner_token().rpartition(':')[0]}:{child.pid}"


async def test_status_writes_of_a_killed_batch_are_not_sent_twice(store: Store, sim: Simulator) -> None:
    orders = [o for o in sim.state.orders.values() if o.status == "P"][:4]
    assert len(orders) == 4
    async with CSCartClient(sim.client_settings()) as client:
        sink = CSCartSink(client)
        ops = [ob.NewOp("cscart", "order.status", "order", str(o.order_id),
                        {"order_id": o.order_id, "status": "E", "notify_user": True},
                        idempotency_key=f"orders/{o.order_id}/status/E", track_ledger=False, coalescing=False)
               for o in orders]
        async with store.transaction() as tx:
            await ob.enqueue(tx, ops, 0.0)
            claimed = await ob.claim(tx, targets=["cscart"], limit=10, now=0.0, lease=300, owner=dead_owner())
        # the killed dispatcher had sent the first two before it died; their outcome was never recorded
        for op in claimed[:2]:
            await sink.deliver(op)
        sim.requests.clear()
        sim.state.notifications.clear()
        dispatcher = Dispatcher(store, {"cscart": sink}, DispatchSettings())
        assert await dispatcher.release_abandoned() == 4
        await dispatcher.drain_all()
    puts = [r for r in sim.requests.where(method="PUT", entity="orders")]
    assert sorted(int(r.path.rstrip("/").rsplit("/", 1)[1]) for r in puts) == sorted(o.order_id for o in orders[2:])
    assert sorted(n.order_id for n in sim.state.notifications) == sorted(o.order_id for o in orders[2:])
    assert all(o.status == "E" for o in orders)
    rows = await store.fetchall("SELECT state FROM outbox")
    assert {r["state"] for r in rows} == {"done"}


async def test_a_status_write_whose_answer_was_lost_is_checked_before_it_is_sent_again(
        store: Store, sim: Simulator) -> None:
    """Reset after the write (CS-Cart applied it, the answer never came): the retry reads the order first."""
    from bridge.cscart.simulator import FaultRule

    order = next(o for o in sim.state.orders.values() if o.status == "P")
    sim.faults.rules.append(FaultRule(kind="reset_after", entity="orders", method="PUT", times=1))
    async with CSCartClient(sim.client_settings()) as client:
        async with store.transaction() as tx:
            await ob.enqueue(tx, [ob.NewOp("cscart", "order.status", "order", str(order.order_id),
                                           {"order_id": order.order_id, "status": "E", "notify_user": True},
                                           track_ledger=False, coalescing=False)], 0.0)
        sim.requests.clear()
        settings = DispatchSettings(retry={"short_attempts": 3, "short_initial": 0, "short_max": 0})  # type: ignore[arg-type]
        await Dispatcher(store, {"cscart": CSCartSink(client)}, settings).drain_all()
    puts = sim.requests.where(method="PUT", entity="orders")
    assert len(puts) == 1, [p.status for p in puts]
    assert order.status == "E"
    assert [r["state"] for r in await store.fetchall("SELECT state FROM outbox")] == ["done"]
