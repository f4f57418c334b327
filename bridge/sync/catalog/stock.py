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
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import structlog

from bridge import metrics
from bridge.analytics import hooks as analytics_hooks
from bridge.domain.catalog import StockLevel
from bridge.rules.stock import (
    GuardVerdict,
    StockRules,
    available_by_warehouse,
    available_stock,
    mass_change_guard,
)
from bridge.smile.inbox import Inbox, InboxFile, Processed
from bridge.smile.reader import ReadResult, read_file
from bridge.smile.settings import SmileSettings
from bridge.store import audit, cursors, ledger, smile_files
from bridge.store import orders as mirrored_orders
from bridge.store import outbox as ob
from bridge.store.db import Connection
from bridge.sync import plan
from bridge.sync.base import JobContext, JobResult, RunOptions, register
from bridge.sync.catalog import index as catalog_index

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
class _Source:
    path: Path
    fresh: bool  # a new inbox file (guarded, archived) rather than the last applied one read again
    item: InboxFile | None = None
    notes: list[str] = field(default_factory=list)


@register(JOB, "SMILE 在庫 → CS-Cart amounts (only changed SKUs), with the mass-change guard")
class StockJob:
    name = JOB

    def __init__(self, context: JobContext) -> None:
        self.context = context
        self.smile: SmileSettings = context.settings.smile
        self.dirs = self.smile.dirs(context.settings.data_dir)
        # One inbox per job instance: it remembers file sizes across polls to tell when a file is complete.
        self.inbox = Inbox(self.smile, self.dirs, context.store, clock=time.time)

    async def run(self, options: RunOptions) -> JobResult:
        started = time.perf_counter()
        result = JobResult()
        progress = options.progress
        progress.start("stock: reading the SMILE file", 4)
        source = await self._source(options, result)
        if source is None:
            return self._finish(result, options, started)
        result.notes.extend(source.notes)
        if source.fresh and not options.dry_run:
            assert source.item is not None
            await self._apply_inbox_file(source.item, options, result)
        else:
            read = await asyncio.to_thread(read_file, source.path, FILE_TYPE, self.smile)
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
            notes = []
            if older and not options.dry_run:
                for item in older:
                    done = await self.inbox.process_file(item, _superseded, outcome="superseded")
                    await self._report_quarantine(done, result)
                notes.append(f"{len(older)} older stock file(s) superseded by {newest.path.name}")
            elif older:
                notes.append(f"{len(older)} older stock file(s) would be superseded by {newest.path.name}")
            return _Source(newest.path, True, newest, notes)
        last = await self._last_applied()
        if last is None:
            result.notes.append(f"no SMILE stock file yet (looking for {self.smile.layout(FILE_TYPE).glob} "
                                f"in {self.dirs.inbox})")
            return None
        return _Source(last, False)

    async def _last_applied(self) -> Path | None:
        return await smile_files.last_applied(self.context.store, FILE_TYPE)

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
            result.notes.append(f"{done.name}: refused ({done.problems} problem(s)); nothing applied; see {where}")
            log.error("stock.file_refused", file=done.name, problems=done.problems, report=str(where))
            await self.context.services.events.publish(
                "file_quarantined", {"file": done.name, "layout": FILE_TYPE,
                                     "reason": f"{done.problems} problem(s), see {where}"})
        elif done.outcome == "duplicate":
            result.notes.append(f"{done.name}: same content as a file already applied; archived as a duplicate")

    # ---- compute and apply -------------------------------------------------------------------------------------

    async def _apply(self, read: ReadResult, options: RunOptions, result: JobResult, *, guarded: bool) -> None:
        ctx = self.context
        rules = ctx.services.stock
        levels = _by_code(read.records)
        result.read = len(levels)
        options.progress.advance(1)
        client = ctx.services.require_cscart()
        index = await catalog_index.resolve(ctx.store, client, levels.keys(), listing=not options.dry_run,
                                            recheck_missing_after=catalog_index.RECHECK_MISSING_AFTER)
        result.notes.extend(index.notes())
        result.failed += len(index.ambiguous)
        options.progress.advance(1)
        async with ctx.store.transaction() as tx:
            computed = await self._compute(tx, levels, index, rules, guarded=guarded)
            result.changed = len(computed.plan.changes)
            result.plan = computed.plan.describe()
            verdict = computed.verdict
            if verdict.tripped and options.force:
                result.notes.append("mass-change guard overridden with --force: " + "; ".join(verdict.reasons))
            elif verdict.tripped:
                result.notes.append("mass-change guard: " + "; ".join(verdict.reasons))
                if not options.dry_run:
                    raise GuardHeld(verdict, len(computed.plan.changes))
            if options.dry_run:
                options.progress.advance(1)
                return
            result.enqueued = await plan.enqueue(tx, computed.plan, ctx.clock.time())
            if guarded:
                await cursors.set_(tx, PREVIOUS_SKUS, str(computed.skus))
                await cursors.set_(tx, HELD_FILE, "")
                await audit.write(tx, "bridge", "stock.applied", read.path.name,
                                  {"skus": computed.skus, "changed": result.changed, "forced": options.force})
        metrics.STOCK_GUARD_HOLDING.set(0)
        await analytics_hooks.stock_read(ctx, read.records)
        options.progress.advance(1)
        if result.enqueued:
            ctx.wake_dispatcher()

    async def _compute(self, tx: Connection, levels: dict[str, list[StockLevel]],
                       index: catalog_index.CatalogIndex, rules: StockRules, *, guarded: bool) -> Computed:
        unconfirmed = await mirrored_orders.unconfirmed_quantities(tx)
        desired: dict[str, dict[str, Any]] = {}
        quantities: dict[str, int] = {}
        mapped = rules.warehouses.mode == "map"
        zero = Decimal(0)
        for code, rows in levels.items():
            product_id = index.product_ids.get(code)
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
            quantities[code] = payload["amount"]
        computed_plan = await plan.diff(tx, TARGET, ENTITY, OP, desired)
        await _drop_in_flight(tx, computed_plan)
        verdict = GuardVerdict(False, total=len(quantities))
        if guarded:
            previous_skus = await cursors.get(tx, PREVIOUS_SKUS)
            previous = await _previous_amounts(tx, quantities, rules)
            verdict = mass_change_guard(int(previous_skus) if previous_skus else None, quantities, rules,
                                        previous=previous)
        return Computed(computed_plan, index, verdict, len(levels))

    async def _held(self, item: InboxFile, held: GuardHeld, result: JobResult) -> None:
        ctx = self.context
        result.enqueued = 0
        verdict = held.verdict
        metrics.STOCK_GUARD_HOLDING.set(1)
        async with ctx.store.transaction() as tx:
            already = await cursors.get(tx, HELD_FILE) == item.path.name
            if not already:
                await cursors.set_(tx, HELD_FILE, item.path.name)
                await audit.write(tx, "bridge", "stock.guard_tripped", item.path.name,
                                  {"reasons": list(verdict.reasons), "changed": held.changed, "total": verdict.total})
        result.notes.append(f"{item.path.name} is held in the inbox; nothing was applied. Check the file, then run "
                            "`bridge sync stock --force` to apply it on purpose")
        if already:
            return
        metrics.STOCK_GUARD_TRIPPED.inc()
        rules = ctx.services.stock
        log.warning("stock.guard_tripped", file=item.path.name, reasons=list(verdict.reasons),
                    zero=verdict.zero_count, total=verdict.total, changed=held.changed)
        await ctx.services.events.publish("stock_guard_tripped", {
            "file": item.path.name, "changed": held.changed, "total": verdict.total,
            "threshold": {"zero_share": str(rules.guard.zero_share),
                          "min_row_ratio": str(rules.guard.min_row_ratio)},
        })

    def _finish(self, result: JobResult, options: RunOptions, started: float) -> JobResult:
        if not options.dry_run:
            for stage, count in (("read", result.read), ("changed", result.changed), ("written", result.enqueued),
                                 ("failed", result.failed)):
                metrics.JOB_RECORDS.labels(sync_job=JOB, stage=stage).inc(count)
        log.info("stock.run", dry_run=options.dry_run, read=result.read, changed=result.changed,
                 written=result.enqueued, failed=result.failed, seconds=round(time.perf_counter() - started, 3))
        return result


async def _superseded(read: ReadResult) -> None:
    """An older snapshot: validated and archived, not applied (the newest file wins)."""
    return


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
