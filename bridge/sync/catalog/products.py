"""Job ``products``: SMILE 商品マスター → CS-Cart products, creating the missing ones, writing only SMILE's fields.

One run:
1. the newest complete 商品マスター (``SmileInput``; without a new file the last applied one is planned again);
2. per 商品コード: the fields SMILE owns (``rules/products.yaml`` field_ownership: name, status from the validity
   window and display flag, list price, search words from kana + JAN, 入数 as min_qty/qty_step); descriptions,
   images, categories and SEO are the shop's and are never sent;
3. code → product_id from ``catalog_index`` (bindings, then one exact-code listing: ``pcode`` is a substring match);
4. bound products: diff against the ledger (``cscart/product``) → ``product.update`` ops with only the changes;
   products CS-Cart lacks: ``product.create`` ops (the sink adopts an exact-code product or POSTs, then binds the
   new id and records the ledger before the op counts as done, so a retry never makes a twin);
5. one transaction for the plan, the ops and the audit line; the dispatcher is woken.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from bridge.i18n import _
from bridge.analytics.hooks import AnalyticsFeed
from bridge.config import CatalogSettings
from bridge.cscart.client import CSCartClient
from bridge.domain.catalog import Product
from bridge.domain.time import Clock, business_date
from bridge.rules.pricing import PricingRules, effective_prices
from bridge.rules.products import ProductRules, product_status
from bridge.store import Store, audit
from bridge.sync import plan
from bridge.sync.base import JobResult, RunOptions
from bridge.sync.catalog import index as catalog_index
from bridge.sync.catalog.created import product_update_payload
from bridge.sync.catalog.smile_input import SmileInput, Snapshot
from bridge.sync.jobkit import describe_creates, enqueue_creates, first, money

JOB = "products"
TARGET, ENTITY = "cscart", "product"
# The product fields this job knows how to fill; rules/products.yaml decides which of them SMILE owns.
COMPUTED_FIELDS = ("product", "status", "list_price", "search_words", "min_qty", "qty_step")


def product_fields(product: Product, rules: ProductRules, pricing: PricingRules, owned: frozenset[str],
                   now: Any) -> dict[str, Any]:
    """The SMILE-owned CS-Cart fields of one product at ``now`` (an aware datetime)."""
    step = _case_step(product.case_quantity)
    list_price = effective_prices(product, pricing, now).list_price
    values: dict[str, Any] = {
        "product": product.name,
        "status": product_status(product, rules, business_date(now)),
        "list_price": money(list_price) if list_price is not None else money(Decimal(0)),
        "search_words": " ".join(part for part in (product.name_kana, product.jan) if part),
        "min_qty": step,
        "qty_step": step,
    }
    return {name: value for name, value in values.items() if name in owned}


def _case_step(case_quantity: Decimal | None) -> int:
    """入数 > 1: order by the case (CS-Cart 0 = no step)."""
    if case_quantity is None or case_quantity <= 1 or case_quantity != case_quantity.to_integral_value():
        return 0
    return int(case_quantity)


class ProductsJob:
    name = JOB

    def __init__(self, *, cscart: CSCartClient, products: Callable[[], ProductRules],
                 pricing: Callable[[], PricingRules], smile_input: SmileInput, catalog: CatalogSettings,
                 store: Store, clock: Clock, wake_dispatcher: Callable[[], None], analytics: AnalyticsFeed) -> None:
        self.cscart, self.products, self.pricing = cscart, products, pricing
        self.input, self.catalog = smile_input, catalog
        self.store, self.clock, self.wake_dispatcher, self.analytics = store, clock, wake_dispatcher, analytics
        self.missing = catalog_index.MissingCodes()

    async def run(self, options: RunOptions) -> JobResult:
        return await self.input.run(JOB, options, _("products: reading 商品マスター"), 3, self._apply)

    async def _apply(self, snapshot: Snapshot, options: RunOptions, result: JobResult) -> dict[str, Any]:
        rules = self.products()
        pricing = self.pricing()
        products = {p.code: p for p in snapshot.records}  # a later row wins; the reader skipped the 諸口 codes
        result.read = len(products)
        index = await catalog_index.resolve(self.store, self.cscart, list(products), listing=not options.dry_run,
                                            missing=None if options.dry_run else self.missing)
        options.progress.advance()

        now = self.clock.now()
        owned = rules.owned_by("smile") & frozenset(COMPUTED_FIELDS)
        initial: dict[str, Any] = {}
        if self.catalog.new_product_category_ids:
            initial["category_ids"] = list(self.catalog.new_product_category_ids)
        updates: dict[str, Any] = {}
        creates: dict[str, Any] = {}
        for code, product in products.items():
            if code in index.ambiguous:
                result.failed += 1
                continue
            fields = product_fields(product, rules, pricing, owned, now)
            product_id = index.product_ids.get(code)
            if product_id is not None:
                updates[code] = product_update_payload(product_id, fields)
            elif rules.create_missing:
                start_price = effective_prices(product, pricing, now).standard
                creates[code] = {"product_code": code, "fields": fields,
                                 "initial": {**initial, "price": money(start_price or Decimal(0))}}
        result.notes.extend(index.notes(missing=False))
        if index.missing and not rules.create_missing:
            result.notes.append(_("{count} product(s) not in CS-Cart and create_missing is off in rules/products.yaml: "
                                  "{codes}").format(count=len(index.missing), codes=first(index.missing)))

        async with self.store.transaction() as tx:
            computed = await plan.diff(tx, TARGET, ENTITY, "product.update", updates)
            result.changed = len(computed.changes) + len(creates)
            result.plan = [*describe_creates("product.create", creates, 10), *computed.describe(limit=10)]
            if not options.dry_run:
                now_ts = self.clock.time()
                result.enqueued = await plan.enqueue(tx, computed, now_ts)
                result.enqueued += await enqueue_creates(tx, TARGET, "product.create", ENTITY, creates, now_ts)
                await audit.write(tx, "bridge", "products.planned", snapshot.file_name, {
                    "read": result.read, "updates": len(computed.changes), "creates": len(creates),
                    "unchanged": computed.unchanged, "failed": result.failed})
        options.progress.advance()
        if result.enqueued:
            self.wake_dispatcher()
        if not options.dry_run:
            await self.analytics.products_read(list(products.values()))
        return {"creates": len(creates), "updates": len(computed.changes)}
