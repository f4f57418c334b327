"""Issue 13 item 1: a failed op going back to pending while a newer pending op for the same record exists.

Real sqlite file, real dispatcher; a sink that fails for chosen keys (CS-Cart unreachable)."""

from __future__ import annotations

import asyncio

from bridge.config import DispatchSettings, RetrySettings
from bridge.dispatch import Dispatcher
from bridge.errors import RetryableError
from bridge.store import Store, ledger
from bridge.store import outbox as ob

NOW = 1_800_000_000.0


def op(key: str, value: object) -> ob.NewOp:
    return ob.NewOp(target="t", op="set", entity="product_stock", key=key, payload={"v": value})


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def time(self) -> float:
        return self.now


class FlakySink:
    """Delivers unless the key is in ``down``; while delivering, the job enqueues a newer value (``during``)."""

    target = "t"

    def __init__(self, store: Store, down: set[str]) -> None:
        self.store = store
        self.down = down
        self.during: list[ob.NewOp] = []
        self.delivered: dict[str, object] = {}

    async def deliver(self, item: ob.OutboxOp) -> None:
        if self.during:
            newer, self.during = self.during, []
            async with self.store.transaction() as tx:
                await ob.enqueue(tx, newer, NOW)
        if item.key in self.down:
            raise RetryableError("connection refused")
        self.delivered[item.key] = item.payload["v"]


def settings() -> DispatchSettings:
    return DispatchSettings(
        batch_size=50, concurrency=4, lease_seconds=30, idle_poll=0.01,
        retry=RetrySettings(short_attempts=1, short_initial=0, short_max=0, long_initial=1, long_max=2, max_attempts=50),
    )


async def no_sleep(_: float) -> None:
    return None


async def rows(store: Store) -> list[tuple[str, str, str]]:
    found = await store.fetchall("SELECT key, state, payload FROM outbox ORDER BY id")
    return [(r["key"], r["state"], r["payload"]) for r in found]


async def test_failed_op_folds_into_a_newer_pending_op_instead_of_failing_the_batch(store: Store) -> None:
    async with store.transaction() as tx:
        await ob.enqueue(tx, [op("A", 1), op("B", 1)], NOW)
    sink = FlakySink(store, down={"A"})
    sink.during = [op("A", 2)]  # the stock job writes a newer A while A's delivery is failing
    clock = Clock()
    dispatcher = Dispatcher(store, {"t": sink}, settings(), clock=clock, sleep=no_sleep)  # type: ignore[arg-type]
    assert await dispatcher.dispatch_once() == 2  # used to raise IntegrityError: UNIQUE constraint failed
    # B's success is recorded (and in the ledger) although A failed in the same batch
    async with store.transaction() as tx:
        assert await ledger.get(tx, "t", "product_stock", "B") is not None
    states = {(k, s) for k, s, _ in await rows(store)}
    assert ("B", "done") in states
    assert ("A", "in_flight") not in {(k, s) for k, s, _ in await rows(store)}
    pending = [(k, p) for k, s, p in await rows(store) if s == "pending"]
    assert pending == [("A", '{"v":2}')]  # exactly one pending op for A: the newest value
    sink.down.clear()
    clock.now += 10
    await dispatcher.drain_all()
    assert sink.delivered == {"A": 2, "B": 1}


async def test_release_and_abandoned_release_fold_into_newer_pending(store: Store) -> None:
    async with store.transaction() as tx:
        await ob.enqueue(tx, [op("A", 1), op("B", 1)], NOW)
        claimed = await ob.claim(tx, targets=["t"], limit=10, now=NOW, lease=5, owner="me")
        await ob.enqueue(tx, [op("A", 2), op("B", 2)], NOW)
    async with store.transaction() as tx:
        await ob.release(tx, [o.id for o in claimed if o.key == "A"], "me")  # shutdown before delivery
        assert await ob.release_abandoned(tx, NOW + 10) >= 1  # B's lease expired
    pending = sorted((k, p) for k, s, p in await rows(store) if s == "pending")
    assert pending == [("A", '{"v":2}'), ("B", '{"v":2}')]
    assert not [k for k, s, _ in await rows(store) if s == "in_flight"]


async def test_a_replayed_older_op_gives_way_to_a_newer_failed_one(store: Store) -> None:
    # an older dead letter was replayed while the newer value was in flight; the newer one then fails
    async with store.transaction() as tx:
        await ob.enqueue(tx, [op("A", 1)], NOW)
        first = await ob.claim(tx, targets=["t"], limit=10, now=NOW, lease=5, owner="me")
        await ob.complete(tx, [ob.Outcome(first[0], ob.DEAD, "boom")], "me")
        await ob.enqueue(tx, [op("A", 2)], NOW)
        second = await ob.claim(tx, targets=["t"], limit=10, now=NOW, lease=5, owner="me")
        await ob.replay(tx, [first[0].id], NOW)
        await ob.complete(tx, [ob.Outcome(second[0], ob.PENDING, "down", None, NOW + 1)], "me")
    pending = [(k, p) for k, s, p in await rows(store) if s == "pending"]
    assert pending == [("A", '{"v":2}')]


