"""Job ``stock``: the newest complete SMILE 在庫 file → CS-Cart product amounts, only for what changed.

One run:
1. older complete stock files are superseded by the newest (archived unapplied: a stock file is a snapshot);
2. the newest is read whole (a file with any problem goes to ``error/`` with ``NAME.error.txt``; nothing applied);
   without a new file the last applied one is read again from the archive, so CS-Cart orders placed since then
   still come off the amounts;
3. per 商品コード: available = the rules' ``available_stock`` (warehouses, safety stock, unconfirmed CS-Cart orders
   from the orders mirror), never below 0;
4. diff against the ledger (``cscart/product_stock``, keyed by 商品コード) → ``product.stock`` ops, enqueued in one
   transaction with the job's cursors;
5. the mass-change guard (rules) may hold a new file: nothing is applied, the file stays in the inbox, an alert is
   raised once per file (log, metric, event, audit) and ``bridge sync stock --force`` applies it on purpose.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import structlog

from bridge import metrics
from bridge.analytics.hooks import AnalyticsFeed
from bridge.cscart.client import CSCartClient
from bridge.domain.catalog import StockLevel
from bridge.domain.time import Clock
from bridge.events import EventPublisher
from bridge.i18n import Text, _, joined
from bridge.rules.stock import (
    GuardVerdict,
    StockRules,
    available_by_warehouse,
    available_stock,
    mass_change_guard,
)
from bridge.smile.delta import Delta, LineMemo
from bridge.smile.inbox import Inbox, InboxFile, Processed
from bridge.smile.reader import ReadResult
from bridge.smile.settings import SmileSettings
from bridge.store import Store, audit, cursors, ledger, smile_files
from bridge.store import orders as mirrored_orders
from bridge.store import outbox as ob
from bridge.store.db import Connection
from bridge.sync import plan
from bridge.sync.base import JobResult, RunOptions
from bridge.sync.bulk import paused_gc
from bridge.sync.catalog import index as catalog_index
from bridge.sync.jobkit import finish

log = structlog.get_logger("bridge.sync.stock")

JOB = "stock"
FILE_TYPE = "stock"
TARGET, ENTITY, OP = "cscart", "product_stock", "product.stock"
PREVIOUS_SKUS = "stock.previous_skus"  # cursor: SKU count of the last applied file (row-count guard)
HELD_FILE = "stock.held_file"  # cursor: the file the guard holds, so the alert fires once per file


class GuardHeld(Exception):
    """Raised inside the inbox's apply step: rolls the transaction back and leaves the file in the inbox."""

    def __init__(self, verdict: GuardVerdict, changed: int) -> None:
        super().__init__("; ".join(verdict.reasons))
        self.verdict = verdict
        self.changed = changed


@dataclass(slots=True)
class Computed:
    """The desired amounts of one stock file and how they compare with what CS-Cart was last given."""

    plan: plan.Plan
    index: catalog_index.CatalogIndex
    verdict: GuardVerdict
    skus: int


@dataclass(slots=True)
class PayloadMemo:
    """What the last run computed, with what it was computed from: the rows per 商品コード, the unconfirmed
    quantities, the code → product_id map and the rules. The next run, reading a file through the same ``LineMemo``
    (``generation`` is the read these belong to), recomputes only the codes whose rows or unconfirmed quantity
    changed; anything else different (rules, bindings, an unrelated read in between) makes it compute everything."""

    generation: int | None = None
    rules: StockRules | None = None
    product_ids: dict[str, int] | None = None
    unconfirmed: dict[str, Decimal] = field(default_factory=dict)
    levels: dict[str, list[StockLevel]] | None = None
    desired: dict[str, dict[str, Any]] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)
    quantities: dict[str, int] = field(default_factory=dict)
    computed: int = 0  # codes the last run computed (the rest were reused)
    digests: ledger.LedgerDigests | None = None  # the ledger's hashes of product_stock, kept up to date
    differing: set[str] | None = None  # desired codes whose hash is not the ledger's

    def continues(self, delta: Delta | None) -> bool:
        return delta is not None and delta.incremental and self.generation == delta.base


@dataclass(slots=True)
class _Source:
    path: Path
    fresh: bool  # a new inbox file (guarded, archived) rather than the last applied one read again
    item: InboxFile | None = None
    notes: list[Text] = field(default_factory=list)


