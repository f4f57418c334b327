"""Shutdown drains in-flight deliveries; readiness follows job success."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path

import pytest

from bridge.config import DispatchSettings, JobsSettings, load_settings
from bridge.daemon import Daemon
from bridge.dispatch import Dispatcher
from bridge.store import Store
from bridge.store import outbox as ob
from bridge.sync import JobResult, RunOptions, registered_jobs
from bridge.sync.base import REGISTRY, JobSpec


class SlowSink:
    target = "slow"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = asyncio.Event()
        self.delivered: list[str] = []

    async def deliver(self, op: ob.OutboxOp) -> None:
        self.started.set()
        await asyncio.sleep(self.seconds)
        self.delivered.append(op.key)


async def run_until_stopped(store: Store, sink: SlowSink, drain_timeout: float) -> None:
    async with store.transaction() as tx:
        await ob.enqueue(tx, [ob.NewOp("slow", "set", "e", f"K{i}", {}) for i in range(3)], 0)
    dispatcher = Dispatcher(store, {"slow": sink}, DispatchSettings(drain_timeout=drain_timeout, concurrency=8))
    task = asyncio.create_task(dispatcher.run())
    await sink.started.wait()
    dispatcher.stop()
    await asyncio.wait_for(task, timeout=10)


async def test_stop_lets_in_flight_deliveries_finish_within_the_drain_timeout(store: Store) -> None:
    sink = SlowSink(0.2)
    await run_until_stopped(store, sink, drain_timeout=5)
    assert sorted(sink.delivered) == ["K0", "K1", "K2"]
    async with store.transaction() as tx:
        assert (await ob.depth_by_state(tx))["done"] == 3


async def test_deliveries_slower_than_the_drain_timeout_go_back_to_the_queue_untouched(store: Store) -> None:
    sink = SlowSink(30)
    await run_until_stopped(store, sink, drain_timeout=0.1)
    assert sink.delivered == []
    rows = await store.fetchall("SELECT state, attempts, claimed_by FROM outbox")
    assert [tuple(r) for r in rows] == [("pending", 0, None)] * 3


class FlakyJob:
    name = "stock"

    def __init__(self) -> None:
        self.fail = True

    async def run(self, options: RunOptions) -> JobResult:
        if self.fail:
            raise RuntimeError("SMILE folder not mounted")
        return JobResult(read=1)


def get_json(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


async def test_readyz_waits_for_every_enabled_job_to_succeed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    job = FlakyJob()
    registered_jobs()  # import the real job modules first, so their registration cannot replace the test job
    monkeypatch.setitem(REGISTRY, "stock", JobSpec("stock", "test job", lambda ctx: job))
    rules_dir = Path(__file__).resolve().parents[2] / "rules"
    only_stock = {name: {"enabled": name == "stock", "interval": 600} for name in JobsSettings.model_fields}
    settings = load_settings(None, data_dir=tmp_path, rules_dir=rules_dir, http={"port": 0}, jobs=only_stock)
    daemon = Daemon(settings)
    await daemon.start()
    try:
        stock = daemon.scheduler.coordinators["stock"]
        await stock.run_now()
        url = f"http://127.0.0.1:{daemon.http.port}/readyz"  # type: ignore[union-attr]
        status, body = await asyncio.to_thread(get_json, url)
        assert status == 503 and "stock" in body["checks"]["jobs"]
        job.fail = False
        await stock.run_now()
        status, body = await asyncio.to_thread(get_json, url)
        assert status == 200 and body["ready"] is True
        saved = await daemon.store.fetchone("SELECT runs, failures FROM job_state WHERE job = 'stock'")  # type: ignore[union-attr]
        assert saved is not None and saved["failures"] >= 1 and saved["runs"] >= 2
    finally:
        await daemon.shutdown()
