"""Job coordinator behaviour with controlled time."""

from __future__ import annotations

import asyncio
import random

import pytest
import structlog

from bridge.errors import RetryableError
from bridge.scheduler import JobCoordinator
from tests.foundation.fakes import FakeClock


def coordinator(run, clock: FakeClock, **kw) -> JobCoordinator:  # type: ignore[no-untyped-def]
    return JobCoordinator("stock", run, interval=600, jitter=0.05, clock=clock, sleep=clock.sleep,
                          rng=random.Random(3), **kw)


async def test_fixed_delay_counts_from_the_end_of_a_run() -> None:
    clock = FakeClock()
    starts: list[float] = []

    async def run() -> None:
        starts.append(clock.time())
        clock.advance(100)  # the run itself takes 100 s
        if len(starts) == 3:
            raise asyncio.CancelledError

    c = coordinator(run, clock)
    with pytest.raises(asyncio.CancelledError):
        await c.run_forever()
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    # gap = run time 100 + interval 600 + jitter in [0, 30]
    assert all(700 <= gap <= 730 for gap in gaps)
    assert len(set(gaps)) == 2  # jitter varies


async def test_runs_never_overlap_and_trigger_during_a_run_coalesces_into_one_rerun() -> None:
    clock = FakeClock()
    running = 0
    peak = 0
    runs = 0
    release = asyncio.Event()

    async def run() -> None:
        nonlocal running, peak, runs
        running += 1
        peak = max(peak, running)
        runs += 1
        if runs == 1:
            await release.wait()
        running -= 1

    c = JobCoordinator("orders", run, interval=60, clock=clock)  # real waiting, so triggers wake it
    task = asyncio.create_task(c.run_forever())
    await asyncio.sleep(0.01)
    assert c.running
    for _ in range(5):
        c.trigger()  # five triggers during the run …
    release.set()
    for _ in range(50):
        await asyncio.sleep(0.01)
        if runs >= 2:
            break
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert runs == 2  # … fold into exactly one more run, right after
    assert peak == 1


async def test_run_now_waits_for_a_running_cycle_instead_of_overlapping() -> None:
    clock = FakeClock()
    active = 0
    peak = 0

    async def run() -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.01)
        active -= 1

    c = coordinator(run, clock)
    await asyncio.gather(c.run_now(), c.run_now(), c.run_now())
    assert peak == 1 and c.runs == 3


async def test_a_run_asked_with_other_options_waits_its_turn_and_a_dry_run_is_not_counted() -> None:
    """`bridge sync JOB` in the daemon (bridge/control): its run takes the coordinator's turn like a scheduled one;
    a real run counts (last success, runs), a dry run changes nothing and is not counted."""
    clock = FakeClock()
    order: list[str] = []
    scheduled_started = asyncio.Event()
    release = asyncio.Event()

    async def scheduled() -> str:
        order.append("scheduled")
        scheduled_started.set()
        await release.wait()
        order.append("scheduled done")
        return "scheduled"

    async def asked() -> str:
        order.append("asked")
        return "asked"

    c = coordinator(scheduled, clock)
    first = asyncio.create_task(c.run_now())
    await scheduled_started.wait()
    waiting = [asyncio.create_task(c.run_alone(asked)), asyncio.create_task(c.run_now(asked))]
    await asyncio.sleep(0.01)
    assert order == ["scheduled"], "neither starts beside the scheduled run"
    release.set()
    assert await asyncio.gather(first, *waiting) == ["scheduled", "asked", "asked"]
    assert order == ["scheduled", "scheduled done", "asked", "asked"]
    assert c.runs == 2 and c.last_result == "asked", "the dry run (run_alone) is not one of the job's runs"


async def test_failure_logged_once_on_transition_and_once_on_recovery() -> None:
    clock = FakeClock()
    outcomes = iter([ValueError("a"), ValueError("b"), ValueError("c"), None, ValueError("d")])
    transitions: list[bool] = []

    async def run() -> None:
        outcome = next(outcomes)
        if outcome:
            raise outcome

    async def on_transition(_: JobCoordinator, recovered: bool) -> None:
        transitions.append(recovered)

    c = coordinator(run, clock, on_transition=on_transition)
    with structlog.testing.capture_logs() as logs:
        for _ in range(5):
            await c.run_now()
    events = [(e["event"], e["log_level"]) for e in logs if e["log_level"] in ("error", "info")]
    assert events == [("job.failing", "error"), ("job.recovered", "info"), ("job.failing", "error")]
    assert transitions == [False, True, False]
    assert c.failures == 4 and c.runs == 5
    assert isinstance(c.last_exception, ValueError) and c.last_success_at is not None


async def test_retry_after_sets_the_next_delay() -> None:
    clock = FakeClock()

    async def run() -> None:
        raise RetryableError("maintenance", retry_after=42)

    c = coordinator(run, clock)
    await c.run_now()
    assert c._next_delay() == 42  # noqa: SLF001


async def test_cancellation_is_not_swallowed() -> None:
    started = asyncio.Event()

    async def run() -> None:
        started.set()
        await asyncio.sleep(3600)

    c = JobCoordinator("prices", run, interval=3600)
    task = asyncio.create_task(c.run_forever())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not c.running and c.failures == 0


async def test_stuck_run_stops_ticking() -> None:
    clock = FakeClock()
    started = asyncio.Event()
    release = asyncio.Event()

    async def run() -> None:
        started.set()
        await release.wait()

    c = JobCoordinator("stock", run, interval=600, stuck_after=900, clock=clock)
    task = asyncio.create_task(c.run_now())
    await started.wait()
    assert c.is_ticking()
    clock.advance(901)
    assert not c.is_ticking()
    release.set()
    await task
    assert c.is_ticking()
