"""Job ``prices``: ``rules/pricing.yaml`` → the complete CS-Cart tier set per product, written whole.

One run (hourly):
1. 商品マスター as the products job last saw it (the newest complete file, read in place, else the last applied
   one) and the newest 数量別単価 (owned here: archived after use; optional);
2. rank usergroups by name from pricing.yaml, created in CS-Cart when missing (``jobkit.rank_groups``);
3. per bound product: ``compile_tier_set`` at the job clock's now — base price (標準売上単価), one row per rank,
   quantity tiers, 新単価 from 00:00 JST of 新単価実施日, rounding — so the switch happens on the first run after
   midnight JST even without a new file;
4. the ledger diff is on the whole tier set (``cscart/product_prices``); a change sends the full set, base row
   first (CS-Cart discards ``prices[0]`` and deletes every tier not sent).

A run's cost follows what changed (``prices_memo``): with the memo of the last applied run (kept in memory by a
long-lived job, on disk beside the state file for a new process) only the 商品マスター lines that are new are parsed
and only the codes whose line, quantity rows or binding changed, whose 新単価実施日 / valid dates were crossed since,
or whose tier set is not the ledger's are compiled; the plan is the full run's (tested). ``--full``, a dry run, other
rules or rank groups, a clock gone back, or a memo that does not hold: everything is read and compiled.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

from bridge.cscart.client import CSCartClient
from bridge.domain.catalog import Product, TierSet
from bridge.domain.time import Clock, business_date
from bridge.i18n import _
from bridge.rules.pricing import PriceMissing, PricingRules, QuantityPrice, compile_tier_set
from bridge.smile.delta import fingerprint_of
from bridge.smile.layout import FileLayout
from bridge.smile.reader import ReadResult, read_file
from bridge.smile.records import QuantityPrice as SmileQuantityPrice
from bridge.smile.settings import SmileSettings
from bridge.store import Store, audit, cursors, ledger
from bridge.store.db import Connection
from bridge.sync import plan
from bridge.sync.base import JobResult, RunOptions
from bridge.sync.bulk import paused_gc
from bridge.sync.catalog import index as catalog_index
from bridge.sync.catalog import prices_memo
from bridge.sync.catalog.prices_memo import PricesMemo
from bridge.sync.catalog.smile_input import Reader, SmileInput, Snapshot
from bridge.sync.jobkit import finish, first, money, rank_groups

log = structlog.get_logger("bridge.sync.prices")

JOB = "prices"
TARGET, ENTITY, OP = "cscart", "product_prices", "product.prices"
QUANTITY_TYPE = "quantity_prices"
MEMO_CURSOR = "prices.memo"  # the token of the memo written for the last applied run


def prices_payload(product_id: int, tier_set: TierSet) -> dict[str, Any]:
    """The ``product.prices`` payload: the base price and every other tier (the sink puts the base row first)."""
    tiers = []
    for tier in tier_set.rows()[1:]:
        row: dict[str, Any] = {"usergroup_id": tier.usergroup_id, "lower_limit": tier.lower_limit,
                               "price": money(tier.price)}
        if tier.percentage:
            row["percentage"] = True
        tiers.append(row)
    return {"product_id": int(product_id), "price": money(tier_set.base_price), "tiers": tiers}


def quantity_rows(records: list[SmileQuantityPrice]) -> dict[str, list[QuantityPrice]]:
    """数量別単価 file rows → the rules' records, by 商品コード (whole quantities only: CS-Cart's lower_limit)."""
    rows: dict[str, list[QuantityPrice]] = defaultdict(list)
    for record in records:
        if record.min_quantity != record.min_quantity.to_integral_value():
            continue
        rows[record.product_code].append(QuantityPrice(
            min_quantity=int(record.min_quantity), price=record.price, valid_from=record.valid_from,
            valid_to=record.valid_to))
    return dict(rows)


class _Unchanged(ReadResult):
    """The 数量別単価 file the memo was computed from, byte for byte: its rows are the memo's (not parsed)."""


class _LeanFailed(Exception):
    """The memo did not hold for this file after all (its unchanged lines read differently): read everything."""


