"""``bridge run``: store, dispatcher, scheduler, HTTP server, systemd notify and signals, wired together."""

from __future__ import annotations

import asyncio
import gc
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import structlog

from bridge import __version__, metrics, wiring
from bridge.config import Settings
from bridge.control.server import ControlServer, Outbox
from bridge.dispatch import Dispatcher
from bridge.domain.time import Clock, iso, utcnow
from bridge.events import EventPublisher, NullPublisher
from bridge.http import HttpServer, Probe, build_app
from bridge.i18n import _, source_of
from bridge.preflight import unconfigured_jobs
from bridge.scheduler import JobCoordinator, Scheduler
from bridge.smile.watch import InboxWatcher
from bridge.statelock import EXTEND_EVERY, StartAborted, StateLock
from bridge.store import Store, business
from bridge.store import orders as mirrored_orders
from bridge.store import outbox as ob
from bridge.sync import JobContext, RunOptions, registered_jobs
from bridge.sync.base import Job
from bridge.systemd import Notifier, watchdog_interval

log = structlog.get_logger("bridge.daemon")

CREDENTIAL_POLL = 60.0
GC_YOUNG_THRESHOLD = 10_000  # allocations between two young-generation collections (CPython's default: 700)


def _freeze_start_up_objects() -> None:
    """Move what start-up made (modules, rules, settings, the analytics imports: over 100,000 objects) out of the
    cyclic collector's reach: they live as long as the process, and without this every full collection during an
    orders burst walks them all again (tens of ms each, inside the event loop). Objects made later are collected as
    usual."""
    gc.collect()
    gc.freeze()
    # and a larger first generation: a burst allocates orders by the thousand, most of them gone within a run;
    # collecting every 700 allocations promoted many of them to the older generations, each pass costing more
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


def _refreeze_after_reload() -> None:
    """A reload drops start-up objects (the old settings, rules, clients) that the freeze put out of the
    collector's reach: give them back to it once, collect, and freeze what lives on."""
    if gc.get_freeze_count():
        gc.unfreeze()
        _freeze_start_up_objects()