class StockJob:
    name = JOB

    def __init__(self, *, cscart: CSCartClient, rules: Callable[[], StockRules], smile: SmileSettings,
                 data_dir: Path, store: Store, clock: Clock, events: EventPublisher,
                 wake_dispatcher: Callable[[], None], analytics: AnalyticsFeed) -> None:
        self.cscart, self.rules, self.events, self.analytics = cscart, rules, events, analytics
        self.store, self.clock, self.wake_dispatcher = store, clock, wake_dispatcher
        self.smile = smile
        self.dirs = smile.dirs(data_dir)
        # What the last run read and computed, so that the next run's cost follows what changed (a fresh process,
        # e.g. `bridge sync stock`, starts empty and reads and computes everything).
        self.lines = LineMemo(FILE_TYPE)
        # One inbox per job instance: it remembers file sizes across polls to tell when a file is complete.
        self.inbox = Inbox(self.smile, self.dirs, store, clock=time.time, reader=self.lines.read)
        self.payloads = PayloadMemo()
        self.bound = catalog_index.BoundCodes()

    async def run(self, options: RunOptions) -> JobResult:
        started = time.perf_counter()
        result = JobResult()
        progress = options.progress
        progress.start(_("stock: reading the SMILE file"), 4)
        source = await self._source(options, result)
        if source is None:
            return self._finish(result, options, started)
        result.notes.extend(source.notes)
        if source.fresh and not options.dry_run:
            assert source.item is not None
            await self._apply_inbox_file(source.item, options, result)
        else:
            read = await asyncio.to_thread(self.lines.read, source.path, FILE_TYPE, self.smile)
            if not read.ok:
                result.failed += 1
                result.notes.append(read.report())
                return self._finish(result, options, started)
            await self._apply(read, options, result, guarded=source.fresh)
        return self._finish(result, options, started)

    # ---- which file ------------------------------------------------------------------------------------------

    async def _source(self, options: RunOptions, result: JobResult) -> _Source | None:
        if not options.dry_run:
            for done in await self.inbox.refuse_long_names(FILE_TYPE):
                await self._report_quarantine(done, result)
        ready = self.inbox.complete_files(FILE_TYPE)
        if ready:
            newest, older = ready[-1], ready[:-1]
            notes: list[Text] = []
            if older and not options.dry_run:
                for item in older:
                    done = await self.inbox.process_file(item, _superseded, outcome="superseded")
                    await self._report_quarantine(done, result)
                notes.append(_("{count} older stock file(s) superseded by {newest}").format(count=len(older),
                                                                                     newest=newest.path.name))
            elif older:
                notes.append(_("{count} older stock file(s) would be superseded by {newest}").format(
                    count=len(older), newest=newest.path.name))
            return _Source(newest.path, True, newest, notes)
        last = await self._last_applied()
        if last is None:
            result.notes.append(_("no SMILE stock file yet (looking for {pattern} in {inbox})").format(
                pattern=self.smile.layout(FILE_TYPE).glob, inbox=self.dirs.inbox))
            return None
        return _Source(last, False)

    async def _last_applied(self) -> Path | None:
        return await smile_files.last_applied(self.store, FILE_TYPE)

    async def _apply_inbox_file(self, item: InboxFile, options: RunOptions, result: JobResult) -> None:
        async def apply(read: ReadResult) -> None:
            await self._apply(read, options, result, guarded=True)

        try:
            done = await self.inbox.process_file(item, apply)
        except GuardHeld as held:
            await self._held(item, held, result)
            return
        await self._report_quarantine(done, result)

    async def _report_quarantine(self, done: Processed, result: JobResult) -> None:
        if done.outcome in ("rejected", "too_large", "bad_name"):
            result.failed += 1
            result.refused_files += 1
            where = done.moved_to.with_name(done.moved_to.name + ".error.txt") if done.moved_to else None
            result.notes.append(_("{name}: refused ({count} problem(s)); nothing applied; see {report}").format(
                name=done.name, count=done.problems, report=where))
            log.error("stock.file_refused", file=done.name, problems=done.problems, report=str(where))
            await self.events.publish(
                "file_quarantined", {"file": done.name, "layout": FILE_TYPE,
                                     "reason": f"{done.problems} problem(s), see {where}"})
        elif done.outcome == "duplicate":
            result.notes.append(_("{name}: same content as a file already applied; archived as a duplicate").format(
                name=done.name))

    # ---- compute and apply -------------------------------------------------------------------------------------

    async def _apply(self, read: ReadResult, options: RunOptions, result: JobResult, *, guarded: bool) -> None:
        rules = self.rules()
        delta = self.lines.last if self.lines.last is not None and self.lines.last.path == read.path else None
        with paused_gc():
            levels = _levels_after(self.payloads, delta) or _by_code(read.records)
        result.read = len(levels)
        options.progress.advance(1)
        index = await catalog_index.resolve(self.store, self.cscart, levels.keys(), listing=not options.dry_run,
                                            recheck_missing_after=catalog_index.RECHECK_MISSING_AFTER,
                                            bound=self.bound)
        result.notes.extend(index.notes())
        result.failed += len(index.ambiguous)
        options.progress.advance(1)
        async with self.store.transaction() as tx:
            with paused_gc():
                computed = await self._compute(tx, levels, index, rules, guarded=guarded, memo=self.payloads,
                                               delta=delta)
            result.changed = len(computed.plan.changes)
            result.plan = computed.plan.describe()
            verdict = computed.verdict
            if verdict.tripped and options.force:
                result.notes.append(_("mass-change guard overridden with --force: {reasons}").format(
                    reasons=joined(verdict.reasons, "; ")))
            elif verdict.tripped:
                result.notes.append(_("mass-change guard: {reasons}").format(reasons=joined(verdict.reasons, "; ")))
                if not options.dry_run:
                    raise GuardHeld(verdict, len(computed.plan.changes))
            if options.dry_run:
                options.progress.advance(1)
                return
            result.enqueued = await plan.enqueue(tx, computed.plan, self.clock.time())
            if guarded:
                await cursors.set_(tx, PREVIOUS_SKUS, str(computed.skus))
                await cursors.set_(tx, HELD_FILE, "")
                await audit.write(tx, "bridge", "stock.applied", read.path.name,
                                  {"skus": computed.skus, "changed": result.changed, "forced": options.force})
        metrics.STOCK_GUARD_HOLDING.set(0)
        await self.analytics.stock_read(read.records)
        options.progress.advance(1)
        if result.enqueued:
            self.wake_dispatcher()

    async def _compute(self, tx: Connection, levels: dict[str, list[StockLevel]],
                       index: catalog_index.CatalogIndex, rules: StockRules, *, guarded: bool,
                       memo: PayloadMemo | None = None, delta: Delta | None = None) -> Computed:
        """The plan for ``levels``. With ``memo`` and a ``delta`` that continues the read the memo was computed
        for, codes the delta does not touch reuse their remembered payload when nothing else they depend on
        changed; the result is the same as computing every code (tested)."""
        unconfirmed = await mirrored_orders.unconfirmed_quantities(tx)
        mapped = rules.warehouses.mode == "map"
        zero = Decimal(0)
        value_hash = ledger.value_hash
        product_ids = index.product_ids
        incremental = (memo is not None and memo.continues(delta) and memo.rules == rules
                       and memo.product_ids is product_ids and memo.levels is not None)
        todo: set[str] = set()
        if incremental:
            assert memo is not None and delta is not None
            # Only the codes whose rows changed in the file, or whose unconfirmed quantity changed.
            todo = {level.product_code for level in delta.changed}
            todo.update(level.product_code for level in delta.removed)
            todo.update(code for code in memo.unconfirmed.keys() | unconfirmed.keys()
                        if memo.unconfirmed.get(code, zero) != unconfirmed.get(code, zero))
            desired, hashes, quantities = dict(memo.desired), dict(memo.hashes), dict(memo.quantities)
            work = [(code, levels[code]) for code in todo if code in levels]
            for code in todo:
                if code not in levels or code not in product_ids:
                    desired.pop(code, None)
                    hashes.pop(code, None)
                    quantities.pop(code, None)
        else:
            desired, hashes, quantities = {}, {}, {}
            work = list(levels.items())
        for code, rows in work:
            product_id = product_ids.get(code)
            if product_id is None:
                continue
            held = unconfirmed.get(code, zero)
            payload: dict[str, Any] = {"product_id": product_id}
            if mapped:
                per = available_by_warehouse(rows, held, rules, code)
                payload["amount"] = sum(per.values())
                payload["warehouses"] = {str(k): v for k, v in sorted(per.items())}
            else:
                payload["amount"] = available_stock(rows, held, rules, code)
            desired[code] = payload
            hashes[code] = value_hash(payload)
            quantities[code] = payload["amount"]
        if memo is None:
            computed_plan = await plan.diff(tx, TARGET, ENTITY, OP, desired, hashes=hashes)
        else:
            if memo.digests is None:
                memo.digests = ledger.LedgerDigests(TARGET, ENTITY)
            written, ledger_changed = await memo.digests.current(tx)
            if incremental and ledger_changed is not None and memo.differing is not None:
                differing = set(memo.differing)
                for code in itertools.chain(todo, ledger_changed):
                    wanted = hashes.get(code)
                    if wanted is not None and written.get(code) != wanted:
                        differing.add(code)
                    else:
                        differing.discard(code)
            else:
                differing = {code for code, _ in hashes.items() - written.items()}
            computed_plan = await plan.diff(tx, TARGET, ENTITY, OP, desired, hashes=hashes, written=written,
                                            differing=differing)
            memo.generation = delta.generation if delta is not None else None
            memo.rules, memo.product_ids, memo.unconfirmed, memo.levels = rules, product_ids, unconfirmed, levels
            memo.desired, memo.hashes, memo.quantities = desired, hashes, quantities
            memo.computed, memo.differing = len(work), differing
        await _drop_in_flight(tx, computed_plan)
        verdict = GuardVerdict(False, total=len(quantities))
        if guarded:
            previous_skus = await cursors.get(tx, PREVIOUS_SKUS)
            previous = await _previous_amounts(tx, quantities, rules)
            verdict = mass_change_guard(int(previous_skus) if previous_skus else None, quantities, rules,
                                        previous=previous)
        return Computed(computed_plan, index, verdict, len(levels))

    async def _held(self, item: InboxFile, held: GuardHeld, result: JobResult) -> None:
        result.enqueued = 0
        verdict = held.verdict
        metrics.STOCK_GUARD_HOLDING.set(1)
        async with self.store.transaction() as tx:
            already = await cursors.get(tx, HELD_FILE) == item.path.name
            if not already:
                await cursors.set_(tx, HELD_FILE, item.path.name)
                await audit.write(tx, "bridge", "stock.guard_tripped", item.path.name,
                                  {"reasons": list(verdict.reasons), "changed": held.changed, "total": verdict.total})
        result.notes.append(_("{name} is held in the inbox; nothing was applied. Check the file, then run "
                              "`bridge sync stock --force` to apply it on purpose").format(name=item.path.name))
        if already:
            return
        metrics.STOCK_GUARD_TRIPPED.inc()
        rules = self.rules()
        log.warning("stock.guard_tripped", file=item.path.name, reasons=list(verdict.reasons),
                    zero=verdict.zero_count, total=verdict.total, changed=held.changed)
        await self.events.publish("stock_guard_tripped", {
            "file": item.path.name, "changed": held.changed, "total": verdict.total,
            "threshold": {"zero_share": str(rules.guard.zero_share),
                          "min_row_ratio": str(rules.guard.min_row_ratio)},
        })

    def _finish(self, result: JobResult, options: RunOptions, started: float) -> JobResult:
        return finish(JOB, result, options, started)


