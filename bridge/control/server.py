"""The daemon's side of ``bridge sync JOB``: ``POST /control/jobs/{job}/run`` on a listener of its own, on loopback
only (never the /metrics and /hooks listener, which may face the network), runs the daemon's own job in its
coordinator's turn and answers once the writes that were ready when the run ended have been tried."""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from pathlib import Path

import structlog
from aiohttp import web

from bridge import control
from bridge.dispatch import DispatchStats
from bridge.scheduler import JobCoordinator
from bridge.store import Store
from bridge.sync import RunOptions
from bridge.sync.base import Job, JobResult, follow_ups

log = structlog.get_logger("bridge.control")

DELIVERY_WAIT = 600.0  # at most this long for the ready writes to be tried; what is left is reported queued
DELIVERY_RECHECK = 0.5  # the wait looks again after each batch the dispatcher ends, and at least this often
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class Delivery:
    done: int  # delivered by the daemon while the command waited (as `bridge sync` counts in its own process)
    retried: int  # tried and failed: the dispatcher retries them later
    dead: int
    queued: int  # this run's writes still queued at the end (a retry's wait, an older write for the same key …)


@dataclass(frozen=True, slots=True)
class Outbox:
    """What the route needs of the daemon's outbox: the store, the dispatcher's stats, wake-up and targets, and
    the clock the outbox's times are in."""

    store: Store
    stats: DispatchStats
    wake: Callable[[], None]
    targets: Sequence[str]
    now: Callable[[], float]  # unix seconds, as next_attempt_at
    alive: Callable[[], bool]  # the dispatcher still delivers (else nobody would: the wait ends)
    next_batch: Callable[[], asyncio.Event]  # set when the dispatcher's next batch is over (Dispatcher.next_batch)