async def test_an_outcome_the_store_refuses_does_not_roll_back_the_others(store: Store) -> None:
    """One outcome the store cannot record (a real sqlite trigger aborts it) must not undo the batch."""
    async with store.transaction() as tx:
        await ob.enqueue(tx, [op(k, 1) for k in "ABC"], NOW)
    async with store.transaction() as tx:
        await tx.execute(
            "CREATE TRIGGER refuse_b BEFORE UPDATE OF state ON outbox WHEN NEW.key = 'B' AND NEW.state = 'done' "
            "BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
        )
    sink = FlakySink(store, down=set())
    dispatcher = Dispatcher(store, {"t": sink}, settings(), clock=Clock(), sleep=no_sleep)  # type: ignore[arg-type]
    await dispatcher.dispatch_once()
    by_key = {k: s for k, s, _ in await rows(store)}
    assert by_key["A"] == "done" and by_key["C"] == "done"
    assert by_key["B"] == "pending"  # given back, not stuck in flight
    assert dispatcher.health()[0] is False  # and the failure shows


async def test_dispatcher_start_up_failure_is_reported_not_hidden(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.execute(
            "CREATE TRIGGER refuse_release BEFORE UPDATE OF state ON outbox WHEN NEW.state = 'pending' "
            "BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
        )
        await ob.enqueue(tx, [op("A", 1)], NOW)
        await ob.claim(tx, targets=["t"], limit=10, now=NOW, lease=5, owner="gone-host-check:999999999")
    sink = FlakySink(store, down=set())
    clock = Clock()
    clock.now += 60  # the lease expired
    dispatcher = Dispatcher(store, {"t": sink}, settings(), clock=clock, sleep=no_sleep)  # type: ignore[arg-type]
    task = asyncio.create_task(dispatcher.run())
    for _ in range(200):
        await asyncio.sleep(0.01)
        if not dispatcher.health()[0]:
            break
    ok, reason = dispatcher.health()
    assert not ok and "disk says no" in reason
    assert not task.done()  # it keeps trying rather than dying silently
    async with store.transaction() as tx:
        await tx.execute("DROP TRIGGER refuse_release")
    for _ in range(500):
        await asyncio.sleep(0.01)
        if sink.delivered and dispatcher.health()[0]:
            break
    assert sink.delivered == {"A": 1}
    assert dispatcher.health()[0]
    dispatcher.stop()
    await asyncio.wait_for(task, 5)


async def test_the_daemon_reports_a_failing_dispatcher_in_readyz_and_metrics(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The stalled restart of the issue: the outbox cannot be recovered at start-up. The daemon runs on, but /readyz
    names the dispatcher's problem and bridge_dispatcher_healthy is 0 (it used to look healthy)."""
    import aiohttp

    from bridge import metrics
    from bridge.daemon import Daemon
    from tests.orders.conftest import addon_simulator
    from tests.orders.test_daemon import daemon_settings

    async with addon_simulator({}) as sim:
        settings = daemon_settings(tmp_path, sim)
        store = await Store.open(settings.state_path)
        async with store.transaction() as tx:
            await tx.execute(
                "CREATE TRIGGER refuse_release BEFORE UPDATE OF state ON outbox WHEN NEW.state = 'pending' "
                "BEGIN SELECT RAISE(ABORT, 'disk says no'); END")
            await ob.enqueue(tx, [ob.NewOp("cscart", "product.stock", "product", "3", {"product_id": 3, "amount": 5})],
                             0.0)
            await ob.claim(tx, targets=["cscart"], limit=10, now=0.0, lease=1, owner="elsewhere:1")
        await store.close()
        daemon = Daemon(settings)
        await daemon.start()
        try:
            assert daemon.http is not None
            url = f"http://{daemon.http.host}:{daemon.http.port}/readyz"
            body: dict = {}
            for _ in range(200):
                async with aiohttp.ClientSession() as session, session.get(url) as response:
                    body = await response.json()
                if body["checks"].get("dispatcher", "ok") != "ok":
                    break
                await asyncio.sleep(0.05)
            assert "outbox recovery failed" in body["checks"]["dispatcher"] and "disk says no" in body["checks"]["dispatcher"]
            assert metrics.REGISTRY.get_sample_value("bridge_dispatcher_healthy") == 0
        finally:
            await daemon.shutdown()
