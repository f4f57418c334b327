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
import functools
import itertools
import operator
import time
import uuid
from array import array
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, overload

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
from bridge.smile.delta import Delta, LineMemo, file_bytes, fingerprint_of, read_lines
from bridge.smile.inbox import Inbox, InboxFile, Processed
from bridge.smile.layout import FileLayout
from bridge.smile.reader import ReadResult, iter_records
from bridge.smile.settings import SmileSettings
from bridge.store import Store, audit, cursors, ledger, smile_files
from bridge.store import orders as mirrored_orders
from bridge.store import outbox as ob
from bridge.store.db import Connection
from bridge.sync import plan
from bridge.sync.base import JobResult, RunOptions
from bridge.sync.bulk import paused_gc
from bridge.sync.catalog import index as catalog_index
from bridge.sync.catalog import stock_memo
from bridge.sync.jobkit import finish

log = structlog.get_logger("bridge.sync.stock")

JOB = "stock"
FILE_TYPE = "stock"
TARGET, ENTITY, OP = "cscart", "product_stock", "product.stock"
STREAM_CHUNK = 20_000  # codes parsed, computed and enqueued at a time by a run that reads a whole file
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
    # what the memo on disk keeps: per bound code the value hash and amount, the unconfirmed quantities used, and
    # every code of the file
    hashes: dict[str, str] = field(default_factory=dict)
    quantities: dict[str, int] = field(default_factory=dict)
    unconfirmed: dict[str, Decimal] = field(default_factory=dict)
    codes: set[str] = field(default_factory=set)
    unbound: list[str] | None = None  # the file's codes without a product id (None: the caller finds them)
    unwritten: set[str] | None = None  # codes of ``hashes`` the ledger does not hold (None: not known)


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
    # A whole read is streamed (False: kept in memory as ``LineMemo``, the path a file whose lines and rows are not
    # one to one takes anyway; tests set it to check that path against the others).
    stream_whole_files = True

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
        self.inbox = Inbox(self.smile, self.dirs, store, clock=time.time, reader=self._read)
        self.payloads = PayloadMemo()
        self.bound = catalog_index.BoundCodes()
        # The memo on disk, for a run without that memory (a new process): see ``stock_memo``.
        self.memo_path = stock_memo.path_for(store.path)
        self.memo: stock_memo.StockMemo | None = None
        self._base: stock_memo.StockMemo | None = None  # the memo this run reads against (None: it may not)
        self._lean: stock_memo.LeanRead | None = None  # the last file read against it
        # what the ledger wrote between this job's runs against the memo (a long-lived job's later runs compare
        # only those keys with the memo's hashes)
        self.ledger_changes = ledger.LedgerChanges(TARGET, ENTITY)
        self.last_read: tuple[str, int] = ("", 0)  # how the last file was read (memo, memory, full), rows parsed
        self._stream = False  # this run reads a whole file without keeping its records (``stock_memo.scan``)
        # the line memo's read whose file the analytics store was last fed, and that snapshot's mark
        self._fed: tuple[int, str] | None = None

    async def run(self, options: RunOptions) -> JobResult:
        started = time.perf_counter()
        result = JobResult()
        progress = options.progress
        progress.start(_("stock: reading the SMILE file"), 4)
        self.last_read = ("", 0)
        if options.full:  # read and compute everything, as a new job without a memo would
            self.lines, self.payloads, self.bound = LineMemo(FILE_TYPE), PayloadMemo(), catalog_index.BoundCodes()
        self._base = await self._usable_memo(options)
        # Nothing to read against (a new job without a usable memo, --full): the file is validated whole without
        # keeping its records, then parsed, computed and enqueued a chunk of codes at a time (``_apply_streamed``).
        self._stream = (self.stream_whole_files and self._base is None and self.lines.last is None
                        and not options.dry_run)
        source = await self._source(options, result)
        if source is None:
            return self._finish(result, options, started)
        result.notes.extend(source.notes)
        if source.fresh and not options.dry_run:
            assert source.item is not None
            await self._apply_inbox_file(source.item, options, result)
        else:
            read = await asyncio.to_thread(self._read, source.path, FILE_TYPE, self.smile,
                                           self.smile.layout(FILE_TYPE))
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
        if isinstance(read, stock_memo.StreamedRead):
            await self._apply_streamed(read, options, result, guarded=guarded)
            return
        if self._lean is not None and self._lean.path == read.path and isinstance(read, stock_memo.PartialRead):
            try:  # (the read against the memo is handed over, not kept here: the old memo goes before the new is saved)
                with paused_gc():  # no gen-2 passes over the memo's 100,000s of live objects mid-cycle
                    await self._apply_lean(read, options, result, guarded=guarded)
                return
            except _LeanFailed as failed:  # rolled back; nothing was applied: read and compute everything
                log.warning("stock.memo_unusable", reason=str(failed))
                self._drop_memo()
                read = await asyncio.to_thread(self.lines.read, read.path, FILE_TYPE, self.smile)
                if not read.ok:
                    raise RuntimeError(read.report()) from failed
        self._lean = None
        rules = self.rules()
        delta = self.lines.last if self.lines.last is not None and self.lines.last.path == read.path else None
        with paused_gc():
            levels = _levels_after(self.payloads, delta) or _by_code(read.records)
        result.read = len(levels)
        options.progress.advance(1)
        index = await catalog_index.resolve(self.store, self.cscart, levels.keys(), listing=not options.dry_run,
                                            recheck_missing_after=catalog_index.RECHECK_MISSING_AFTER,
                                            bound=self.bound)
        committed = await self._plan_and_commit(
            index, lambda tx: self._compute(tx, levels, index, rules, guarded=guarded, memo=self.payloads,
                                            delta=delta), read, options, result, guarded=guarded)
        if committed is None:
            return
        computed, bindings = committed
        mark, last = uuid.uuid4().hex, self._fed
        if delta is not None and delta.incremental and last is not None and delta.base == last[0]:
            fed = await self.analytics.stock_changed(delta.changed, _gone(delta), whole=read.records,
                                                     expect=last[1], mark=mark)  # the read before was fed
        else:
            fed = await self.analytics.stock_read(read.records, mark=mark)
        self._fed = (delta.generation, mark) if fed and delta is not None else None
        await self._remember_full(read, computed, rules, bindings, fed)
        options.progress.advance(1)

    async def _plan_and_commit(self, index: catalog_index.CatalogIndex,
                               compute: Callable[[Connection], Awaitable[Computed]], read: ReadResult,
                               options: RunOptions, result: JobResult, *,
                               guarded: bool) -> tuple[Computed, int] | None:
        """The step the full and the memo paths share: the index's notes, the plan computed and committed in one
        transaction, delivery woken; gives the plan and the bindings count, or None when nothing is written."""
        result.notes.extend(index.notes())
        result.failed += len(index.ambiguous)
        options.progress.advance(1)
        async with self.store.transaction() as tx:
            with paused_gc():
                computed = await compute(tx)
            if not await self._commit(tx, computed, read, options, result, guarded=guarded):
                return None
            bindings = await catalog_index.product_bindings(tx)
        metrics.STOCK_GUARD_HOLDING.set(0)
        if result.enqueued:  # delivery starts now; analytics and the memo do not hold it up
            self.wake_dispatcher()
        return computed, bindings

    async def _commit(self, tx: Connection, computed: Computed, read: ReadResult, options: RunOptions,
                      result: JobResult, *, guarded: bool) -> bool:
        """The guard's verdict, then the plan enqueued with the job's cursors; False when nothing is to be written
        (``--dry-run``)."""
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
            return False
        result.enqueued = await plan.enqueue(tx, computed.plan, self.clock.time())
        if guarded:
            await cursors.set_(tx, PREVIOUS_SKUS, str(computed.skus))
            await cursors.set_(tx, HELD_FILE, "")
            await audit.write(tx, "bridge", "stock.applied", read.path.name,
                              {"skus": computed.skus, "changed": result.changed, "forced": options.force})
        return True

    # ---- the memo on disk (a new job's incremental run) -----------------------------------------------------------

    def _memo_key(self, rules: StockRules) -> str:
        layout = self.smile.layout(FILE_TYPE)
        return stock_memo.checksum(repr((fingerprint_of(FILE_TYPE, self.smile, layout),
                                         rules.model_dump_json())).encode("utf-8"))

    def _drop_memo(self) -> None:
        self.memo = None
        stock_memo.forget(self.memo_path)

    async def _usable_memo(self, options: RunOptions) -> stock_memo.StockMemo | None:
        """The memo a run without the long-lived job's memory may read against: it describes the newest applied
        stock file, with this layout, settings and rules, and no bindings have gone since (a state file restored
        from a backup). None: read and compute everything."""
        if options.full or self.lines.last is not None:
            return None
        memo = self.memo
        if memo is None:
            memo = await asyncio.to_thread(stock_memo.load, self.memo_path)
        if memo is None or memo.key != self._memo_key(self.rules()):
            return None
        if _analytics_on(self.analytics) and not memo.fed:  # the analytics store needs the whole file once
            return None
        row = await self.store.fetchone(
            "SELECT checksum FROM smile_files WHERE file_type = ? AND outcome = 'applied' ORDER BY id DESC LIMIT 1",
            (FILE_TYPE,))
        if row is None or row[0] != memo.checksum:
            return None
        async with self.store.transaction() as tx:
            if await catalog_index.product_bindings(tx) < memo.bindings:
                return None
        self.memo = memo
        return memo

    def _read(self, path: Path, file_type: str, settings: SmileSettings, layout: FileLayout) -> ReadResult:
        """The inbox's reader: against the memo when a run may use it, else ``LineMemo.read`` (the long-lived job's
        memory, or a full read)."""
        self._lean = None
        base = self._base
        if base is not None and file_type == FILE_TYPE:
            with paused_gc():
                lean = stock_memo.lean_read(base, path, file_type, settings, layout)
            if lean is not None:
                self._lean = lean
                self.last_read = ("memo", len(lean.new))
                return lean.result
        if self._stream and file_type == FILE_TYPE:
            with paused_gc():
                streamed = stock_memo.scan(path, file_type, settings, layout)
            if streamed is not None:
                self.last_read = ("full", streamed.rows)
                return streamed
        read = self.lines.read(path, file_type, settings, layout)
        last = self.lines.last
        self.last_read = ("memory" if last is not None and last.incremental else "full",
                          last.parsed_rows if last is not None else read.rows)
        return read

    async def _remember_full(self, read: ReadResult, computed: Computed, rules: StockRules, bindings: int,
                             fed: bool) -> None:
        """After a run that read and computed everything (or continued the long-lived job's memory): its memo."""
        key = self._memo_key(rules)

        def build() -> stock_memo.StockMemo | None:
            layout = self.smile.layout(FILE_TYPE)
            data = file_bytes(read.path, layout)
            lines = None if data is None else stock_memo.lines_by_record(data, read, layout)
            if data is None or lines is None:
                return None
            header, body, codes, warehouses, skipped = lines
            hashes = dict(computed.hashes)
            return stock_memo.StockMemo(
                key, stock_memo.checksum(data), header, body, codes, warehouses, skipped, list(read.notes), hashes,
                dict(computed.quantities), sorted(computed.codes - hashes.keys()),
                {code: str(quantity) for code, quantity in computed.unconfirmed.items()}, bindings, fed)

        with paused_gc():
            memo = await asyncio.to_thread(build)
        if memo is None:
            self._drop_memo()
            return
        self.memo = memo
        await asyncio.to_thread(stock_memo.save, self.memo_path, memo)

    async def _apply_streamed(self, read: stock_memo.StreamedRead, options: RunOptions, result: JobResult, *,
                              guarded: bool) -> None:
        """``_apply`` for a file validated whole by ``stock_memo.scan``: the codes in chunks of ``STREAM_CHUNK``
        (in the order they first appear, as the full path plans them), each chunk's lines parsed again, computed,
        diffed against the ledger's hashes of those codes and enqueued — all in one transaction, so a guard hold
        or an error applies nothing. The plan, the guard's verdict and the memo are the full path's (tested)."""
        rules = self.rules()
        layout = self.smile.layout(FILE_TYPE)
        chunk_of: dict[str, int] = {}
        buckets: list[array[int]] = []
        with paused_gc():
            for number, code in enumerate(read.codes):
                if not code:
                    continue
                chunk = chunk_of.get(code)
                if chunk is None:
                    chunk = chunk_of[code] = len(chunk_of) // STREAM_CHUNK
                    if chunk == len(buckets):
                        buckets.append(array("I"))
                buckets[chunk].append(number)
        result.read = skus = len(chunk_of)
        options.progress.advance(1)
        index = await catalog_index.resolve(self.store, self.cscart, chunk_of.keys(), listing=True,
                                            recheck_missing_after=catalog_index.RECHECK_MISSING_AFTER)
        del chunk_of
        result.notes.extend(index.notes())
        result.failed += len(index.ambiguous)
        options.progress.advance(1)
        product_ids = index.product_ids
        hashes: dict[str, str] = {}
        quantities: dict[str, int] = {}
        head = plan.Plan(TARGET, ENTITY, OP)  # the first changes (for the run's notes), all of them counted
        diffed = 0  # changes found so far, before those already queued are dropped (old values: the first 20)
        async with self.store.transaction() as tx:
            unconfirmed = await mirrored_orders.unconfirmed_quantities(tx)
            queued = await ob.queued_hashes(tx, TARGET, ENTITY, OP)
            now = self.clock.time()
            for bucket in buckets:
                lines = [read.body[number] for number in bucket]
                piece = await asyncio.to_thread(read_lines, read.path, read.header, lines, FILE_TYPE, self.smile,
                                                layout)
                if not piece.ok or piece.skipped or len(piece.records) != len(lines):
                    raise RuntimeError(f"{read.path.name}: {len(lines)} line(s) did not read again as they read "
                                       f"when the file was checked; nothing applied")
                with paused_gc():
                    desired: dict[str, dict[str, Any]] = {}
                    chunk_hashes: dict[str, str] = {}
                    _payloads(_by_code(piece.records).items(), product_ids, unconfirmed, rules, desired,
                              chunk_hashes, quantities)
                    del piece, lines
                    written = await plan.written_hashes(tx, TARGET, ENTITY, chunk_hashes.keys())
                    part = await plan.diff(tx, TARGET, ENTITY, OP, desired, hashes=chunk_hashes, written=written,
                                           old_values_for=max(0, 20 - diffed))
                    diffed += len(part.changes)
                    hashes.update(chunk_hashes)
                    if queued:
                        kept = [c for c in part.changes if chunk_hashes[c.key] not in queued.get(c.key, ())]
                        part.unchanged += len(part.changes) - len(kept)
                        part.changes = kept
                    head.unchanged += part.unchanged
                    if not options.dry_run:
                        result.enqueued += await plan.enqueue(tx, part, now)
                    head.add(part.changes, keep=21)
            del buckets
            result.changed = head.count
            result.plan = head.describe()
            verdict = await self._verdict(tx, quantities, rules, guarded=guarded)
            if verdict.tripped and options.force:
                result.notes.append(_("mass-change guard overridden with --force: {reasons}").format(
                    reasons=joined(verdict.reasons, "; ")))
            elif verdict.tripped:
                result.notes.append(_("mass-change guard: {reasons}").format(reasons=joined(verdict.reasons, "; ")))
                result.enqueued = 0
                raise GuardHeld(verdict, head.count)  # rolls back what the chunks enqueued
            if guarded:
                await cursors.set_(tx, PREVIOUS_SKUS, str(skus))
                await cursors.set_(tx, HELD_FILE, "")
                await audit.write(tx, "bridge", "stock.applied", read.path.name,
                                  {"skus": skus, "changed": result.changed, "forced": options.force})
            bindings = await catalog_index.product_bindings(tx)
        del index, product_ids
        metrics.STOCK_GUARD_HOLDING.set(0)
        if result.enqueued:
            self.wake_dispatcher()
        self._fed = None  # the analytics store gets this file, not the line memo's last read
        fed = await self.analytics.stock_read(_FileRecords(read, self.smile, layout))
        key = self._memo_key(rules)
        file_codes = {code for code in read.codes if code}
        memo = stock_memo.StockMemo(
            key, read.checksum, read.header, read.body, read.codes, read.warehouses, read.skipped_at,
            list(read.notes), hashes, quantities, sorted(file_codes - hashes.keys()),
            {code: str(quantity) for code, quantity in unconfirmed.items()}, bindings, fed)
        del file_codes
        self.memo = memo
        await asyncio.to_thread(stock_memo.save, self.memo_path, memo)
        options.progress.advance(1)

    async def _apply_lean(self, read: stock_memo.PartialRead, options: RunOptions, result: JobResult, *,
                          guarded: bool) -> None:
        """``_apply`` for a file read against the memo: only the codes whose rows, unconfirmed quantity or product
        id may have changed, or whose memo hash is not the ledger's, are computed; the plan is the full one
        (tested)."""
        lean, self._lean = self._lean, None
        assert lean is not None
        rules = self.rules()
        self._fed = None  # the analytics store gets this file, not the line memo's last read
        base = lean.base
        # The memo's per-code hashes and amounts become the new memo's (updated in place, not copied: 1,000,000
        # SKUs); until the new one is in place the job keeps none in memory (the next run reloads the file's).
        self.memo = None
        file_codes = lean.file_codes()
        result.read = len(file_codes)
        options.progress.advance(1)
        new_codes = {entry.product_code for entry in lean.new.values() if not isinstance(entry, str)}
        # Only these can lack a product id (every other code of the file was bound for the memo, and stays bound).
        candidates = new_codes | (set(base.unbound) & file_codes)
        in_order = list(dict.fromkeys(filter(candidates.__contains__, lean.codes))) if candidates else []
        index = await catalog_index.resolve(self.store, self.cscart, in_order, listing=not options.dry_run,
                                            recheck_missing_after=catalog_index.RECHECK_MISSING_AFTER, subset=True)
        committed = await self._plan_and_commit(
            index, functools.partial(self._compute_lean, lean=lean, index=index, rules=rules, file_codes=file_codes,
                                     new_codes=new_codes, guarded=guarded),
            read, options, result, guarded=guarded)
        if committed is None:
            return
        computed, bindings = committed
        fed = await self.analytics.stock_changed(read.records, lean.gone()) if base.fed else False
        first = len(lean.header) + 1
        assert computed.unbound is not None
        memo = stock_memo.StockMemo(
            self._memo_key(rules), lean.checksum, lean.header, lean.body, lean.codes, lean.warehouses,
            {line - first: reason for line, reason in read.skipped}, list(read.notes), computed.hashes,
            computed.quantities, computed.unbound,
            {code: str(quantity) for code, quantity in computed.unconfirmed.items()}, bindings, fed,
            unwritten=computed.unwritten)
        self.memo, self._base = memo, None
        del lean, base, computed, file_codes  # the old memo's lines and positions go before the new one is written
        await asyncio.to_thread(stock_memo.save, self.memo_path, memo)
        options.progress.advance(1)

    async def _compute_lean(self, tx: Connection, lean: stock_memo.LeanRead, index: catalog_index.CatalogIndex,
                            rules: StockRules, file_codes: set[str], new_codes: set[str], *,
                            guarded: bool) -> Computed:
        base = lean.base
        unconfirmed = await mirrored_orders.unconfirmed_quantities(tx)
        unwritten = await self._unwritten(tx, base)
        zero = Decimal(0)
        todo = set(new_codes)
        todo.update(base.codes[number] for number in lean.removed)
        todo.update(code for code in base.unconfirmed.keys() | unconfirmed.keys()
                    if Decimal(base.unconfirmed.get(code, "0")) != unconfirmed.get(code, zero))
        todo.update(base.unbound)
        todo.update(unwritten)  # not (or no longer) written
        todo &= file_codes
        product_ids = dict(index.product_ids)
        others = [code for code in todo if code not in product_ids and code in base.hashes]
        if others:
            product_ids.update(await catalog_index.bound_ids_for(tx, others))
        positions = list(itertools.compress(range(len(lean.codes)), map(todo.__contains__, lean.codes)))
        body, new = lean.body, lean.new
        unchanged = [body[number] for number in positions if body[number] not in new]
        parsed: dict[bytes, Any] = {}
        if unchanged:
            layout = self.smile.layout(FILE_TYPE)
            piece = await asyncio.to_thread(read_lines, lean.path, lean.header, unchanged, FILE_TYPE, self.smile,
                                            layout)
            if not piece.ok or piece.skipped or len(piece.records) != len(unchanged):
                raise _LeanFailed(f"{len(unchanged)} unchanged line(s) of {lean.path.name} did not read as before")
            parsed = dict(zip(unchanged, piece.records, strict=True))
        levels: dict[str, list[StockLevel]] = {}
        for number in positions:
            line = body[number]
            level = new.get(line) or parsed[line]
            levels.setdefault(level.product_code, []).append(level)
        desired: dict[str, dict[str, Any]] = {}
        hashes: dict[str, str] = {}
        quantities: dict[str, int] = {}
        _payloads(levels.items(), product_ids, unconfirmed, rules, desired, hashes, quantities)
        written = await plan.written_hashes(tx, TARGET, ENTITY, hashes.keys())
        computed_plan = await plan.diff(tx, TARGET, ENTITY, OP, desired, hashes=hashes, written=written)
        all_hashes, all_quantities = base.hashes, base.amounts  # in place (see _apply_lean)
        # A code the memo has and the file has not had a line the file no longer has.
        gone_codes = {code for number in lean.removed if (code := base.codes[number]) and code not in file_codes}
        for code in itertools.chain(todo, gone_codes):  # recomputed above, or not in the file
            all_hashes.pop(code, None)
            all_quantities.pop(code, None)
        computed_plan.unchanged += len(all_hashes)
        # Every code of the file not recomputed was bound and written as the memo says (see ``todo``).
        still_unwritten = {code for code in unwritten if code in all_hashes}
        still_unwritten.update(change.key for change in computed_plan.changes)
        all_hashes.update(hashes)
        all_quantities.update(quantities)
        await _drop_in_flight(tx, computed_plan)
        verdict = await self._verdict(tx, all_quantities, rules, guarded=guarded)
        return Computed(computed_plan, index, verdict, len(file_codes), hashes=all_hashes, quantities=all_quantities,
                        unconfirmed=unconfirmed, codes=file_codes,
                        unbound=sorted(code for code in todo if code not in hashes), unwritten=still_unwritten)

    async def _unwritten(self, tx: Connection, base: stock_memo.StockMemo) -> set[str]:
        """The codes of the memo whose hash the ledger does not hold: from what the ledger wrote since the memo was
        made when this job made it (a long-lived job's later runs), else by one pass over the ledger."""
        changes = await self.ledger_changes.changes(tx)
        if changes is not None and base.unwritten is not None:
            unwritten, hashes_of = base.unwritten, base.hashes
            for code, written in changes.items():
                wanted = hashes_of.get(code)
                if wanted is not None and wanted != written:
                    unwritten.add(code)
                else:
                    unwritten.discard(code)
            return unwritten
        found = await plan.unwritten(tx, TARGET, ENTITY, base.hashes)
        if found is not None:
            return found
        # some code of the memo has no ledger entry at all: compare with the whole ledger (in C)
        ledger_hashes = await ledger.get_hashes(tx, TARGET, ENTITY)
        hashes_of = base.hashes
        return set(itertools.compress(hashes_of, map(operator.ne, hashes_of.values(),
                                                     map(ledger_hashes.get, hashes_of))))

    async def _verdict(self, tx: Connection, quantities: dict[str, int], rules: StockRules, *,
                       guarded: bool) -> GuardVerdict:
        if not guarded:
            return GuardVerdict(False, total=len(quantities))
        previous_skus = await cursors.get(tx, PREVIOUS_SKUS)
        previous = await _previous_amounts(tx, quantities, rules)
        return mass_change_guard(int(previous_skus) if previous_skus else None, quantities, rules,
                                 previous=previous)

    async def _compute(self, tx: Connection, levels: dict[str, list[StockLevel]],
                       index: catalog_index.CatalogIndex, rules: StockRules, *, guarded: bool,
                       memo: PayloadMemo | None = None, delta: Delta | None = None) -> Computed:
        """The plan for ``levels``. With ``memo`` and a ``delta`` that continues the read the memo was computed
        for, codes the delta does not touch reuse their remembered payload when nothing else they depend on
        changed; the result is the same as computing every code (tested)."""
        unconfirmed = await mirrored_orders.unconfirmed_quantities(tx)
        zero = Decimal(0)
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
        _payloads(work, product_ids, unconfirmed, rules, desired, hashes, quantities)
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
        verdict = await self._verdict(tx, quantities, rules, guarded=guarded)
        return Computed(computed_plan, index, verdict, len(levels), hashes=hashes, quantities=quantities,
                        unconfirmed=unconfirmed, codes=set(levels))

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