class ControlServer:
    def __init__(self, state_path: Path, outbox: Outbox,
                 jobs: Callable[[], Mapping[str, tuple[JobCoordinator, Job]]]) -> None:
        self._state_path, self._outbox, self._jobs = state_path, outbox, jobs
        self._runner: web.AppRunner | None = None
        self._announced: control.ControlFile | None = None
        self._token: str | None = None  # kept until the listener closes: a caller during the stop hears 503, not 401
        self._closing = asyncio.Event()  # set first thing on stop: a delivery wait ends at once
        # control runs under way → their phase: "waiting" (for the job's turn), "running", "delivering"
        self._runs: dict[asyncio.Task[tuple[JobResult, Delivery | None]], str] = {}

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post(control.ROUTE, self.handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, LOOPBACK, 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self._announced = control.announce(self._state_path, f"http://{LOOPBACK}:{port}")
        self._token = self._announced.token

    async def stop(self) -> None:
        """First thing on shutdown: no new run is taken (503: the command looks again, and finds the state free
        once this process has exited), the control file goes, runs waiting for their turn or under way are cancelled
        as the scheduled runs are; a run whose writes are being delivered answers with what is still queued."""
        self._closing.set()
        if self._announced is not None:
            control.withdraw(self._state_path, self._announced)
            self._announced = None
        for task, phase in self._runs.items():
            if phase != "delivering":
                task.cancel()
        await asyncio.gather(*self._runs, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._token = None

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        token = self._token
        if token is None or not given.isascii() or not hmac.compare_digest(given.encode(), token.encode()):
            return web.json_response({"error": "unauthorized"}, status=401)
        if self._closing.is_set():
            return _stopping(ran=False)
        name = request.match_info["job"]
        jobs = self._jobs()
        if name not in jobs:
            return web.json_response({"error": "not run by this daemon", "jobs": sorted(jobs)}, status=404)
        try:
            body = json.loads(await request.read() or b"{}")
            if not isinstance(body, dict):
                raise ValueError("a JSON object is expected")
            options = {key: body.get(key, False) for key in ("dry_run", "force", "full")}
            if not all(isinstance(value, bool) for value in options.values()):
                raise ValueError("dry_run, force and full must be true or false")
        except ValueError as exc:
            return web.json_response({"error": f"bad request: {exc}"}, status=400)
        if self._closing.is_set():  # (the body was read meanwhile)
            return _stopping(ran=False)
        coordinator, job = jobs[name]
        log.info("control.run", job=name, **options)
        task = asyncio.create_task(self.run(coordinator, job, **options), name=f"control:{name}")
        self._runs[task] = "waiting"
        try:
            result, delivery = await asyncio.shield(task)  # a caller that goes away does not cut the run short
        except asyncio.CancelledError:
            return _stopping(ran=self._runs.get(task) != "waiting")
        except Exception as exc:  # noqa: BLE001 - the caller is told; the daemon's own runs go on
            log.exception("control.run_failed", job=name)
            return web.json_response({"error": f"{type(exc).__name__}: {exc}",
                                      "exit_code": getattr(exc, "exit_code", 1)}, status=500)
        finally:
            if task.done():
                self._runs.pop(task, None)
            else:  # (this handler was cancelled: the run goes on, and is forgotten when it ends)
                task.add_done_callback(lambda done: self._runs.pop(done, None))
        return web.json_response({
            "job": name, "summary": result.summary(), "read": result.read, "changed": result.changed,
            "enqueued": result.enqueued, "failed": result.failed, "refused_files": result.refused_files,
            "plan": result.plan, "notes": [str(note) for note in result.notes],
            "delivery": None if delivery is None else {"done": delivery.done, "retried": delivery.retried,
                                                       "dead": delivery.dead, "queued": delivery.queued}})

    async def run(self, coordinator: JobCoordinator, job: Job, *, dry_run: bool, force: bool, full: bool
                  ) -> tuple[JobResult, Delivery | None]:
        """The job's run with these options, then its follow-ups, in the coordinator's turn; a dry run is not
        counted as one of the job's runs (it changes nothing)."""
        outcome: list[tuple[JobResult, int, int, DispatchStats]] = []
        failure: list[BaseException] = []

        me = asyncio.current_task()

        async def once() -> JobResult:
            self._phase(me, "running")
            try:
                first = await self._newest_op()
                before = dataclasses.replace(self._outbox.stats)  # a copy: the dispatcher counts on
                options = RunOptions(dry_run=dry_run, force=force, full=full, daemon=True)
                result = await follow_ups(job, await job.run(options), options)
                outcome.append((result, first, await self._newest_op(), before))
            except Exception as exc:
                failure.append(exc)
                raise
            return result

        await (coordinator.run_alone(once) if dry_run else coordinator.run_now(once))
        if failure:
            raise failure[0]
        result, first, upto, before = outcome[0]
        if dry_run:
            return result, None
        self._phase(me, "delivering")
        return result, await self._delivered(first, upto, before)

    def _phase(self, task: asyncio.Task[Any] | None, phase: str) -> None:
        if task is not None and task in self._runs:
            self._runs[task] = phase

    async def _newest_op(self) -> int:
        row = await self._outbox.store.fetchone("SELECT COALESCE(MAX(id), 0) FROM outbox")
        return int(row[0]) if row else 0

    async def _delivered(self, first: int, upto: int, before: DispatchStats) -> Delivery:
        """Wait until no write that existed when the run ended (id ≤ ``upto``) is in flight or ready to be claimed
        now, then count what the dispatcher did meanwhile, and this run's writes still queued."""
        outbox = self._outbox
        outbox.wake()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DELIVERY_WAIT
        targets = list(outbox.targets)
        marks = ",".join("?" for _ in targets)
        while targets and not self._closing.is_set() and outbox.alive() and loop.time() < deadline:
            batch = outbox.next_batch()  # before the look: a batch that ends meanwhile is not missed
            # "ready" as the dispatcher's claim sees it: due, and no older write for the same key ahead of it
            row = await outbox.store.fetchone(
                f"SELECT 1 FROM outbox o WHERE o.id <= ? AND o.target IN ({marks}) AND (o.state = 'in_flight' OR "
                "(o.state = 'pending' AND o.next_attempt_at <= ? AND NOT EXISTS (SELECT 1 FROM outbox b "
                "WHERE b.target = o.target AND b.entity = o.entity AND b.key = o.key AND (b.state = 'in_flight' "
                "OR (b.state = 'pending' AND b.id < o.id))))) LIMIT 1", (upto, *targets, outbox.now()))
            if row is None:
                break
            waits = (asyncio.ensure_future(batch.wait()), asyncio.ensure_future(self._closing.wait()))
            try:
                await asyncio.wait(waits, timeout=DELIVERY_RECHECK, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for wait in waits:
                    wait.cancel()
        row = await outbox.store.fetchone(
            "SELECT COUNT(*) FROM outbox WHERE id > ? AND id <= ? AND state IN ('pending', 'in_flight')",
            (first, upto))
        stats = outbox.stats
        return Delivery(done=stats.done - before.done, retried=stats.retried - before.retried,
                        dead=stats.dead - before.dead, queued=int(row[0]) if row else 0)


def _stopping(*, ran: bool) -> web.Response:
    """503: the daemon is stopping; ``ran``: the run had begun (and was cut short), else it never started."""
    return web.json_response({"error": "the daemon stopped during the run" if ran else "the daemon is stopping",
                              "ran": ran}, status=503)
