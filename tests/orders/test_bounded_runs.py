"""Issue 16, orders under a backlog: bounded runs (each writes its own 受注 file and asks for the next at once), the
出荷指示 write-backs batched through the add-on, the echo of the bridge's own status writes not re-read — and every
order still exported exactly once and instructed once, across restarts and outages. The real orders job, the real
dispatcher and batch sink, the simulator with the add-on, a real sqlite store."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from bridge import wiring
from bridge.cscart.sim.faults import FaultRule
from bridge.cscart.simulator import Simulator, run_simulator
from bridge.dispatch import Dispatcher
from bridge.domain.time import Clock
from bridge.errors import BridgeError
from bridge.store import Store
from bridge.sync import JobContext, RunOptions
from bridge.sync.orders.event_feed import EventFeedSource
from bridge.sync.orders.job import OrdersJob
from bridge.sync.orders.settings import OrdersSettings
from bridge.sync.registry import orders_job
from tests.orders.conftest import RecordingEvents, bind_catalog, make_settings


@dataclass
class World:
    sim: Simulator
    store: Store
    context: JobContext
    dispatcher: Dispatcher
    outbox: Path

    def job(self, max_events: int = 10) -> OrdersJob:
        job = orders_job(self.context, settings=OrdersSettings(initial_lookback_hours=24 * 365 * 20))
        source = job.source
        assert isinstance(source, EventFeedSource)
        source.max_events = source.page_size = max_events  # a small bound: a backlog of a few dozen orders
        return job

    def exported(self) -> list[list[int]]:
        """The オーダー№ of each 受注 file, file by file."""
        files = []
        for path in sorted(self.outbox.glob("juchu_*.csv")):
            lines = path.read_bytes().decode("cp932").splitlines()[1:]
            files.append(sorted({int(line.split(",")[14]) for line in lines}))
        return files

    def order_reads(self) -> int:
        return len(self.sim.requests.where(method="GET", entity="orders"))


@asynccontextmanager
async def addon_world(tmp_path: Path) -> AsyncIterator[World]:
    async with run_simulator(products=20, users=20, orders=0, addon=True) as sim:
        store = await Store.open(tmp_path / "state.sqlite3")
        try:
            conf = make_settings(tmp_path, sim)
            wired = await wiring.build(conf, store)
            dispatcher = Dispatcher(store, wired.sinks, conf.dispatch, clock=Clock(), sleep=_no_wait)
            context = JobContext(settings=conf, store=store, clock=Clock(), wake_dispatcher=dispatcher.wake,
                                 services=replace(wired.services, events=RecordingEvents()))
            await bind_catalog(store, sim)
            yield World(sim, store, context, dispatcher, conf.data_dir / "smile" / "outbox")
            await wired.aclose()
        finally:
            await store.close()


async def _no_wait(_: float) -> None:
    return None


def place(sim: Simulator, count: int) -> list[int]:
    for product in sim.state.products.values():
        product.amount = max(product.amount, 1000)  # in stock: every order passes the gates
    return [sim.state.place_order(user_id=1 + n % 5, lines=[(1 + n % 7, 1)], payment_id=1).order_id
            for n in range(count)]


async def run_until_idle(job: OrdersJob, limit: int = 100) -> list[Any]:
    """Run the job as the daemon does: again at once while it says ``more``."""
    results = [await job.run(RunOptions())]
    while results[-1].more:
        assert len(results) < limit, "the job keeps asking for more"
        results.append(await job.run(RunOptions()))
    return results


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with addon_world(tmp_path) as built:
        yield built


async def test_a_backlog_is_worked_off_in_bounded_runs_each_writing_its_own_file(world: World) -> None:
    sim = world.sim
    placed = place(sim, 25)
    job = world.job(max_events=10)
    await job.run(RunOptions())  # the first run's safety poll reads the whole history at once
    placed += place(sim, 25)  # a backlog of 25 orders, 3 events each (placed, status N → O, updated)
    results = await run_until_idle(job)
    files = world.exported()
    assert sorted(i for f in files for i in f) == sorted(placed)  # every order once, none lost
    assert len(files) >= 7 and max(len(f) for f in files[1:]) <= 4  # bounded: no run took the whole backlog
    assert results[-1].read == 0 and not results[-1].more  # the last run found nothing and ended the chain

    # 出荷指示 write-backs: through the add-on's batch (no per-order PUT + GET), each order changed once
    before = world.order_reads()
    stats = await world.dispatcher.drain_all()
    assert stats.dead == 0 and stats.retried == 0
    letter = sim.addon.statuses["shipping_instructed"]
    assert all(sim.state.orders[i].status == letter for i in placed)
    assert sim.requests.where(method="PUT", entity="orders") == [] and world.order_reads() == before
    assert len(sim.requests.where(method="POST", entity="smile_bridge_batch")) >= 1
    assert sorted(n.order_id for n in sim.state.notifications if n.status == letter) == sorted(placed)

    # their echoes come back through the feed: not re-read, the mirror's copy of the letter set
    await run_until_idle(job)
    assert world.order_reads() == before
    rows = await world.store.fetchall("SELECT DISTINCT cscart_status, workflow_state FROM orders")
    assert [tuple(row) for row in rows] == [(letter, "shipping_instructed")]

    # a status change staff make is read: the letter is not the one the bridge wrote
    sim.state.change_order_status(sim.state.orders[placed[0]], "P")
    await run_until_idle(job)
    assert world.order_reads() == before + 1
    assert world.exported() == files  # nothing exported again


async def test_an_echo_is_only_skipped_when_it_ends_in_the_letter_the_bridge_wrote(world: World) -> None:
    sim = world.sim
    job = world.job(max_events=1000)
    first, second = place(sim, 2)
    await run_until_idle(job)
    await world.dispatcher.drain_all()
    letter = sim.addon.statuses["shipping_instructed"]
    # order 1: staff flip it away and back (only status changes, ending in the bridge's letter): nothing to read
    sim.state.change_order_status(sim.state.orders[first], "P")
    sim.state.change_order_status(sim.state.orders[first], letter)
    # order 2: staff edit it after the echo (an order.updated event): read
    sim.addon.record("order.updated", second, {"status": letter})
    before = world.order_reads()
    await run_until_idle(job)
    last = sim.requests.where(method="GET", entity="orders")[-1]
    assert world.order_reads() == before + 1 and str(last.query.get("order_id")) == str(second)


async def test_restarts_and_outages_between_bounded_runs_lose_nothing_and_send_nothing_twice(
        tmp_path: Path) -> None:
    async with addon_world(tmp_path) as world:
        sim = world.sim
        job = world.job(max_events=10)
        await run_until_idle(job)  # the history (none) and the first safety poll
        placed = place(sim, 30)
        await job.run(RunOptions())  # one bounded run, one file
        # CS-Cart goes away in the middle of the backlog: the feed, then the order reads fail
        sim.faults.rules.append(FaultRule(kind="error", entity="smile_bridge_events", method="GET", status=503,
                                          times=1))
        with pytest.raises(BridgeError):
            await job.run(RunOptions())
        sim.faults.rules.append(FaultRule(kind="reset", entity="orders", method="GET", times=1))
        with pytest.raises(BridgeError):
            await job.run(RunOptions())
        # the batch call of the write-backs is lost once: the dispatcher retries it whole
        sim.faults.rules.append(FaultRule(kind="error", entity="smile_bridge_batch", method="POST", status=503,
                                          times=1))
        await world.dispatcher.drain_all()
        # the daemon restarts: a new job (its source remembers nothing) over the same state
        restarted = world.job(max_events=10)
        await job.run(RunOptions())
        await run_until_idle(restarted)
        stats = await world.dispatcher.drain_all()
        await run_until_idle(restarted)  # the echoes
        assert stats.dead == 0
        exported = [i for f in world.exported() for i in f]
        assert sorted(exported) == sorted(placed)  # exactly once
        letter = sim.addon.statuses["shipping_instructed"]
        assert all(sim.state.orders[i].status == letter for i in placed)
        changes = sorted(n.order_id for n in sim.state.notifications if n.status == letter)
        assert changes == sorted(placed)  # each order instructed once: no status write sent twice


async def test_a_mirrored_order_reads_back_as_the_order_the_job_had(world: World) -> None:
    """The gates take this run's new orders as the job parsed them rather than parsing their stored data back:
    the two must be the same order (every field, decimals with their exponent, tuples, times)."""
    from bridge.domain.orders import Order
    from bridge.domain.serialize import from_data, to_data
    from bridge.domain.time import utcnow

    placed = place(world.sim, 12)
    world.sim.state.place_order(user_id=3, lines=[(2, 3), (5, 1)], payment_id=1, notes="午前中 着希望\n急ぎ",
                                shipping_cost="550.50")
    source = world.job(max_events=1000).source
    batch = await source.fetch(world.store, utcnow())
    assert len(batch.orders) >= len(placed)
    for order in batch.orders:
        stored = json.loads(json.dumps(to_data(order), ensure_ascii=False, sort_keys=True))
        assert from_data(Order, stored) == order


async def test_bridge_sync_orders_works_the_whole_feed_off_in_one_invocation(tmp_path: Path) -> None:
    """``bridge sync orders`` runs the job again while it says more is waiting (the daemon does the same)."""
    from bridge.cli.sync_cmd import _run
    from bridge.sync.orders.event_feed import EVENTS_CURSOR

    async with run_simulator(products=20, users=20, orders=0, addon=True) as sim:
        settings = make_settings(tmp_path, sim)
        store = await Store.open(settings.state_path)
        await bind_catalog(store, sim)
        await store.close()
        placed = place(sim, 400)  # 1,200 events: more than one page of the feed
        last = sim.addon.events[-1].id
        result = await _run(settings, "orders", False, False)
        assert not result.more and result.read >= len(placed)
        store = await Store.open(settings.state_path)
        try:
            cursor = await store.fetchone("SELECT value FROM cursors WHERE name = ?", (EVENTS_CURSOR,))
            exported = await store.fetchone("SELECT COUNT(*) FROM orders WHERE workflow_state = 'shipping_instructed'")
        finally:
            await store.close()
        # every placed order's events read; the write-backs went out while the job ran (as in the daemon), so the
        # feed may already hold their echoes, and the job reads those too
        assert int(cursor[0]) >= last and exported[0] == len(placed)


async def test_the_daemons_analytics_copy_follows_in_the_background_coalesced(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run by the daemon, a run does not wait for the analytics copy of the mirror. While orders stream in (each run
    asks for the next at once) the copies are at most one per ANALYTICS_STREAMING_EVERY seconds; the run that ends
    the burst brings the next copy forward (ANALYTICS_EVERY after the last), so the burst's last orders are always
    copied."""
    import asyncio

    from bridge.sync.orders import job as orders_module

    monkeypatch.setattr(orders_module, "ANALYTICS_EVERY", 0.3)
    monkeypatch.setattr(orders_module, "ANALYTICS_STREAMING_EVERY", 1.5)
    copies: list[float] = []

    class Feed:
        async def orders_changed(self) -> None:
            copies.append(asyncio.get_running_loop().time())  # when each copy starts
            await asyncio.sleep(0.05)

    job = world.job()
    job.analytics = Feed()  # type: ignore[assignment]
    started = asyncio.get_running_loop().time()
    streaming = 0
    for _ in range(6):
        place(world.sim, 2)
        result = await job.run(RunOptions(daemon=True))
        streaming += result.more
    assert streaming == 6  # every run read events: the burst goes on
    streamed = asyncio.get_running_loop().time() - started
    assert len(copies) <= 1 + streamed / 1.5  # the first at once, then one per 1.5 s at most
    ended = await job.run(RunOptions(daemon=True))  # nothing new: the burst's pause
    assert not ended.more
    await asyncio.sleep(0.8)
    assert copies and all(b - a >= 0.29 for a, b in zip(copies, copies[1:], strict=False))
    last = copies[-1]
    assert job._analytics_task is not None and job._analytics_task.done() and last >= started
    assert len(copies) >= 2  # the copy after the pause came within ANALYTICS_EVERY, not the streaming interval
    await job.run(RunOptions())  # the CLI and tests: the copy is made before the run returns
    assert len(copies) >= 3 and copies[-1] > last