def _payloads(work: Iterable[tuple[str, list[StockLevel]]], product_ids: Mapping[str, int],
              unconfirmed: Mapping[str, Decimal], rules: StockRules, desired: dict[str, dict[str, Any]],
              hashes: dict[str, str], quantities: dict[str, int]) -> None:
    """The ``product.stock`` payload, its hash and amount of every bound code of ``work`` (code, its rows)."""
    mapped = rules.warehouses.mode == "map"
    zero = Decimal(0)
    value_hash = ledger.value_hash
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


def _analytics_on(feed: AnalyticsFeed) -> bool:
    """Whether the analytics store is fed (a file read against the memo feeds it only what differs)."""
    section = getattr(getattr(feed, "settings", None), "analytics", None)
    return section is not None and bool(section.enabled) and section.path is not None


class _FileRecords(Sequence[StockLevel]):
    """The records of a file validated by ``stock_memo.scan``, read again from the file as they are iterated (the
    analytics feed takes a whole snapshot; the job does not keep one)."""

    def __init__(self, read: stock_memo.StreamedRead, settings: SmileSettings, layout: FileLayout) -> None:
        self.read, self.settings, self.layout = read, settings, layout

    def __len__(self) -> int:
        return self.read.record_count

    def __iter__(self) -> Iterator[StockLevel]:
        path = self.read.path
        return iter_records(path, FILE_TYPE, ReadResult(path=path, file_type=FILE_TYPE), settings=self.settings,
                            layout=self.layout)

    @overload
    def __getitem__(self, index: int) -> StockLevel: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[StockLevel]: ...

    def __getitem__(self, index: int | slice) -> StockLevel | Sequence[StockLevel]:
        return list(self)[index]


def _gone(delta: Delta) -> list[tuple[str, str]]:
    """(商品コード, 倉庫コード) of the rows the file before ``delta`` had and this one has not."""
    kept = {(level.product_code, level.warehouse_code) for level in delta.changed}
    return list(dict.fromkeys(key for level in delta.removed
                              if (key := (level.product_code, level.warehouse_code)) not in kept))


class _LeanFailed(Exception):
    """The memo did not hold for this file after all (its unchanged lines read differently): read everything."""


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