class Daemon:
    def __init__(self, settings: Settings, *, clock: Clock | None = None,
                 reload_settings: Callable[[], Settings] | None = None) -> None:
        self.settings = settings
        # reads the settings again (SIGHUP, and every CREDENTIAL_POLL seconds while CS-Cart refuses the key)
        self._reload_settings = reload_settings
        self.clock = clock or Clock()
        self.notifier = Notifier()
        self.scheduler = Scheduler()
        self.store: Store | None = None
        self.dispatcher: Dispatcher | None = None
        self.http: HttpServer | None = None
        self.wiring: wiring.Wiring | None = None
        self.context: JobContext | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._dispatch_task: asyncio.Task[None] | None = None
        self.reload_hooks: list[Callable[[], Awaitable[object]]] = []
        self.lock = StateLock(settings.state_path)
        self.events: EventPublisher = NullPublisher()
        self.jobs: dict[str, tuple[JobCoordinator, Job]] = {}  # the jobs this daemon runs, by name
        self.control: ControlServer | None = None

    # -- lifecycle -----------------------------------------------------------------------------------------------

    async def start(self) -> None:
        metrics.UP_SINCE.set(time.time())
        metrics.BUILD_INFO.labels(__version__).set(1)
        # a `bridge sync` running a job in its own process holds the state until its run ends: wait for it, for as
        # long as it takes, telling systemd (so its start timeout grows) and leaving at once on SIGTERM
        await asyncio.to_thread(self.lock.acquire, _("start a second daemon on it"), wait_for_sync=True,
                                waiting=self._waiting_for_sync, stopped=self._stop.is_set)
        self.store = await Store.open(self.settings.state_path)
        self.wiring = await wiring.build(self.settings, self.store)
        try:
            for check in self.wiring.startup:  # e.g. order_flow.yaml's letters against CS-Cart's GET /statuses
                await check()
        except BaseException:
            await self.wiring.aclose()
            await self.store.close()
            self.lock.release()
            raise
        self.reload_hooks.extend(self.wiring.reload_hooks)
        self.reload_hooks.append(self.reload_credentials)
        self.events = self.wiring.services.events
        self.dispatcher = Dispatcher(self.store, self.wiring.sinks, self.settings.dispatch, clock=self.clock,
                                     on_dead=self._dead_letter_event)
        self.context = JobContext(
            settings=self.settings,
            store=self.store,
            clock=self.clock,
            wake_dispatcher=self.dispatcher.wake,
            services=replace(self.wiring.services, scheduler=self.scheduler),
        )
        await self._warm_up()
        self._add_jobs()
        sync_commands = self.wiring.services.sync_commands
        if sync_commands is not None:
            sync_commands.bind_commands(self.scheduler.trigger)
        probe = Probe(
            {"store": self._store_ready, "jobs": self._jobs_ready, "dispatcher": self._dispatcher_ready,
             "cscart_auth": self._auth_ready},
            live={"dispatcher": self._dispatcher_alive},
        )
        self.http = HttpServer(build_app(probe, self.wiring.routes), self.settings.http.host, self.settings.http.port)
        await self.http.start()
        # `bridge sync JOB` while this daemon runs: the CLI asks, this daemon's own job runs (bridge/control)
        self.control = ControlServer(self.settings.state_path, Outbox(
            self.store, self.dispatcher.stats, self.dispatcher.wake, tuple(self.wiring.sinks), self.clock.time,
            lambda: self._dispatcher_alive()[0], self.dispatcher.next_batch),
            lambda: self.jobs)
        await self.control.start()
        self._dispatch_task = asyncio.create_task(self.dispatcher.run(), name="dispatcher")
        self.scheduler.start()
        self._tasks.append(asyncio.create_task(self._refresh_gauges(), name="gauges"))
        if self.settings.smile.watch_inbox:
            watcher = InboxWatcher(self.settings.smile, self.settings.smile.dirs(self.settings.data_dir).inbox,
                                   self.scheduler.trigger)
            self._tasks.append(asyncio.create_task(watcher.run(), name="inbox-watch"))
        for background in self.wiring.background:
            self._tasks.append(asyncio.create_task(background(), name=getattr(background, "__name__", "background")))
        self._tasks.append(asyncio.create_task(self._credential_watch(), name="credentials"))
        interval = watchdog_interval()
        if interval:
            self._tasks.append(asyncio.create_task(self._watchdog(interval), name="watchdog"))
        _freeze_start_up_objects()
        jobs = ", ".join(self.scheduler.coordinators) or "no jobs"
        self.notifier.ready(_("running: {jobs}").format(jobs=", ".join(self.scheduler.coordinators) or _("no jobs")))
        log.info("daemon.started", version=__version__, http=f"{self.http.host}:{self.http.port}", jobs=jobs,
                 sinks=sorted(self.wiring.sinks), state=str(self.settings.state_path))

    def _waiting_for_sync(self, pid: str) -> None:
        """(a worker thread) Every EXTEND_EVERY seconds while `bridge sync` holds the state: a log line, and systemd's
        start timeout extended past the next call."""
        log.info("daemon.waiting_for_sync", pid=pid)
        self.notifier.notify(f"EXTEND_TIMEOUT_USEC={int((EXTEND_EVERY + 30) * 1_000_000)}",
                             f"STATUS=waiting for bridge sync (pid {pid}) to finish its job")

    async def _warm_up(self) -> None:
        """Load what the first runs would otherwise import inside the event loop (the analytics feed's duckdb and
        pandas), in a thread before the jobs start: the first orders burst after a start keeps its latency."""
        from bridge.analytics.hooks import warm_up

        try:
            await asyncio.to_thread(warm_up, self.settings)
        except Exception:  # noqa: BLE001 - the first copy imports it again and reports the failure as it always did
            log.warning("daemon.analytics_warm_up_failed", exc_info=True)

    def _add_jobs(self) -> None:
        assert self.context is not None
        specs = registered_jobs()
        job_settings = dict(self.settings.jobs.items())
        skipped = unconfigured_jobs(self.settings)
        if skipped:  # one line, not a failure every run and /readyz 503 for ever
            reasons = sorted(set(skipped.values()))
            log.warning("daemon.jobs_not_configured", jobs=", ".join(sorted(skipped)), reason="; ".join(reasons),
                        message=_("jobs not started: {jobs} ({reason})").format(
                            jobs=", ".join(sorted(skipped)), reason="; ".join(reasons)))
        for name, spec in specs.items():
            cfg = job_settings.get(name)
            if cfg is None or not cfg.enabled or name in skipped:
                continue
            job = spec.factory(self.context)
            coordinator: list[JobCoordinator] = []

            async def run(job: Any = job, coordinator: list[JobCoordinator] = coordinator) -> object:
                result = await job.run(RunOptions(daemon=True))
                log.info("job.summary", summary=result.summary())
                if getattr(result, "more", False) and coordinator:
                    coordinator[0].trigger()  # during the run: one more run follows at once
                return result

            coordinator.append(JobCoordinator(
                name, run, interval=cfg.interval, jitter=cfg.jitter, stuck_after=cfg.stuck_seconds(),
                clock=self.clock, on_state=self._save_job_state, on_transition=self._job_transition_event,
            ))
            self.scheduler.add(coordinator[0])
            self.jobs[name] = (coordinator[0], job)

    async def run_until_stopped(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.request_stop)
        loop.add_signal_handler(signal.SIGINT, self.request_stop)
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload()))
        try:
            await self.start()
        except StartAborted:
            log.info("daemon.stopped_before_start")
            return
        try:
            await self._stop.wait()
        finally:
            await self.shutdown()

    def request_stop(self) -> None:
        log.info("daemon.stopping")
        self._stop.set()

    async def reload(self) -> None:
        log.info("daemon.reload", hooks=len(self.reload_hooks))
        for hook in self.reload_hooks:
            try:
                await hook()
            except Exception:  # noqa: BLE001 - a failed reload keeps the last good state; the hook reports it
                log.exception("daemon.reload_failed")
        _refreeze_after_reload()

    async def shutdown(self) -> None:
        self.notifier.stopping()
        if self.control is not None:  # first: no `bridge sync` is taken from now on
            await self.control.stop()
        await self.scheduler.stop()
        if self.dispatcher is not None and self._dispatch_task is not None:
            self.dispatcher.stop()
            try:
                await asyncio.wait_for(self._dispatch_task, timeout=self.settings.dispatch.drain_timeout + 5)
            except (TimeoutError, asyncio.CancelledError):
                self._dispatch_task.cancel()
                await asyncio.gather(self._dispatch_task, return_exceptions=True)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.http is not None:
            await self.http.stop()
        if self.wiring is not None:
            await self.wiring.aclose()
        if self.store is not None:
            await self.store.close()
        self.lock.release()
        self.notifier.close()
        log.info("daemon.stopped")

    # -- health --------------------------------------------------------------------------------------------------

    def _store_ready(self) -> tuple[bool, str]:
        return (self.store is not None, _("state store not open"))

    def _auth_ready(self) -> tuple[bool, str]:
        client = self.wiring.services.cscart if self.wiring is not None else None
        problem = getattr(client, "auth_problem", None)
        if not problem:
            return (True, "")
        return (False, _("{problem}; fix cscart.api_key (environment or credential file), then SIGHUP (it is also "
                         "re-read every minute)").format(problem=problem))

    async def reload_credentials(self) -> bool:
        """Read the settings again and hand new CS-Cart credentials to the client; returns whether they changed."""
        client = self.wiring.services.cscart if self.wiring is not None else None
        if self._reload_settings is None or client is None:
            return False
        fresh = self._reload_settings()
        if not fresh.cscart.email or fresh.cscart.api_key is None:
            return False
        changed = await client.set_credentials(fresh.cscart.email, fresh.cscart.api_key)
        if changed:
            for name in ("orders", "stock"):  # the jobs that show CS-Cart answering again, at once
                if name in self.scheduler.coordinators:
                    self.scheduler.trigger(name)
        return changed

    async def _credential_watch(self) -> None:
        """While CS-Cart refuses the key, look for a new one (a rotated systemd credential) every minute."""
        while True:
            await asyncio.sleep(CREDENTIAL_POLL)
            client = self.wiring.services.cscart if self.wiring is not None else None
            if getattr(client, "auth_problem", None):
                try:
                    await self.reload_credentials()
                except Exception:  # noqa: BLE001 - a broken settings file: the last good credentials stay
                    log.exception("daemon.credentials_reload_failed")

    def _dispatcher_alive(self) -> tuple[bool, str]:
        task = self._dispatch_task
        if task is None or not task.done() or task.cancelled():
            return (True, "")
        error = task.exception()
        return (False, _("dispatcher stopped: {error}").format(error=f"{type(error).__name__}: {error}") if error
                else _("dispatcher stopped"))

    def _dispatcher_ready(self) -> tuple[bool, str]:
        alive, reason = self._dispatcher_alive()
        if not alive:
            return (False, reason)
        return self.dispatcher.health() if self.dispatcher is not None else (False, _("dispatcher not started"))

    def _jobs_ready(self) -> tuple[bool, str]:
        late = [
            name for name, c in self.scheduler.coordinators.items() if not c.succeeded_within(2 * c.interval)
        ]
        return (not late, _("no success within 2× interval: {jobs}").format(jobs=", ".join(late)))

    async def _watchdog(self, interval: float) -> None:
        while True:
            if self.scheduler.all_ticking():
                self.notifier.watchdog()
            else:
                stuck = [n for n, c in self.scheduler.coordinators.items() if not c.is_ticking()]
                log.error("watchdog.withheld", stuck=stuck)
                self.notifier.status(_("stuck: {jobs}").format(jobs=", ".join(stuck)))
            await asyncio.sleep(interval)

    async def _refresh_gauges(self) -> None:
        rounds = 0
        while True:
            try:
                assert self.store is not None
                async with self.store.transaction() as tx:
                    depth = await ob.depth_by_state(tx)
                    orders = await mirrored_orders.counts_by_state(tx)
                    figures = await business.figures(tx, utcnow()) if rounds % 12 == 0 else None  # once a minute
                for state, count in depth.items():
                    metrics.OUTBOX_OPS.labels(state).set(count)
                metrics.DEAD_LETTERS.set(depth[ob.DEAD])
                for state, count in orders.items():
                    metrics.ORDERS_BY_STATE.labels(state).set(count)
                if figures is not None:
                    set_business_gauges(figures)
            except Exception:  # noqa: BLE001 - gauges are best effort
                log.debug("gauges.refresh_failed", exc_info=True)
            rounds += 1
            await asyncio.sleep(5)

    async def _job_transition_event(self, c: JobCoordinator, recovered: bool) -> None:
        if recovered:
            await self.events.publish("job_recovered", {"job": c.name, "failures": c.failures})
        else:
            error = None if c.last_exception is None else f"{type(c.last_exception).__name__}: {c.last_exception}"
            await self.events.publish("job_failed", {"job": c.name, "error": error, "failures": c.failures})

    async def _dead_letter_event(self, op: ob.OutboxOp, error: str) -> None:
        await self.events.publish(
            "dead_letter", {"op_id": op.id, "target": op.target, "entity": op.entity, "key": op.key, "error": error}
        )

    async def _save_job_state(self, c: JobCoordinator) -> None:
        if self.store is None:
            return
        async with self.store.transaction() as tx:
            await tx.execute(
                "INSERT INTO job_state (job, last_started_at, last_success_at, last_failure_at, last_error, "
                "next_run_at, runs, failures) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job) DO UPDATE SET "
                "last_started_at = excluded.last_started_at, last_success_at = excluded.last_success_at, "
                "last_failure_at = excluded.last_failure_at, last_error = excluded.last_error, "
                "next_run_at = excluded.next_run_at, runs = excluded.runs, failures = excluded.failures",
                (c.name, iso(c.last_started_at), iso(c.last_success_at), iso(c.last_failure_at),
                 None if c.last_exception is None  # English (bridge status shows it in the reader's language)
                 else f"{type(c.last_exception).__name__}: {source_of(c.last_exception)}",
                 iso(c.next_run_at), c.runs, c.failures),
            )


def set_business_gauges(figures: business.Figures) -> None:
    """The business dashboard's gauges from ``bridge.store.business.figures``."""
    for direct in (False, True):
        label = "yes" if direct else "no"
        metrics.ORDERS_TODAY.labels(label).set(figures.orders_today[direct])
        metrics.SALES_TODAY.labels(label).set(float(figures.sales_today[direct]))
    metrics.ORDERS_LAST_HOUR.set(figures.orders_last_hour)
    metrics.SHIPPED_TODAY.set(figures.shipped_today)
    for kind in (*(kind for kind, _ in business.HOLD_KINDS), business.STAFF, "other"):
        metrics.ORDERS_ON_HOLD.labels(kind).set(figures.on_hold.get(kind, 0))
