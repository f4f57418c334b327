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
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from bridge.cscart.client import CSCartClient
from bridge.domain.catalog import TierSet
from bridge.domain.time import Clock
from bridge.i18n import _
from bridge.rules.pricing import PriceMissing, PricingRules, QuantityPrice, compile_tier_set
from bridge.smile.records import QuantityPrice as SmileQuantityPrice
from bridge.store import Store, audit
from bridge.sync import plan
from bridge.sync.base import JobResult, RunOptions
from bridge.sync.catalog import index as catalog_index
from bridge.sync.catalog.smile_input import SmileInput
from bridge.sync.jobkit import finish, first, money, rank_groups

JOB = "prices"
TARGET, ENTITY, OP = "cscart", "product_prices", "product.prices"


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


class PricesJob:
    name = JOB

    def __init__(self, *, cscart: CSCartClient, pricing: Callable[[], PricingRules], products_input: SmileInput,
                 quantity_input: SmileInput, store: Store, clock: Clock,
                 wake_dispatcher: Callable[[], None]) -> None:
        self.cscart, self.pricing = cscart, pricing
        self.products_input, self.quantity_input = products_input, quantity_input
        self.store, self.clock, self.wake_dispatcher = store, clock, wake_dispatcher
        self.missing = catalog_index.MissingCodes()

    async def run(self, options: RunOptions) -> JobResult:
        started = time.perf_counter()
        result = JobResult()
        options.progress.start(_("prices: reading SMILE files"), 4)
        products_file = await self.products_input.current(consume=False, dry_run=options.dry_run)
        result.notes.extend(products_file.notes)
        if products_file.result is None:
            return finish(JOB, result, options, started)
        quantity_file = await self.quantity_input.current(consume=True, dry_run=options.dry_run)
        result.notes.extend(n for n in quantity_file.notes if n is not quantity_file.absent)  # the file is optional
        quantities = quantity_rows(quantity_file.records)
        options.progress.advance()

        pricing = self.pricing()
        groups = await rank_groups(self.cscart, pricing, create=not options.dry_run, notes=result.notes)
        products = {p.code: p for p in products_file.records}  # the reader skipped the 諸口 codes
        result.read = len(products)
        index = await catalog_index.resolve(self.store, self.cscart, list(products), listing=not options.dry_run,
                                            missing=None if options.dry_run else self.missing)
        options.progress.advance()

        now = self.clock.now()
        desired: dict[str, Any] = {}
        no_price: list[str] = []
        for code, product in products.items():
            product_id = index.product_ids.get(code)
            if product_id is None:
                continue  # the products job creates it; its prices follow on the next run
            try:
                tier_set = compile_tier_set(product, pricing, groups, quantities.get(code, ()), now=now)
            except PriceMissing:
                no_price.append(code)
                continue
            desired[code] = prices_payload(product_id, tier_set)
        result.failed = len(no_price) + len(index.ambiguous)
        if no_price:
            result.notes.append(_("{count} product(s) without 標準売上単価, prices not written: {codes}").format(
                count=len(no_price), codes=first(no_price)))
        if index.missing:
            result.notes.append(_("{count} product(s) not in CS-Cart yet (the products job creates them): {codes}")
                                .format(count=len(index.missing), codes=first(index.missing)))
        result.notes.extend(index.notes(missing=False))
        options.progress.advance()

        async with self.store.transaction() as tx:
            computed = await plan.diff(tx, TARGET, ENTITY, OP, desired)
            result.changed = len(computed.changes)
            result.plan = computed.describe(limit=10)
            if not options.dry_run:
                result.enqueued = await plan.enqueue(tx, computed, self.clock.time())
                await audit.write(tx, "bridge", "prices.planned", products_file.result.path.name, {
                    "read": result.read, "changed": result.changed, "unchanged": computed.unchanged,
                    "failed": result.failed, "at": now.isoformat()})
        options.progress.advance()
        if result.enqueued:
            self.wake_dispatcher()
        return finish(JOB, result, options, started)

