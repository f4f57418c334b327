"""Orders from the add-on's event feed: the real daemon woken by the simulator's signed push, and the source's
cursor, acknowledgement, safety poll and fallback on a real sqlite store."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bridge.config import JobsSettings, load_settings
from bridge.cscart.client import CSCartClient
from bridge.cscart.simulator import Simulator, run_simulator, uninstall
from bridge.daemon import Daemon
from bridge.domain.time import utcnow
from bridge.store import Store
from bridge.store import orders as mirror
from bridge.sync.orders.event_feed import EVENTS_CURSOR, EventFeedSource, with_event_feed
from bridge.sync.orders.job import choose_source
from bridge.sync.orders.settings import OrdersSettings
from bridge.sync.orders.source import POLL_CURSOR, PollingSource
from tests.orders.conftest import bind_catalog, write_rules


async def place(sim: Simulator, user_id: int = 2, **extra: Any) -> int:
    body = {"user_id": user_id, "payment_id": 1, "lines": [{"product_id": 3, "amount": 1}], **extra}
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{sim.url}/_sim/orders", json=body) as response:
            assert response.status == 201, await response.text()
            return int((await response.json())["order_id"])


async def mirrored(store: Store, order_id: int) -> mirror.MirroredOrder | None:
    async with store.transaction() as tx:
        return await mirror.get(tx, order_id)


async def test_an_order_event_wakes_the_daemon_and_the_order_is_mirrored_within_a_second(tmp_path: Path) -> None:
    async with run_simulator(products=50, users=20, orders=0, addon=True, hmac_secret="s3cret") as sim:
        only_orders = {name: {"enabled": name == "orders", "interval": 3600} for name in JobsSettings.model_fields}
        settings = load_settings(
            None, data_dir=tmp_path / "data", rules_dir=write_rules(tmp_path / "rules"), http={"port": 0},
            jobs=only_orders, cscart={"url": sim.url, "email": sim.email, "api_key": sim.api_key,
                                      "hmac_secret": "s3cret"})
        daemon = Daemon(settings)
        await daemon.start()
        try:
            assert daemon.store is not None and daemon.http is not None
            await bind_catalog(daemon.store, sim)
            sim.addon.daemon_url = f"http://127.0.0.1:{daemon.http.port}"
            orders_job = daemon.scheduler.coordinators["orders"]
            async def until(ready: Callable[[], Awaitable[bool]], what: str, seconds: float = 30.0) -> None:
                # a lost wake-up (the POST timed out on a loaded machine) would otherwise wait for the hourly poll
                deadline = time.monotonic() + seconds
                while not await ready():
                    assert time.monotonic() < deadline, f"{what} not within {seconds} s; wake-ups: {sim.addon.wake_ups}"
                    await asyncio.sleep(0.01)

            async def first_run_done() -> bool:  # the first scheduled run (safety poll included)
                return orders_job.runs >= 1 and not orders_job.running

            await until(first_run_done, "the first scheduled run")
            latencies = []
            for _ in range(3):
                runs = orders_job.runs
                placed = time.monotonic()
                order_id = await place(sim)

                async def is_mirrored(order_id: int = order_id) -> bool:
                    return await mirrored(daemon.store, order_id) is not None

                async def pushed_run_done(runs: int = runs) -> bool:  # the push ran it: its interval is an hour
                    return orders_job.runs != runs and not orders_job.running

                await until(is_mirrored, f"order {order_id} mirrored")
                latencies.append(time.monotonic() - placed)
                await until(pushed_run_done, f"the run woken for order {order_id}")
            assert max(latencies) < 1.0, latencies
            assert all(status == 202 for status in sim.addon.wake_ups)
            # runs after the first read the feed, not the polling window
            polls = [r for r in sim.requests.where(method="GET", entity="orders") if "updated_at_from" in r.query]
            assert len(polls) == 1
            # the acknowledgement trails the commit (a run acknowledges what an earlier run committed), so it is
            # never ahead of the committed cursor; read it first, the cursor only grows
            acknowledged = sim.addon.acknowledged_id
            cursor = await daemon.store.fetchone("SELECT value FROM cursors WHERE name = ?", (EVENTS_CURSOR,))
            placed = [e.id for e in sim.addon.events if e.type == "order.placed"]
            assert cursor is not None and int(cursor[0]) >= placed[-1]
            assert 0 < acknowledged <= int(cursor[0])
        finally:
            await daemon.shutdown()


def polling(client: CSCartClient) -> PollingSource:
    return PollingSource(client, overlap=timedelta(seconds=120), page_size=50,
                         initial_lookback=timedelta(days=365 * 20))


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[Simulator, Store, CSCartClient]]:
    async with run_simulator(products=20, users=5, orders=4, addon=True) as sim:
        store = await Store.open(tmp_path / "state.sqlite3")
        try:
            async with CSCartClient(sim.client_settings()) as client:
                yield sim, store, client
        finally:
            await store.close()


async def fetch_and_commit(source: EventFeedSource, store: Store, *, commit: bool = True) -> list[int]:
    batch = await source.fetch(store, utcnow())
    if commit:
        async with store.transaction() as tx:
            await batch.commit(tx)
    return [order.order_id for order in batch.orders]


async def test_the_feed_source_reads_events_acknowledges_only_committed_positions_and_polls_as_a_safety_net(
        world: tuple[Simulator, Store, CSCartClient]) -> None:
    sim, store, client = world
    now = [0.0]
    source = EventFeedSource(client, polling(client), safety_poll=timedelta(minutes=10), monotonic=lambda: now[0])
    assert await fetch_and_commit(source, store) == [1, 2, 3, 4]  # first run: the safety poll finds history
    assert await fetch_and_commit(source, store) == []  # nothing new, no poll
    first = await place(sim)
    assert await fetch_and_commit(source, store, commit=False) == [first]
    assert sim.addon.acknowledged_id == 0
    assert await fetch_and_commit(source, store) == [first]  # not committed: read again (at least once)
    committed = int((await store.fetchone("SELECT value FROM cursors WHERE name = ?", (EVENTS_CURSOR,)))[0])
    assert committed == sim.addon.next_event_id - 1
    second = await place(sim)
    sim.state.change_order_status(sim.state.orders[second], "P")
    assert await fetch_and_commit(source, store) == [second]  # three events, one read of the order
    assert sim.addon.acknowledged_id == committed  # the previous run's committed position, never further
    # an order whose events were lost (the outbox insert is not transactional with the order write)
    lost = await place(sim)
    sim.addon.events = [e for e in sim.addon.events if e.entity_id != lost]
    assert lost not in await fetch_and_commit(source, store)
    now[0] += 601
    assert lost in await fetch_and_commit(source, store)  # the safety poll
    assert await store.fetchone("SELECT value FROM cursors WHERE name = ?", (POLL_CURSOR,)) is not None


async def test_without_the_addon_the_orders_job_polls(world: tuple[Simulator, Store, CSCartClient]) -> None:
    sim, store, client = world
    source = with_event_feed(client, polling(client))
    assert isinstance(source, EventFeedSource)
    assert await fetch_and_commit(source, store) == [1, 2, 3, 4]
    uninstall(sim.state)
    await client.addon_installed(refresh=True)
    order_id = await place(sim)
    assert await fetch_and_commit(source, store) == [order_id]  # polling window, not events
    assert with_event_feed(object(), polling(client)).name == "polling"  # a fake client in other tests


async def test_an_uninstall_between_detection_and_reading_falls_back_to_polling(
        world: tuple[Simulator, Store, CSCartClient]) -> None:
    sim, store, client = world
    source = EventFeedSource(client, polling(client))
    assert await client.addon_installed()
    uninstall(sim.state)
    assert await fetch_and_commit(source, store) == [1, 2, 3, 4]
    assert await client.addon_installed() is False


def test_the_orders_job_chooses_the_feed_source() -> None:
    assert isinstance(choose_source(CSCartClient(run_settings()), OrdersSettings()), EventFeedSource)


def run_settings() -> Any:
    from bridge.cscart.settings import CSCartSettings

    return CSCartSettings(url="http://127.0.0.1:9", email="a@example.jp", api_key="k")


async def test_the_daemons_feed_reads_the_next_page_ahead_and_uses_it_only_from_the_committed_cursor(
        world: tuple[Simulator, Store, CSCartClient]) -> None:
    """Issue 16: while a run writes its file the next page of events and the orders it names are read; the next run
    takes that page only when it starts at the cursor the run committed, tops a short page up with what came since,
    and every order is still mirrored at least once."""
    sim, store, client = world
    source = EventFeedSource(client, polling(client))
    source.read_ahead = True
    assert await fetch_and_commit(source, store) == [1, 2, 3, 4]  # the first run's safety poll

    def reads() -> list[int]:
        return [int(i) for r in sim.requests.where(method="GET", entity="orders") if "order_id" in r.query
                for i in str(r.query["order_id"]).split(",")]

    async def drain(*, commit: bool = True) -> list[int]:
        found: list[int] = []
        while True:
            batch = await source.fetch(store, utcnow())
            found += [order.order_id for order in batch.orders]
            if commit:
                async with store.transaction() as tx:
                    await batch.commit(tx)
            if not batch.more or not commit:
                return found

    source.max_events = source.page_size = 2  # one order's events a page
    placed = [await place(sim) for _ in range(4)]
    def event_pages() -> list[int]:
        return [int(r.query["after_id"]) for r in sim.requests.where(method="GET", entity="smile_bridge_events")
                if "after_id" in r.query]

    before, pages_before = len(reads()), len(event_pages())
    assert sorted(set(await drain())) == placed
    assert sorted(set(reads()[before:])) == placed
    pages = event_pages()[pages_before:]
    # each page read once (the pages read ahead were used); the last, empty, twice: read ahead and topped up
    assert len(pages) - len(set(pages)) <= 1
    # a run that does not commit (failed, or a dry run): its read-ahead starts at a cursor the next run is not at
    more = [await place(sim) for _ in range(3)]
    first = await drain(commit=False)
    assert first and set(first) <= set(more)
    assert await drain(commit=False) == first  # the same page again from the committed cursor
    assert sorted(set(await drain())) == more
    # a page read ahead before an order came is topped up with it (the order's wake-up is not lost)
    source.max_events = source.page_size = 1000
    late = await place(sim)
    batch = await source.fetch(store, utcnow())  # reads `late`'s events; the next page is read ahead (empty)
    async with store.transaction() as tx:
        await batch.commit(tx)
    assert batch.more and source._ahead is not None
    await asyncio.sleep(0.05)
    later = await place(sim)
    assert await drain() == [later]
    assert late not in reads()[-1:]
