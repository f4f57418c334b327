"""Job coordinators, after Home Assistant's DataUpdateCoordinator.

Each job has one coordinator: a fixed delay between the end of one run and the start of the next (plus a small
random offset), never two runs at once, a manual trigger that coalesces with a running cycle, failures logged once on
the transition and once on recovery, ``retry_after`` honoured, and the last success and exception exposed.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import structlog

from bridge import metrics
from bridge.domain.time import Clock
from bridge.errors import BridgeError, RetryableError
from bridge.logging import bind_run

log = structlog.get_logger("bridge.scheduler")

RunFunction = Callable[[], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class JobStatus:
    name: str
    running: bool
    last_started_at: datetime | None
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_exception: str | None
    next_run_at: datetime | None
    runs: int
    failures: int


class JobCoordinator:
    def __init__(
        self,
        name: str,
        run: RunFunction,
        *,
        interval: float,
        jitter: float = 0.05,
        stuck_after: float | None = None,
        clock: Clock | None = None,
        sleep: Callable[[float], Awaitable[object]] | None = None,
        rng: random.Random | None = None,
        on_state: Callable[[JobCoordinator], Awaitable[None]] | None = None,
        on_transition: Callable[[JobCoordinator, bool], Awaitable[None]] | None = None,
    ) -> None:
        self.name = name
        self._run = run
        self.interval = interval
        self.jitter = jitter
        self.stuck_after = stuck_after or max(2 * interval, 900.0)
        self.clock = clock or Clock()
        self._rng = rng or random.Random()
        self._trigger = asyncio.Event()
        self._rerun_requested = False
        self._run_lock = asyncio.Lock()
        self._sleep_override = sleep
        self._on_state = on_state
        self._on_transition = on_transition
        self.running = False
        self.run_started_monotonic: float | None = None
        self.last_started_at: datetime | None = None
        self.last_success_at: datetime | None = None
        self.last_failure_at: datetime | None = None
        self.last_exception: BaseException | None = None
        self.last_result: object = None
        self.next_run_at: datetime | None = None
        self.runs = 0
        self.failures = 0
        self.failing = False
        metrics.JOB_INTERVAL.labels(name).set(interval)

    # -- control -------------------------------------------------------------------------------------------------

    def trigger(self) -> None:
        """Run as soon as possible; during a run, one more run follows it (many triggers fold into one)."""
        if self.running:
            self._rerun_requested = True
        self._trigger.set()

    async def run_now(self, run: RunFunction | None = None) -> object:
        """Run once, now, waiting for a running cycle to finish first (CLI and tests); ``run`` in place of the
        job's own run function (a run asked for with other options) counts as one of its runs all the same."""
        return await self._run_once(run)

    async def run_alone(self, run: RunFunction) -> object:
        """``run`` while no run of this job is under way, not counted as one of its runs (a dry run); the watchdog
        sees it as it sees a run (a hung one stops feeding systemd)."""
        async with self._run_lock:
            # not `running`: a trigger meanwhile is for the next real run, not a rerun after this one
            self.run_started_monotonic = self.clock.monotonic()
            try:
                with bind_run(self.name, uuid.uuid4().hex[:8]):
                    return await run()
            finally:
                self.run_started_monotonic = None

    async def run_forever(self, *, initial_delay: float = 0.0) -> None:
        delay = initial_delay
        while True:
            await self._wait(delay)
            await self._run_once()
            delay = self._next_delay()

    # -- state ---------------------------------------------------------------------------------------------------

    def is_ticking(self) -> bool:
        """False once a run has taken longer than ``stuck_after``: the systemd watchdog then stops being fed."""
        if self.run_started_monotonic is None:  # set for every run, a dry run too
            return True
        return (self.clock.monotonic() - self.run_started_monotonic) < self.stuck_after

    def succeeded_within(self, seconds: float) -> bool:
        if self.last_success_at is None:
            return False
        return (self.clock.now() - self.last_success_at).total_seconds() <= seconds

    def status(self) -> JobStatus:
        return JobStatus(
            name=self.name,
            running=self.running,
            last_started_at=self.last_started_at,
            last_success_at=self.last_success_at,
            last_failure_at=self.last_failure_at,
            last_exception=None if self.last_exception is None else repr(self.last_exception),
            next_run_at=self.next_run_at,
            runs=self.runs,
            failures=self.failures,
        )

    # -- internals -----------------------------------------------------------------------------------------------

    def _next_delay(self) -> float:
        if self._rerun_requested:
            self._rerun_requested = False
            return 0.0
        exc = self.last_exception
        if self.failing and isinstance(exc, RetryableError) and exc.retry_after is not None:
            return exc.retry_after
        return self.interval + self._rng.uniform(0, self.jitter * self.interval)

    async def _wait(self, delay: float) -> None:
        from datetime import timedelta

        self.next_run_at = self.clock.now() + timedelta(seconds=delay)
        if self._on_state:
            await self._on_state(self)
        if delay <= 0:
            self._trigger.clear()
            return
        if self._sleep_override is not None:
            # tests: time is controlled; a trigger set before the sleep still wins
            if not self._trigger.is_set():
                await self._sleep_override(delay)
            self._trigger.clear()
            return
        try:
            await asyncio.wait_for(self._trigger.wait(), timeout=delay)
        except TimeoutError:
            pass
        self._trigger.clear()

    async def _run_once(self, run: RunFunction | None = None) -> object:
        async with self._run_lock:
            run_id = uuid.uuid4().hex[:8]
            self.running = True
            self.run_started_monotonic = self.clock.monotonic()
            self.last_started_at = self.clock.now()
            self.runs += 1
            metrics.JOB_RUNNING.labels(self.name).set(1)
            started = time.perf_counter()
            if self._on_state:
                await self._on_state(self)
            try:
                with bind_run(self.name, run_id):
                    result = await (run or self._run)()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a job failure must never stop the scheduler
                await self._failed(exc)
                result = None
            else:
                await self._succeeded(result)
            finally:
                self.running = False
                self.run_started_monotonic = None
                metrics.JOB_RUNNING.labels(self.name).set(0)
                metrics.JOB_DURATION.labels(self.name).observe(time.perf_counter() - started)
            if self._on_state:
                await self._on_state(self)
            return result

    async def _failed(self, exc: Exception) -> None:
        self.failures += 1
        self.last_exception = exc
        self.last_failure_at = self.clock.now()
        metrics.JOB_RUNS.labels(self.name, "failure").inc()
        if not self.failing:
            self.failing = True
            # Our own errors say what to fix; a traceback only helps with the unexpected ones.
            trace = None if isinstance(exc, BridgeError) else exc
            log.error("job.failing", job=self.name, error=f"{type(exc).__name__}: {exc}", exc_info=trace)
            if self._on_transition:
                await self._on_transition(self, False)
        else:
            log.debug("job.still_failing", job=self.name, error=f"{type(exc).__name__}: {exc}")

    async def _succeeded(self, result: object) -> None:
        self.last_result = result
        self.last_success_at = self.clock.now()
        metrics.JOB_RUNS.labels(self.name, "success").inc()
        metrics.JOB_LAST_SUCCESS.labels(self.name).set(self.clock.time())
        if self.failing:
            self.failing = False
            log.info("job.recovered", job=self.name, after_failures=self.failures)
            if self._on_transition:
                await self._on_transition(self, True)
        self.last_exception = None


class Scheduler:
    """Runs every coordinator; a stuck or failed job never stops the others."""

    def __init__(self) -> None:
        self.coordinators: dict[str, JobCoordinator] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def add(self, coordinator: JobCoordinator) -> None:
        self.coordinators[coordinator.name] = coordinator

    def start(self, *, spread: float = 2.0, rng: random.Random | None = None) -> None:
        rng = rng or random.Random()
        for coordinator in self.coordinators.values():
            task = asyncio.create_task(coordinator.run_forever(initial_delay=rng.uniform(0, spread)),
                                       name=f"job:{coordinator.name}")
            self._tasks.append(task)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    def trigger(self, name: str) -> bool:
        coordinator = self.coordinators.get(name)
        if coordinator is None:
            return False
        coordinator.trigger()
        return True

    def all_ticking(self) -> bool:
        return all(c.is_ticking() for c in self.coordinators.values()) and all(not t.done() for t in self._tasks)
