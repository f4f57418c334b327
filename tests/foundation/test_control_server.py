"""The daemon's control route in this process (bridge/control/server.py) with a real aiohttp listener, a real
sqlite store and the CLI's own client (bridge/control/client.py, in a thread): a run takes the job's turn, a stop
while a run waits for its turn or runs is told apart (the command looks again, or reports a run cut short), a job's
error keeps its exit code, and only the route's own 404 lets the command run the job beside the daemon."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from structlog.testing import capture_logs

from bridge.control import ControlFile, read
from bridge.control.client import DaemonRunFailed, DaemonStopping, run_in_daemon
from bridge.control.server import ControlServer, Outbox
from bridge.dispatch import DispatchStats
from bridge.errors import StateMissing
from bridge.scheduler import JobCoordinator
from bridge.store import Store
from bridge.sync import RunOptions
from bridge.sync.base import JobResult
from tests.foundation.fakes import FakeClock


@dataclass
class SlowJob:
    """A job whose run waits for ``release`` (the test decides when it ends) and records its options."""

    name: str = "stock"
    release: asyncio.Event = field(default_factory=asyncio.Event)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    options: list[RunOptions] = field(default_factory=list)
    error: Exception | None = None

    async def run(self, options: RunOptions) -> JobResult:
        self.options.append(options)
        self.started.set()
        await self.release.wait()
        if self.error is not None:
            raise self.error
        return JobResult(read=10, changed=2, enqueued=2)


@dataclass
class Served:
    server: ControlServer
    control: ControlFile
    coordinator: JobCoordinator
    job: SlowJob


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    state = tmp_path / "state.sqlite3"
    store = await Store.open(state)
    job = SlowJob()
    coordinator = JobCoordinator("stock", lambda: job.run(RunOptions()), interval=600, clock=FakeClock())
    server = ControlServer(state, Outbox(store, DispatchStats(), lambda: None, (), lambda: 0.0, lambda: True, asyncio.Event),
                           lambda: {"stock": (coordinator, job)})
    await server.start()
    control = read(state)
    assert control is not None
    try:
        yield Served(server, control, coordinator, job)
    finally:
        job.release.set()
        await server.stop()
        await store.close()


def ask(control: ControlFile, job: str = "stock", **options: bool) -> asyncio.Future:  # type: ignore[type-arg]
    return asyncio.ensure_future(asyncio.to_thread(
        run_in_daemon, control, job, dry_run=options.get("dry_run", False), force=options.get("force", False),
        full=options.get("full", False)))


async def test_a_run_takes_the_jobs_turn_and_answers_with_its_figures(served: Served) -> None:
    served.job.release.set()
    remote = await ask(served.control, force=True)
    assert remote is not None and remote.summary == "read 10, changed 2, enqueued 2, failed 0"
    assert remote.delivery == {"done": 0, "retried": 0, "dead": 0, "queued": 0}
    assert served.job.options[0].force and served.job.options[0].daemon
    assert served.coordinator.runs == 1, "counted as one of the job's runs"
    assert await ask(served.control, "prices") is None, "a job this daemon does not run: the command runs it"


async def test_a_stop_while_the_run_waits_for_its_turn_lets_the_command_look_again(served: Served) -> None:
    scheduled = asyncio.create_task(served.coordinator.run_now())  # the scheduled run holds the turn
    await served.job.started.wait()
    waiting = ask(served.control)
    await asyncio.sleep(0.3)
    assert not waiting.done(), "it waits for the scheduled run"
    await served.server.stop()
    with pytest.raises(DaemonStopping):
        await waiting
    served.job.release.set()
    await scheduled
    assert len(served.job.options) == 1, "the asked run never started"


async def test_a_stop_during_the_run_reports_it_cut_short(served: Served) -> None:
    running = ask(served.control)
    await served.job.started.wait()
    await served.server.stop()
    with pytest.raises(DaemonRunFailed, match="is stopping and did not run stock to the end"):
        await running


async def test_a_failing_run_keeps_its_exit_code_and_is_logged(served: Served) -> None:
    served.job.error = StateMissing("/srv/state.sqlite3: no state file")
    served.job.release.set()
    with capture_logs() as logs, pytest.raises(DaemonRunFailed, match="ran stock and it failed: StateMissing: "
                                                                      "/srv/state.sqlite3") as failed:
        await ask(served.control)
    assert any(entry["event"] == "control.run_failed" and entry["job"] == "stock" for entry in logs)
    assert failed.value.exit_code == StateMissing.exit_code == 2, "the exit code the command would give itself"


async def test_only_the_routes_own_404_lets_the_command_run_the_job_beside(tmp_path: Path) -> None:
    runner = web.AppRunner(web.Application())  # a listener without the route: another program, another version
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        with pytest.raises(DaemonRunFailed, match="ran stock and it failed: HTTP 404"):
            await ask(ControlFile(1, f"http://127.0.0.1:{port}", "t"))
    finally:
        await runner.cleanup()


async def test_a_stop_while_the_writes_are_in_flight_ends_the_delivery_wait_at_once(tmp_path: Path,
                                                                                    monkeypatch: pytest.MonkeyPatch
                                                                                    ) -> None:
    """The wait looks again when the dispatcher ends a batch (or after DELIVERY_RECHECK): a stop must not wait for
    either. A write held in flight (CS-Cart slow to answer) and a recheck far off: the stop still answers at once,
    with what the dispatcher delivered meanwhile."""
    from bridge.control import server as control_server
    from bridge.store import outbox as ob

    monkeypatch.setattr(control_server, "DELIVERY_RECHECK", 600.0)
    state = tmp_path / "state.sqlite3"
    store = await Store.open(state)
    now = 1_800_000_000.0
    async with store.transaction() as tx:
        await ob.enqueue(tx, [ob.NewOp(target="t", op="set", entity="product_stock", key="A", payload={"v": 1})], now)
        assert len(await ob.claim(tx, targets=["t"], limit=10, now=now, lease=600, owner="dispatcher")) == 1
    job = SlowJob()
    job.release.set()
    coordinator = JobCoordinator("stock", lambda: job.run(RunOptions()), interval=600, clock=FakeClock())
    never = asyncio.Event()  # the dispatcher ends no batch: CS-Cart has not answered yet
    server = ControlServer(state, Outbox(store, DispatchStats(), lambda: None, ("t",), lambda: now, lambda: True,
                                         lambda: never), lambda: {"stock": (coordinator, job)})
    await server.start()
    control = read(state)
    assert control is not None
    try:
        running = ask(control)
        for _ in range(200):  # until the run is over and its writes are awaited
            if list(server._runs.values()) == ["delivering"]:
                break
            await asyncio.sleep(0.05)
        assert list(server._runs.values()) == ["delivering"]
        # (without the stop ending it, the wait would last the patched 600 s recheck: these would time out)
        await asyncio.wait_for(server.stop(), timeout=30)
        remote = await asyncio.wait_for(running, timeout=30)
        assert remote is not None and remote.delivery == {"done": 0, "retried": 0, "dead": 0, "queued": 0}
        row = await store.fetchone("SELECT state FROM outbox WHERE key = 'A'")
        assert row is not None and row["state"] == "in_flight", "the write the dispatcher holds is left to it"
    finally:
        await server.stop()
        await store.close()