@dataclass(slots=True)
class _Computed:
    """One run's tier sets before the ledger diff: those compiled (``desired``/``hashes``, in file order), how many
    the memo's hashes stand for unchanged (``reused``), and the next memo."""

    index: catalog_index.CatalogIndex
    desired: dict[str, Any] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)
    no_price: list[str] = field(default_factory=list)  # every bound code of the file without 標準売上単価
    reused: int = 0
    memo: PricesMemo | None = None  # the next memo (None: none can be kept)
    dirty: bool = True  # the next memo differs from the one the run read against
    bindings: int = 0  # product bindings when the plan was committed
    token: str = ""  # the memo token committed with the plan (when ``dirty``)
    compiled: int = 0  # tier sets compiled (or found without a price) this run


Prepare = Callable[[Connection, Mapping[str, str], "set[str] | None"], Awaitable[_Computed]]


class PricesJob:
    name = JOB

    def __init__(self, *, cscart: CSCartClient, pricing: Callable[[], PricingRules], products_input: SmileInput,
                 quantity_input: SmileInput, store: Store, clock: Clock,
                 wake_dispatcher: Callable[[], None]) -> None:
        self.cscart, self.pricing = cscart, pricing
        self.products_input, self.quantity_input = products_input, quantity_input
        self.store, self.clock, self.wake_dispatcher = store, clock, wake_dispatcher
        self.missing = catalog_index.MissingCodes()
        self.smile: SmileSettings = products_input.settings
        # The last applied run's memo: kept here by a long-lived job, on disk beside the state file for a new one.
        self.memo_path = prices_memo.path_for(store.path)
        self.memo: PricesMemo | None = None
        self.digests: ledger.LedgerDigests | None = None  # the ledger's hashes, kept current in a long-lived job
        self._differing: set[str] | None = None  # codes the last plan found different from the ledger
        self._lean: prices_memo.LeanRead | None = None
        # How the last run read: ("memo" | "full", 商品マスター lines parsed, tier sets compiled).
        self.last_read: tuple[str, int, int] = ("", 0, 0)

    async def run(self, options: RunOptions) -> JobResult:
        started = time.perf_counter()
        result = JobResult()
        self.last_read = ("", 0, 0)
        options.progress.start(_("prices: reading SMILE files"), 4)
        pricing = self.pricing()
        base = None if options.full or options.dry_run else await self._usable_memo(pricing)
        self._lean = None
        with paused_gc():
            products_file = await self.products_input.current(
                consume=False, dry_run=options.dry_run, reader=self._products_reader(base) if base else None)
            result.notes.extend(products_file.notes)
            if products_file.result is None:
                return finish(JOB, result, options, started)
            quantity_file = await self.quantity_input.current(
                consume=True, dry_run=options.dry_run, reader=self._quantity_reader(base) if base else None)
        result.notes.extend(n for n in quantity_file.notes if n is not quantity_file.absent)  # the file is optional
        options.progress.advance()

        groups = await rank_groups(self.cscart, pricing, create=not options.dry_run, notes=result.notes)
        now = self.clock.now()
        day = business_date(now).toordinal()
        lean, self._lean = self._lean, None
        if base is None or lean is None or lean.result is not products_file.result or groups != base.groups \
                or day < base.day:
            lean = None
        computed: _Computed | None = None
        if lean is not None:
            try:
                computed = await self._run_lean(lean, quantity_file, pricing, groups, now, options, result)
            except _LeanFailed as failed:  # rolled back, nothing applied: read and compute everything
                log.warning("prices.memo_unusable", reason=str(failed))
        if computed is None:
            read = products_file.result
            if isinstance(read, prices_memo.PartialRead):  # read against the memo, which is not used after all
                layout = self.smile.layout(prices_memo.FILE_TYPE)
                read = await asyncio.to_thread(read_file, read.path, prices_memo.FILE_TYPE, self.smile, layout)
                if not read.ok:
                    raise RuntimeError(read.report())
            computed = await self._run_full(read, quantity_file, base, pricing, groups, now, options, result)
        options.progress.advance()
        if result.enqueued:  # delivery starts now; the memo does not hold it up
            self.wake_dispatcher()
        if not options.dry_run:
            if computed.memo is None:
                self.memo = None
                prices_memo.forget(self.memo_path)
            else:
                computed.memo.differing = self._differing
                self.memo = computed.memo
                if computed.dirty:
                    await asyncio.to_thread(prices_memo.save, self.memo_path, computed.memo)
        options.progress.advance()
        return finish(JOB, result, options, started)

    # ---- everything read and compiled --------------------------------------------------------------------------

    async def _run_full(self, read: ReadResult, quantity_file: Snapshot, base: PricesMemo | None,
                        pricing: PricingRules, groups: dict[int, int], now: datetime, options: RunOptions,
                        result: JobResult) -> _Computed:
        if isinstance(quantity_file.result, _Unchanged):  # byte for byte the memo's file: its rows
            assert base is not None
            rows = base.quantities
            quantities = {code: prices_memo.quantity_prices(found) for code, found in rows.items()}
        else:
            quantities = quantity_rows(quantity_file.records)
            rows = prices_memo.rows_of(quantities)
        products: dict[str, Product] = {p.code: p for p in read.records}  # the reader skipped the 諸口 codes
        result.read = len(products)
        index = await catalog_index.resolve(self.store, self.cscart, list(products), listing=not options.dry_run,
                                            missing=None if options.dry_run else self.missing)
        options.progress.advance()
        computed = _Computed(index)
        with paused_gc():
            _compile(products.values(), index.product_ids, quantities, pricing, groups, now, computed)
        computed.compiled = len(computed.desired) + len(computed.no_price)
        self.last_read = ("full", read.rows, computed.compiled)

        async def prepare(tx: Connection, written: Mapping[str, str], changed: set[str] | None) -> _Computed:
            return computed

        await self._commit(prepare, read.path.name, now, options, result)
        if options.dry_run:
            return computed
        day = business_date(now).toordinal()
        key = self._memo_key(pricing)
        quantity_checksum = await self._quantity_checksum(quantity_file, base)
        layout = self.smile.layout(prices_memo.FILE_TYPE)

        def build() -> PricesMemo | None:
            try:
                data = read.path.read_bytes()
            except OSError:
                return None
            lines = prices_memo.lines_by_record(data, read, layout)
            if lines is None:
                return None
            cut, digests, codes = lines
            turns = {code: prices_memo.turning_days(product, rows.get(code, ()))
                     for code, product in products.items() if product.new_price_date is not None or code in rows}
            return PricesMemo(key, computed.token, day, dict(groups), prices_memo.checksum(data),
                              cut.header, digests, codes, quantity_checksum, rows, dict(computed.hashes),
                              list(computed.no_price), _unbound(index), computed.bindings,
                              prices_memo.index_dates(turns, day))

        with paused_gc():
            computed.memo = await asyncio.to_thread(build)
        return computed

    # ---- against the memo ----------------------------------------------------------------------------------------

    async def _run_lean(self, lean: prices_memo.LeanRead, quantity_file: Snapshot, pricing: PricingRules,
                        groups: dict[int, int], now: datetime, options: RunOptions,
                        result: JobResult) -> _Computed:
        """Only the codes whose line, quantity rows or binding changed, whose turning day was crossed since the
        memo's run, or whose memo hash is not the ledger's are compiled; the plan is the full run's (tested)."""
        base = lean.base
        day = business_date(now).toordinal()
        codes = lean.codes
        file_codes = set(codes)
        file_codes.discard("")
        result.read = lean.result.record_count
        if isinstance(quantity_file.result, _Unchanged):
            rows, quantity_changed = base.quantities, set()
        else:
            rows = prices_memo.rows_of(quantity_rows(quantity_file.records))
            quantity_changed = {code for code in rows.keys() | base.quantities.keys()
                                if rows.get(code) != base.quantities.get(code)}
        quantity_checksum = await self._quantity_checksum(quantity_file, base)
        known = base.hashes
        no_price_before = set(base.no_price)
        unbound_before = set(base.unbound)
        new_codes = {code for code in lean.new
                     if code not in known and code not in no_price_before and code not in unbound_before}
        candidates = new_codes | (unbound_before & file_codes)
        in_order = [code for code in codes if code in candidates] if candidates else []
        # Only these can lack a product id (every other code of the file was bound for the memo, and stays bound).
        index = await catalog_index.resolve(self.store, self.cscart, in_order, listing=True, missing=self.missing,
                                            subset=True)
        options.progress.advance()
        todo = set(lean.touched) | quantity_changed | set(index.product_ids)
        if day != base.day:
            todo |= prices_memo.crossed(base.dates, base.day, day)
        gone = (known.keys() | no_price_before) - file_codes if lean.cut is not None else set()
        unbound = sorted(_unbound(index) + [code for code in unbound_before & file_codes if code not in candidates])

        async def prepare(tx: Connection, written: Mapping[str, str], changed: set[str] | None) -> _Computed:
            differing = base.differing
            if changed is not None and differing is not None:  # the long-lived job: only what the ledger changed
                stale = {code for code in differing | changed if code in known and written.get(code) != known[code]}
            elif known == written:  # everything written as computed (compared in C, nothing built)
                stale = set()
            else:
                stale = {code for code, _ in known.items() - written.items()}
            todo.update(stale)
            todo.intersection_update(file_codes)
            product_ids = dict(index.product_ids)
            others = [code for code in todo if code not in product_ids]
            if others:
                product_ids.update(await catalog_index.bound_ids_for(tx, others))
            records = await self._records(lean, todo)
            quantities = {code: prices_memo.quantity_prices(rows[code]) for code in todo if code in rows}
            computed = _Computed(index)
            _compile([records[code] for code in codes if code in todo] if todo else [], product_ids, quantities,
                     pricing, groups, now, computed)
            computed.compiled = len(computed.desired) + len(computed.no_price)
            # the next memo: the base with the codes compiled (or gone) replaced
            hashes = known
            if todo or gone:
                hashes = dict(known)
                for code in itertools.chain(todo, gone):
                    hashes.pop(code, None)
                hashes.update(computed.hashes)
            computed.reused = len(hashes) - len(computed.hashes)
            every = (no_price_before - todo - gone) | set(computed.no_price)
            computed.no_price = [code for code in codes if code in every] if every else []
            dates = base.dates
            if todo or day != base.day:
                dates = {turn: set(found) for turn, found in base.dates.items() if turn > day}
                for code in todo:
                    product = records.get(code)
                    for turn in prices_memo.turning_days(product, rows.get(code, ())) if product else ():
                        if turn > day:
                            dates.setdefault(turn, set()).add(code)
            header = base.header if lean.cut is None else lean.cut.header
            computed.memo = PricesMemo(base.key, base.token, day, dict(groups), lean.checksum, header, lean.digests,
                                       codes, quantity_checksum, rows, hashes, computed.no_price, unbound,
                                       base.bindings, dates)
            computed.dirty = bool(todo or gone or day != base.day or lean.checksum != base.checksum
                                  or quantity_checksum != base.quantity_checksum or unbound != base.unbound)
            return computed

        computed = await self._commit(prepare, lean.path.name, now, options, result)
        self.last_read = ("memo", len(lean.new), computed.compiled)
        if computed.memo is not None and computed.dirty:
            computed.memo.token, computed.memo.bindings = computed.token, computed.bindings
        return computed

    async def _records(self, lean: prices_memo.LeanRead, todo: set[str]) -> dict[str, Product]:
        """The records of ``todo``: the new lines' as parsed, the other lines parsed now."""
        records = {code: product for code, product in lean.new.items() if code in todo}
        if len(records) == len(todo):
            return records
        wanted = [number for number, code in enumerate(lean.codes) if code in todo and code not in records]
        layout = self.smile.layout(prices_memo.FILE_TYPE)
        cut = await asyncio.to_thread(lean.lines, layout)
        if cut is None:
            raise _LeanFailed(f"{lean.path.name} does not split into lines as before")
        lines = [cut.body[number] for number in wanted]
        piece = await asyncio.to_thread(prices_memo.read_lines, lean.path, cut, lines, self.smile, layout)
        if not piece.ok or piece.skipped or len(piece.records) != len(lines):
            raise _LeanFailed(f"{len(lines)} unchanged line(s) of {lean.path.name} did not read as before")
        for product in piece.records:
            records[product.code] = product
        return records

    # ---- the shared end: the ledger diff, enqueued with the audit entry and the memo's token ----------------------

    async def _commit(self, prepare: Prepare, name: str, now: datetime, options: RunOptions,
                      result: JobResult) -> _Computed:
        async with self.store.transaction() as tx:
            if self.digests is None:
                self.digests = ledger.LedgerDigests(TARGET, ENTITY)
            written, changed = await self.digests.current(tx)  # read whole in a new process; kept in a long-lived one
            with paused_gc():
                computed = await prepare(tx, written, changed)
            index = computed.index
            result.failed = len(computed.no_price) + len(index.ambiguous)
            if computed.no_price:
                result.notes.append(_("{count} product(s) without 標準売上単価, prices not written: {codes}").format(
                    count=len(computed.no_price), codes=first(computed.no_price)))
            if index.missing:
                result.notes.append(_("{count} product(s) not in CS-Cart yet (the products job creates them): "
                                      "{codes}").format(count=len(index.missing), codes=first(index.missing)))
            result.notes.extend(index.notes(missing=False))
            computed_plan = await plan.diff(tx, TARGET, ENTITY, OP, computed.desired, hashes=computed.hashes,
                                            written=written)
            computed_plan.unchanged += computed.reused
            result.changed = len(computed_plan.changes)
            result.plan = computed_plan.describe(limit=10)
            if options.dry_run:
                return computed
            self._differing = {change.key for change in computed_plan.changes}
            result.enqueued = await plan.enqueue(tx, computed_plan, self.clock.time())
            await audit.write(tx, "bridge", "prices.planned", name, {
                "read": result.read, "changed": result.changed, "unchanged": computed_plan.unchanged,
                "failed": result.failed, "at": now.isoformat()})
            if computed.dirty:
                token = secrets.token_hex(8)
                await cursors.set_(tx, MEMO_CURSOR, token)
                computed.bindings = await catalog_index.product_bindings(tx)
                computed.token = token
        return computed

    # ---- the memo ------------------------------------------------------------------------------------------------

    def _memo_key(self, pricing: PricingRules) -> str:
        parts = [fingerprint_of(file_type, self.smile, self.smile.layout(file_type))
                 for file_type in (prices_memo.FILE_TYPE, QUANTITY_TYPE)]
        return prices_memo.checksum(repr((parts, pricing.model_dump_json())).encode("utf-8"))

    async def _usable_memo(self, pricing: PricingRules) -> PricesMemo | None:
        """The memo a run may read against: written for the store's last applied run (its token), with this layout,
        settings and rules, and no bindings gone since. None: read and compute everything."""
        async with self.store.transaction() as tx:
            token = await cursors.get(tx, MEMO_CURSOR)
            bindings = await catalog_index.product_bindings(tx)
        if not token:
            return None
        memo = self.memo
        if memo is None or memo.token != token:
            memo = await asyncio.to_thread(prices_memo.load, self.memo_path)
            if memo is not None:
                memo.differing = None  # another run's: what differs from the ledger is found again
        if memo is None or memo.token != token or memo.key != self._memo_key(pricing) or bindings < memo.bindings:
            return None
        return memo

    def _products_reader(self, base: PricesMemo) -> Reader:
        def read(path: Path, file_type: str, settings: SmileSettings, layout: FileLayout) -> ReadResult:
            lean = prices_memo.lean_read(base, path, settings, layout)
            if lean is not None:
                self._lean = lean
                return lean.result
            return read_file(path, file_type, settings, layout)

        return read

    def _quantity_reader(self, base: PricesMemo) -> Reader:
        def read(path: Path, file_type: str, settings: SmileSettings, layout: FileLayout) -> ReadResult:
            try:
                same = bool(base.quantity_checksum) and prices_memo.checksum(path.read_bytes()) == base.quantity_checksum
            except OSError:
                same = False
            if same:
                return _Unchanged(path=path, file_type=file_type)
            return read_file(path, file_type, settings, layout)

        return read

    async def _quantity_checksum(self, quantity_file: Snapshot, base: PricesMemo | None) -> str:
        """sha256 of the 数量別単価 file this run used ("" when none, or when it is not known)."""
        found = quantity_file.result
        if found is None:
            return ""
        if isinstance(found, _Unchanged):
            return base.quantity_checksum if base is not None else ""
        if quantity_file.source == "inbox":  # consumed: the inbox recorded its sha256
            row = await self.store.fetchone(
                "SELECT checksum FROM smile_files WHERE file_type = ? AND outcome = 'applied' ORDER BY id DESC "
                "LIMIT 1", (QUANTITY_TYPE,))
            return str(row[0]) if row and row[0] else ""
        try:
            return prices_memo.checksum(await asyncio.to_thread(found.path.read_bytes))
        except OSError:
            return ""


def _unbound(index: catalog_index.CatalogIndex) -> list[str]:
    return sorted({*index.missing, *index.ambiguous})


def _compile(products: Iterable[Product], product_ids: Mapping[str, int],
             quantities: Mapping[str, list[QuantityPrice]], pricing: PricingRules, groups: Mapping[int, int],
             now: datetime, computed: _Computed) -> None:
    """The tier set, payload and hash of every bound product of ``products`` into ``computed`` (file order)."""
    value_hash = ledger.value_hash
    for product in products:
        code = product.code
        product_id = product_ids.get(code)
        if product_id is None:
            continue  # the products job creates it; its prices follow on the next run
        try:
            tier_set = compile_tier_set(product, pricing, groups, quantities.get(code, ()), now=now)
        except PriceMissing:
            computed.no_price.append(code)
            continue
        payload = prices_payload(product_id, tier_set)
        computed.desired[code] = payload
        computed.hashes[code] = value_hash(payload)