async def _superseded(read: ReadResult) -> None:
    """An older snapshot: validated and archived, not applied (the newest file wins)."""
    return


def _levels_after(memo: PayloadMemo, delta: Delta | None) -> dict[str, list[StockLevel]] | None:
    """The rows per code of the file ``delta`` read, from the memo's rows of the file before it (None: no such)."""
    if not memo.continues(delta) or memo.levels is None:
        return None
    assert delta is not None
    levels = dict(memo.levels)
    fresh: dict[str, list[StockLevel]] = {}

    def rows_of(code: str) -> list[StockLevel]:  # the code's rows, copied once before the first change
        rows = fresh.get(code)
        if rows is None:
            rows = fresh[code] = list(levels.get(code, ()))
        return rows

    for level in delta.removed:
        rows_of(level.product_code).remove(level)
    for level in delta.changed:
        rows_of(level.product_code).append(level)
    for code, rows in fresh.items():
        if rows:
            levels[code] = rows
        else:
            levels.pop(code, None)
    return levels


def _by_code(records: list[StockLevel]) -> dict[str, list[StockLevel]]:
    grouped: dict[str, list[StockLevel]] = defaultdict(list)
    for level in records:
        grouped[level.product_code].append(level)
    return dict(grouped)


async def _drop_in_flight(tx: Connection, computed: plan.Plan) -> None:
    """A change whose exact value is already queued or being delivered is not a change (a restart re-reading the
    file after a crash must not write those SKUs twice)."""
    if not computed.changes:
        return
    queued = await ob.queued_hashes(tx, computed.target, computed.entity, computed.op)
    if not queued:
        return
    kept = [c for c in computed.changes if ledger.value_hash(c.new) not in queued.get(c.key, ())]
    computed.unchanged += len(computed.changes) - len(kept)
    computed.changes = kept


async def _previous_amounts(tx: Connection, quantities: dict[str, int], rules: StockRules) -> dict[str, int]:
    """Last written amounts, loaded only when enough SKUs are at 0 for the zero-share guard to matter."""
    zeros = sum(1 for amount in quantities.values() if amount <= 0)
    if not quantities or Decimal(zeros) <= rules.guard.zero_share * len(quantities):
        return {}
    return {key: int(value.get("amount", 0)) for key, value in (await ledger.values(tx, TARGET, ENTITY)).items()}
