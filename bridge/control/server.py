"""The daemon's side of ``bridge sync JOB``: ``POST /control/jobs/{job}/run`` runs the daemon's own job (its warm
state, its coordinator's lock: never beside a scheduled run) and answers once the writes it enqueued went out."""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from aiohttp import web

from bridge.control import ROUTE
from bridge.scheduler import JobCoordinator
from bridge.store import Store
from bridge.sync import RunOptions
from bridge.sync.base import Job, JobResult

log = structlog.get_logger("bridge.control")

MAX_FOLLOW_UPS = 100  # as `bridge sync` in its own process: a bounded run over a backlog runs again at once
DELIVERY_WAIT = 600.0  # seconds to wait for the first attempt at the run's writes; what is left is reported queued
DELIVERY_POLL = 0.02


@dataclass(frozen=True, slots=True)
class Delivery:
    done: int
    retried: int  # tried and failed: the dispatcher retries them later
    dead: int
    waiting: int  # not tried yet when the wait ended


class ControlRoutes:
    """The route; ``token`` is set once the daemon has announced itself (until then every call is refused)."""

    def __init__(self, store: Store, jobs: Callable[[], Mapping[str, tuple[JobCoordinator, Job]]],
                 wake_dispatcher: Callable[[], None]) -> None:
        self._store, self._jobs, self._wake = store, jobs, wake_dispatcher
        self.token: str | None = None

    @property
    def routes(self) -> list[tuple[str, str, Any]]:
        return [("POST", ROUTE, self.handle)]

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if self.token is None or not hmac.compare_digest(given.encode(), self.token.encode()):
            return web.json_response({"error": "unauthorized"}, status=401)
        name = request.match_info["job"]
        jobs = self._jobs()
        if name not in jobs:
            return web.json_response({"error": "not run by this daemon", "jobs": sorted(jobs)}, status=404)
        try:
            body = json.loads(await request.read() or b"{}")
            options = {key: body.get(key, False) for key in ("dry_run", "force", "full")}
            if not isinstance(body, dict) or not all(isinstance(v, bool) for v in options.values()):
                raise ValueError("dry_run, force and full must be true or false")
        except (ValueError, AttributeError) as exc:
            return web.json_response({"error": f"bad request: {exc}"}, status=400)
        coordinator, job = jobs[name]
        log.info("control.run", job=name, **options)
        try:
            result, delivery = await self.run(coordinator, job, **options)
        except Exception as exc:  # noqa: BLE001 - the caller is told; the daemon's own runs go on
            return web.json_response({"error": f"{type(exc).__name__}: {exc}"}, status=500)
        return web.json_response({
            "job": name, "summary": result.summary(), "read": result.read, "changed": result.changed, "enqueued": result.enqueued,
            "failed": result.failed, "refused_files": result.refused_files, "plan": result.plan,
            "notes": [str(note) for note in result.notes],
            "delivery": None if delivery is None else {"done": delivery.done, "retried": delivery.retried,
                                                       "dead": delivery.dead, "waiting": delivery.waiting}})

    async def run(self, coordinator: JobCoordinator, job: Job, *, dry_run: bool, force: bool, full: bool
                  ) -> tuple[JobResult, Delivery | None]:
        """The job's run with these options, then its follow-ups, under the coordinator's lock; a dry run is not
        counted as one of the job's runs (it changes nothing)."""
        outcome: list[JobResult] = []
        failure: list[BaseException] = []
        first_id = await self._newest_op()

        async def once() -> JobResult:
            try:
                result = await job.run(RunOptions(dry_run=dry_run, force=force, full=full, daemon=True))
                for _round in range(MAX_FOLLOW_UPS):
                    if dry_run or not result.more:
                        break
                    result.absorb(await job.run(RunOptions(force=force, daemon=True)))
            except Exception as exc:
                failure.append(exc)
                raise
            outcome.append(result)
            return result

        if dry_run:
            await coordinator.run_alone(once)
        else:
            await coordinator.run_now(once)
        if failure:
            raise failure[0]
        if dry_run:
            return outcome[0], None
        return outcome[0], await self._delivered(first_id, await self._newest_op())

    async def _newest_op(self) -> int:
        row = await self._store.fetchone("SELECT COALESCE(MAX(id), 0) FROM outbox")
        return int(row[0]) if row else 0

    async def _delivered(self, after: int, upto: int) -> Delivery:
        """The writes enqueued while the run went on (ids ``after`` < id ≤ ``upto``), once each was tried."""
        self._wake()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DELIVERY_WAIT
        while True:
            row = await self._store.fetchone(
                "SELECT COALESCE(SUM(state = 'done'), 0), COALESCE(SUM(state = 'pending' AND attempts > 0), 0), "
                "COALESCE(SUM(state = 'dead'), 0), "
                "COALESCE(SUM(state = 'in_flight' OR (state = 'pending' AND attempts = 0)), 0) "
                "FROM outbox WHERE id > ? AND id <= ?", (after, upto))
            delivery = Delivery(*(int(value) for value in row)) if row else Delivery(0, 0, 0, 0)
            if not delivery.waiting or loop.time() >= deadline:
                return delivery
            await asyncio.sleep(DELIVERY_POLL)
