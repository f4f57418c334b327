"""Job ``customer_prices``: what the smile_bridge add-on needs at checkout, through its batch API: SMILE 得意先別単価
→ its customer price table, each customer's credit exposure (売掛残 + orders sent to SMILE and not yet invoiced, as the
orders job keeps them) → ``users.smile_credit_exposure``, and pricing.yaml's 直送 surcharge → its checkout settings.

One run (hourly): the newest 得意先別単価 file (owned here), rows grouped per (CS-Cart user, CS-Cart product) through
the customers' and products' bindings, rows that ended before today (JST) dropped; the ledger diff is per pair and a
changed pair sends its full row set (``customer.price``, bridge/cscart/batch_sink.py), a pair no longer in the file
sends ``[]`` so the add-on deletes it. At checkout the add-on picks the row (docs/addon.md §6). Without the add-on the
job writes nothing and says so: CS-Cart's core has no per-customer prices.

The surcharge settings and the exposures are diffed against the ledger like the prices, so each is sent again only
when it changed; the exposure is as fresh as this job's interval (``jobs.customer_prices.interval``).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bridge.cscart.client import CSCartClient
from bridge.domain.catalog import CustomerPrice
from bridge.domain.time import JST, Clock
from bridge.i18n import _
from bridge.rules.pricing import PricingRules
from bridge.store import Store, bindings, ledger
from bridge.sync import plan
from bridge.sync.base import JobResult, RunOptions
from bridge.sync.catalog.smile_input import SmileInput
from bridge.sync.jobkit import finish, first, money
from bridge.sync.orders.credit import credit_exposure
from bridge.sync.orders.delivery import delivery_settings
from bridge.sync.orders.mails import mail_settings

if TYPE_CHECKING:
    from bridge.carriers.rules import ShippingRules
    from bridge.rules.order_flow import OrderFlowRules

JOB = "customer_prices"
TARGET, ENTITY, OP = "cscart", "customer_price", "customer.price"
CUSTOMER_BINDING = ("cscart", "user", "smile", "customer")
PRODUCT_BINDING = ("cscart", "product", "smile", "product")
SETTINGS_ENTITY, SETTINGS_OP = "addon_settings", "addon.settings"
EXPOSURE_ENTITY, EXPOSURE_OP = "user_credit_exposure", "user.update"


async def exposure_payloads(tx: Any, users: dict[str, str]) -> dict[str, dict[str, Any]]:
    """CS-Cart user id → ``user.update`` of ``smile_credit_exposure`` for every bound customer (the customers job's
    ``credit_exposure``: one formula; this job sends it hourly, so the checkout's credit check follows new orders)."""
    exposure = await credit_exposure(tx)
    return {user_id: {"user_id": int(user_id),
                      "fields": {"smile_credit_exposure": money(exposure.get(code, Decimal(0)))}}
            for code, user_id in sorted(users.items(), key=lambda item: int(item[1]))}


def surcharge_settings(pricing: PricingRules) -> dict[str, Any]:
    """The ``addon.settings`` payload for the checkout's 直送 surcharge, from pricing.yaml."""
    rule = pricing.direct_ship
    return {"values": {"direct_ship_rate": f"{rule.surcharge_percent:f}",
                       "direct_ship_rounding": rule.rounding.mode.value,
                       "direct_ship_unit": f"{rule.rounding.unit:f}"}}


def pair_payloads(records: list[CustomerPrice], users: dict[str, str], products: dict[str, str], today: str
                  ) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """``user_id/product_id`` → the ``customer.price`` payload (full row set), and what could not be placed."""
    rows: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    skipped: list[str] = []
    for record in records:
        user_id, product_id = users.get(record.customer_code), products.get(record.product_code)
        if user_id is None or product_id is None:
            skipped.append(f"{record.customer_code}/{record.product_code}")
            continue
        if record.min_quantity != record.min_quantity.to_integral_value() or record.min_quantity < 1:
            skipped.append(f"{record.customer_code}/{record.product_code} (数量 {record.min_quantity})")
            continue
        valid_to = record.valid_to.isoformat() if record.valid_to else None
        if valid_to is not None and valid_to < today:
            continue
        rows[(int(user_id), int(product_id))].append({
            "min_quantity": int(record.min_quantity), "price": money(record.price),
            "valid_from": record.valid_from.isoformat() if record.valid_from else None, "valid_to": valid_to})
    payloads = {
        f"{user_id}/{product_id}": {"user_id": user_id, "product_id": product_id,
                                    "rows": sorted(pair, key=lambda r: (r["min_quantity"], r["valid_from"] or ""))}
        for (user_id, product_id), pair in sorted(rows.items())
    }
    return payloads, skipped


class CustomerPricesJob:
    name = JOB

    def __init__(self, *, cscart: CSCartClient, pricing: Callable[[], PricingRules],
                 shipping: Callable[[], ShippingRules | None], order_flow: Callable[[], OrderFlowRules],
                 delivery_fields: str, smile_input: SmileInput, store: Store, clock: Clock,
                 wake_dispatcher: Callable[[], None]) -> None:
        """``delivery_fields``: where the checkout's delivery date comes from (``orders.delivery_fields``);
        ``order_flow``: the cancelled letter the add-on's cancellation mail is for."""
        self.cscart, self.pricing, self.shipping, self.delivery_fields = cscart, pricing, shipping, delivery_fields
        self.order_flow = order_flow
        self.input, self.store, self.clock, self.wake_dispatcher = smile_input, store, clock, wake_dispatcher

    async def run(self, options: RunOptions) -> JobResult:
        started = time.perf_counter()
        result = JobResult()
        if not await self.cscart.addon_installed():
            result.notes.append(_("the smile_bridge add-on is not installed: CS-Cart has no customer prices to write"))
            return finish(JOB, result, options, started)
        pricing = self.pricing()
        async with self.store.transaction() as tx:
            users = {code: cid for cid, code in (await bindings.all_of(tx, *CUSTOMER_BINDING)).items()}
            for entity, op, desired_values in (
                    (SETTINGS_ENTITY, SETTINGS_OP, {"direct_ship": surcharge_settings(pricing),
                                                    "delivery": delivery_settings(self.shipping(),
                                                                                  self.delivery_fields),
                                                    "mails": mail_settings(self.shipping(), self.order_flow())}),
                    (EXPOSURE_ENTITY, EXPOSURE_OP, await exposure_payloads(tx, users))):
                side_plan = await plan.diff(tx, TARGET, entity, op, desired_values)
                result.plan += side_plan.describe(limit=3)
                if not options.dry_run:
                    result.enqueued += await plan.enqueue(tx, side_plan, self.clock.time())
        snapshot = await self.input.current(consume=True, dry_run=options.dry_run)
        result.notes.extend(snapshot.notes)
        if snapshot.result is None:
            if result.enqueued:
                self.wake_dispatcher()
            return finish(JOB, result, options, started)
        records: list[CustomerPrice] = snapshot.records
        result.read = len(records)
        today = self.clock.now().astimezone(JST).date().isoformat()
        async with self.store.transaction() as tx:
            products = {code: cid for cid, code in (await bindings.all_of(tx, *PRODUCT_BINDING)).items()}
            desired, skipped = pair_payloads(records, users, products, today)
            for key in set(await ledger.get_hashes(tx, TARGET, ENTITY)) - set(desired):
                user_id, product_id = (int(part) for part in key.split("/"))
                desired[key] = {"user_id": user_id, "product_id": product_id, "rows": []}  # gone from SMILE
            computed = await plan.diff(tx, TARGET, ENTITY, OP, desired)
            result.changed = len(computed.changes)
            result.plan += computed.describe(limit=10)
            if not options.dry_run:
                result.enqueued += await plan.enqueue(tx, computed, self.clock.time())
        if skipped:
            result.failed = len(skipped)
            result.notes.append(_("{count} row(s) without a bound customer or product, or a fractional quantity, not "
                                  "written: {rows}").format(count=len(skipped), rows=first(skipped)))
        if result.enqueued:
            self.wake_dispatcher()
        return finish(JOB, result, options, started)
