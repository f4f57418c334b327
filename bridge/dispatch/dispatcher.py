"""The dispatcher: the only place that writes to the outside.

It claims ready outbox ops in batches, delivers them through their target's sink (ops of one key in order, keys in
parallel), and records every outcome in one transaction per batch: done (and the ledger), retry later, or dead.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from bridge import metrics
from bridge.config import DispatchSettings
from bridge.dispatch.retry import is_retryable, long_backoff, short_retrying
from bridge.dispatch.sink import BatchSink, CheckingSink, Sink
from bridge.domain.time import Clock
from bridge.errors import DeliveryError, RetryableError
from bridge.i18n import N_, _, said, source_of
from bridge.store import Store
from bridge.store import outbox as ob

log = structlog.get_logger("bridge.dispatch")

# A dead letter's hint when its error brings none; stored in English, shown in the reader's language (bridge dlq).
DEFAULT_HINTS = {
    "permanent": N_("The target refused this write. Fix the data or mapping it names, then `bridge dlq replay ID`."),
    "exhausted": N_("The target kept failing. Check that it is reachable, then `bridge dlq replay ID`."),
}


@dataclass(slots=True)
class DispatchStats:
    claimed: int = 0
    done: int = 0
    retried: int = 0
    dead: int = 0
    resolved: int = 0


class Dispatcher:
    def __init__(
        self,
        store: Store,
        sinks: Mapping[str, Sink],
        settings: DispatchSettings,
        *,
        clock: Clock | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        rng: random.Random | None = None,
        on_dead: Callable[[ob.OutboxOp, str], Awaitable[None]] | None = None,
    ) -> None:
        self.store = store
        self.sinks = dict(sinks)
        self.settings = settings
        self.clock = clock or Clock()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._owner = ob.owner_token()
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._on_dead = on_dead
        self.stats = DispatchStats()
        self._problem: str | None = None  # why the dispatcher cannot deliver right now (readiness says so)
        self._last_release = float("-inf")
        self._followers: list[Callable[[], None]] = []  # ``delivering`` blocks waiting for a wake
        self._batch_over = asyncio.Event()  # set (and replaced) whenever a claimed batch is over

    def health(self) -> tuple[bool, str]:
        """(ok, reason) for the readiness probe: not ok while the store refuses what the dispatcher must record."""
        return (self._problem is None, self._problem or "")

    def _report(self, problem: str | None) -> None:
        if problem != self._problem:
            if problem is None:
                log.info("dispatch.recovered")
            self._problem = problem
        metrics.DISPATCHER_HEALTHY.set(0 if problem else 1)

    def add_sink(self, sink: Sink) -> None:
        self.sinks[sink.target] = sink

    def wake(self) -> None:
        """Look at the outbox now (a job just enqueued)."""
        self._wake.set()
        for follower in self._followers:
            follower()

    def next_batch(self) -> asyncio.Event:
        """An event set once the next claimed batch is over (its outcomes recorded, or the batch given up). Taken
        before looking at the outbox, it misses no batch that ends after the look."""
        return self._batch_over

    def _end_batch(self) -> None:
        self._batch_over.set()
        self._batch_over = asyncio.Event()

    async def release_abandoned(self) -> int:
        async with self.store.transaction() as tx:
            count = await ob.release_abandoned(tx, self.clock.time())
        if count:
            log.warning("outbox.released", count=count, reason="lease expired or owner process gone")
        return count

    async def _release_guarded(self) -> bool:
        """Take back ops of dead owners and expired leases: at start-up, then once per lease period."""
        try:
            await self.release_abandoned()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - reported through health(), retried on the next round
            log.exception("dispatch.release_failed")
            self._report(_("outbox recovery failed: {error}").format(error=f"{type(exc).__name__}: {exc}"))
            return False
        self._last_release = time.monotonic()
        if self._problem is not None and self._problem.startswith("outbox recovery failed"):
            self._report(None)
        return True

    async def run(self) -> None:
        """Deliver until ``stop()``; then let the current batch finish for ``drain_timeout`` seconds."""
        while not self._stopping.is_set():
            if time.monotonic() - self._last_release >= self.settings.lease_seconds:
                if not await self._release_guarded():
                    await self._pause(self.settings.idle_poll)
                    continue
            # Cleared before the look, not after: a job that commits and wakes while the look finds nothing must
            # not have its wake cleared into an idle_poll wait.
            self._wake.clear()
            handled = await self._drain_guarded()
            if handled == 0:
                waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(self._stopping.wait())]
                try:
                    await asyncio.wait(waiters, timeout=self.settings.idle_poll, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for waiter in waiters:
                        waiter.cancel()

    async def _drain_guarded(self) -> int:
        try:
            return await self.dispatch_once()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - reported through health(), retried on the next round
            log.exception("dispatch.failed")
            self._report(_("dispatch failed: {error}").format(error=f"{type(exc).__name__}: {exc}"))
            await self._pause(self.settings.idle_poll)
            return 0

    async def _pause(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            pass

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    @contextlib.asynccontextmanager
    async def delivering(self) -> AsyncIterator[DispatchStats]:
        """For a command that runs a job in this process: while the body runs, deliver whenever a job wakes the
        dispatcher (as the daemon's dispatcher does, so the writes go out while the job finishes its bookkeeping),
        then everything still ready. A delivery error surfaces at the end, as ``drain_all``'s would."""
        woken = asyncio.Event()
        done = False

        async def follow() -> None:
            while True:
                await woken.wait()
                woken.clear()
                if done:
                    return
                # (``done`` is asked again once the store is free: a job failing while its transaction held the
                # store must not see a new batch claimed after it)
                while not done and await self.dispatch_once(stopped=lambda: done):
                    pass

        self._followers.append(woken.set)
        task = asyncio.create_task(follow(), name="deliver-while-running")
        try:
            yield self.stats
        except BaseException:  # the body failed or was interrupted (Ctrl-C): the batch under way is finished and
            done = True        # recorded, the rest stays queued for the next run
            woken.set()
            await asyncio.gather(task, return_exceptions=True)
            raise
        finally:
            self._followers.remove(woken.set)
        done = True
        woken.set()
        await task
        await self.drain_all()

    async def drain_all(self, max_batches: int | None = None) -> DispatchStats:
        """Deliver every ready op now (CLI, tests, benchmarks); returns what happened."""
        batches = 0
        while await self.dispatch_once():
            batches += 1
            if max_batches is not None and batches >= max_batches:
                break
        return self.stats

    async def dispatch_once(self, *, stopped: Callable[[], bool] | None = None) -> int:
        """Claim one batch, deliver it, record the outcomes; returns the number of ops handled. ``stopped``: asked
        once the store is ours, just before claiming (True: claim nothing, return 0)."""
        if not await ob.any_ready(self.store, sorted(self.sinks), self.clock.time()):
            return 0  # an empty outbox costs one read, not a write transaction
        async with self.store.transaction() as tx:
            if stopped is not None and stopped():
                return 0
            ops = await ob.claim(
                tx,
                targets=sorted(self.sinks),
                limit=self.settings.batch_size,
                now=self.clock.time(),
                lease=self.settings.lease_seconds,
                owner=self._owner,
            )
        if not ops:
            return 0
        try:
            return await self._deliver_and_record(ops)
        finally:
            self._end_batch()

    async def _deliver_and_record(self, ops: Sequence[ob.OutboxOp]) -> int:
        self.stats.claimed += len(ops)
        outcomes = await self._deliver_all(ops)
        unfinished = sorted({op.id for op in ops} - {o.op.id for o in outcomes})
        try:
            async with self.store.transaction() as tx:
                if outcomes:
                    self.stats.resolved += await ob.complete(tx, outcomes, self._owner)
                if unfinished:
                    await ob.release(tx, unfinished, self._owner)
            self._report(None)
        except Exception as exc:  # noqa: BLE001 - one refused outcome must not undo the batch's others
            log.exception("dispatch.record_failed", ops=len(ops))
            outcomes = await self._record_one_by_one(outcomes, unfinished)
            self._report(_("outcomes not recorded: {error}").format(error=f"{type(exc).__name__}: {exc}"))
        self._count(outcomes)
        if self._on_dead is not None:
            for outcome in outcomes:
                if outcome.state == ob.DEAD:
                    await self._on_dead(outcome.op, outcome.error or "")
        return len(ops)

    async def _record_one_by_one(self, outcomes: Sequence[ob.Outcome], unfinished: Sequence[int]) -> list[ob.Outcome]:
        """The batch's transaction failed: record each outcome in its own; an op whose outcome the store still
        refuses is given back to pending (or, failing that, left to its lease) rather than held in flight."""
        recorded = []
        for outcome in outcomes:
            try:
                async with self.store.transaction() as tx:
                    self.stats.resolved += await ob.complete(tx, [outcome], self._owner)
                recorded.append(outcome)
            except Exception:  # noqa: BLE001
                log.exception("dispatch.outcome_refused", op_id=outcome.op.id)
                await self._give_back([outcome.op.id])
        if unfinished:
            await self._give_back(unfinished)
        return recorded

    async def _give_back(self, op_ids: Sequence[int]) -> None:
        try:
            async with self.store.transaction() as tx:
                await ob.release(tx, op_ids, self._owner)
        except Exception:  # noqa: BLE001 - the lease expires and the periodic release takes them back
            log.exception("dispatch.release_refused", op_ids=list(op_ids))

    async def _deliver_all(self, ops: Sequence[ob.OutboxOp]) -> list[ob.Outcome]:
        by_sink: dict[str, list[ob.OutboxOp]] = defaultdict(list)
        for op in ops:
            by_sink[op.target].append(op)
        outcomes: list[ob.Outcome] = []
        semaphore = asyncio.Semaphore(self.settings.concurrency)
        tasks: list[asyncio.Task[None]] = []
        for target, target_ops in by_sink.items():
            sink = self.sinks[target]
            if isinstance(sink, BatchSink):
                for start in range(0, len(target_ops), max(1, sink.max_batch)):
                    chunk = target_ops[start : start + sink.max_batch]
                    tasks.append(asyncio.create_task(self._deliver_batch(sink, chunk, semaphore, outcomes)))
            else:
                by_key: dict[tuple[str, str], list[ob.OutboxOp]] = defaultdict(list)
                for op in target_ops:
                    by_key[(op.entity, op.key)].append(op)
                for key_ops in by_key.values():
                    tasks.append(asyncio.create_task(self._deliver_in_order(sink, key_ops, semaphore, outcomes)))
        gathered = asyncio.gather(*tasks)
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            waiting: list[asyncio.Future[Any]] = [gathered, stopping]  # two result types: wait() takes either
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            await self._drain_on_cancel(gathered)
            raise
        finally:
            stopping.cancel()
        if not gathered.done():  # stop() during the batch: drain it, within the drain timeout
            await self._drain_on_cancel(gathered)
        return outcomes

    async def _drain_on_cancel(self, gathered: asyncio.Future[Any]) -> None:
        """Shutdown: give in-flight deliveries ``drain_timeout`` seconds, then cancel the rest (they stay pending)."""
        try:
            await asyncio.wait_for(asyncio.shield(gathered), timeout=self.settings.drain_timeout)
        except (TimeoutError, asyncio.CancelledError):
            gathered.cancel()
            await asyncio.gather(gathered, return_exceptions=True)

    async def _deliver_in_order(
        self, sink: Sink, ops: list[ob.OutboxOp], semaphore: asyncio.Semaphore, outcomes: list[ob.Outcome]
    ) -> None:
        async with semaphore:
            for op in ops:
                outcome = await self._deliver_one(sink, op)
                outcomes.append(outcome)
                if outcome.state != ob.DONE:
                    break  # later ops of this key stay unfinished and are released untouched: order is kept

    async def _already_applied(self, sink: Sink, op: ob.OutboxOp, *, retry: bool = False) -> bool:
        """For an op a dead dispatcher held, or an event op sent before without a known outcome (``retry``: a
        timeout or a reset after the write): did it reach the target already? Unknown counts as no."""
        if not (op.recovered or (retry and not op.coalescing)) or not isinstance(sink, CheckingSink):
            return False
        try:
            applied = await sink.already_applied(op)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the check is an optimisation of at-least-once, never a failure
            log.warning("dispatch.recovered_check_failed", op_id=op.id, target=sink.target, error=str(exc))
            applied = False
        if op.recovered:
            metrics.RECOVERED_CHECKS.labels(sink.target, "applied" if applied else "resend").inc()
        elif applied:
            log.info("dispatch.retry_already_applied", op_id=op.id, target=sink.target, key=op.key)
        return applied

    async def _deliver_one(self, sink: Sink, op: ob.OutboxOp) -> ob.Outcome:
        if await self._already_applied(sink, op, retry=op.attempts > 0):
            return ob.Outcome(op, ob.DONE)
        started = time.perf_counter()
        retrying = short_retrying(
            self.settings.retry,
            self._sleep,
            before_sleep=lambda state: metrics.DELIVERY_RETRIES.labels(sink.target).inc(),
        )
        try:
            async for attempt in retrying:
                with attempt:
                    # an event op whose last try may have arrived (lost answer) is checked before it is sent again
                    again = attempt.retry_state.attempt_number > 1
                    if not (again and await self._already_applied(sink, op, retry=True)):
                        await sink.deliver(op)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - classified below, never swallowed silently
            return self._failure(op, exc)
        finally:
            metrics.DELIVERY_DURATION.labels(sink.target).observe(time.perf_counter() - started)
        return ob.Outcome(op, ob.DONE)

    async def _deliver_batch(
        self, sink: BatchSink, ops: list[ob.OutboxOp], semaphore: asyncio.Semaphore, outcomes: list[ob.Outcome]
    ) -> None:
        async with semaphore:
            applied = {op.id for op in ops if await self._already_applied(sink, op)}
            outcomes.extend(ob.Outcome(op, ob.DONE) for op in ops if op.id in applied)
            ops = [op for op in ops if op.id not in applied]
            if not ops:
                return
            retrying = short_retrying(self.settings.retry, self._sleep)
            try:
                async for attempt in retrying:
                    with attempt:
                        results = await sink.deliver_batch(ops)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001
                outcomes.extend(self._failure(op, exc) for op in ops)
                return
            for op, result in zip(ops, results, strict=True):
                outcomes.append(ob.Outcome(op, ob.DONE) if result is None else self._failure(op, result))

    def _failure(self, op: ob.OutboxOp, exc: BaseException) -> ob.Outcome:
        # Stored in English (``said`` keeps the source; bridge dlq shows it in the reader's language); the log line's
        # human text is in the daemon's language.
        message = f"{type(exc).__name__}: {source_of(exc)}"
        shown = f"{type(exc).__name__}: {exc}"
        hint = exc.hint if isinstance(exc, DeliveryError) else None
        attempts = op.attempts + 1
        if not is_retryable(exc):
            log.warning("delivery.dead", op_id=op.id, target=op.target, key=op.key, error=shown)
            return ob.Outcome(op, ob.DEAD, message, _stored(hint or said(DEFAULT_HINTS["permanent"])))
        if attempts >= self.settings.retry.max_attempts:
            log.warning("delivery.exhausted", op_id=op.id, target=op.target, key=op.key, attempts=attempts,
                        error=shown)
            return ob.Outcome(op, ob.DEAD, message, _stored(hint or said(DEFAULT_HINTS["exhausted"])))
        retry_after = exc.retry_after if isinstance(exc, RetryableError) else None
        delay = long_backoff(self.settings.retry, attempts, retry_after, self._rng)
        log.info("delivery.retry_later", op_id=op.id, target=op.target, key=op.key, attempts=attempts,
                 delay=round(delay, 1), error=shown)
        return ob.Outcome(op, ob.PENDING, message, _stored(hint), self.clock.time() + delay)

    def _count(self, outcomes: Sequence[ob.Outcome]) -> None:
        """The outcomes into the stats and the metric: one labelled increment per target and outcome, not per op."""
        counted: Counter[tuple[str, str]] = Counter()
        for outcome in outcomes:
            label = {ob.DONE: "done", ob.PENDING: "retry", ob.DEAD: "dead"}[outcome.state]
            counted[(outcome.op.target, label)] += 1
            if outcome.state == ob.DONE:
                self.stats.done += 1
            elif outcome.state == ob.PENDING:
                self.stats.retried += 1
            else:
                self.stats.dead += 1
        for (target, label), count in counted.items():
            metrics.DELIVERIES.labels(target, label).inc(count)


def _stored(hint: str | None) -> str | None:
    """A hint as the outbox stores it: the English source of a ``said`` sentence (bridge/i18n/stored.py)."""
    return None if hint is None else str(source_of(hint))
