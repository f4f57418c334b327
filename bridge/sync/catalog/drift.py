"""Job ``drift`` (daily): find CS-Cart amounts someone changed by hand and put the bridge's value back.

The stock job only writes what differs from the ledger (what the bridge last wrote), so a hand edit in CS-Cart would
otherwise stay until SMILE's figure changes. This job reads CS-Cart's lean product listing once, compares each
product's amount with the ledger (``cscart/product_stock``), and for every difference: forgets the ledger entry,
enqueues the ledger's value again (``product.stock``) and reports the SKU (log, audit, job notes). SKUs with a write
still queued, in flight or dead are skipped: CS-Cart is expected to differ there until that write lands.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from bridge.cscart.client import CSCartClient
from bridge.domain.time import Clock
from bridge.i18n import Text, _
from bridge.store import Store, audit, ledger
from bridge.store import outbox as ob
from bridge.store.db import Connection
from bridge.sync.base import JobResult, RunOptions
from bridge.sync.catalog.stock import ENTITY, OP, TARGET
from bridge.sync.jobkit import finish

log = structlog.get_logger("bridge.sync.drift")

JOB = "drift"
SAMPLE = 20  # SKUs named in the log line and the audit entry


@dataclass(frozen=True, slots=True)
class Drift:
    code: str  # SMILE 商品コード (the ledger key)
    product_id: int
    expected: int  # what the bridge last wrote
    found: int | None  # what CS-Cart shows now; None = the product is gone from CS-Cart

    def __str__(self) -> str:  # the audit log's sample
        if self.found is None:
            return f"{self.code} (product {self.product_id}): no longer in CS-Cart"
        return f"{self.code} (product {self.product_id}): CS-Cart shows {self.found}, the bridge wrote {self.expected}"

    def text(self) -> Text:
        if self.found is None:
            return _("{code} (product {product_id}): no longer in CS-Cart").format(code=self.code,
                                                                                 product_id=self.product_id)
        return _("{code} (product {product_id}): CS-Cart shows {found}, the bridge wrote {expected}").format(
            code=self.code, product_id=self.product_id, found=self.found, expected=self.expected)


class DriftJob:
    name = JOB

    def __init__(self, *, cscart: CSCartClient, store: Store, clock: Clock,
                 wake_dispatcher: Callable[[], None]) -> None:
        self.cscart, self.store, self.clock, self.wake_dispatcher = cscart, store, clock, wake_dispatcher

    async def run(self, options: RunOptions) -> JobResult:
        started = time.perf_counter()
        client = self.cscart
        result = JobResult()
        async with self.store.transaction() as tx:
            written = await _written_amounts(tx)
        options.progress.start(_("drift: reading CS-Cart's product list"), len(written) or None)
        shown: dict[int, int] = {}
        async for product in client.iter_products():
            shown[product.product_id] = product.amount
            options.progress.advance(1)
        result.read = len(shown)
        async with self.store.transaction() as tx:
            busy = await _keys_with_open_writes(tx)
            drifted = [d for d in _compare(written, shown) if d.code not in busy]
            repairable = [d for d in drifted if d.found is not None]
            result.changed = len(drifted)
            result.plan = [d.text() for d in drifted[:SAMPLE]]
            if drifted and not options.dry_run:
                await ledger.forget(tx, TARGET, ENTITY, [d.code for d in repairable])
                ops = [ob.NewOp(TARGET, OP, ENTITY, d.code, {"product_id": d.product_id, "amount": d.expected})
                       for d in repairable]
                result.enqueued = await ob.enqueue(tx, ops, self.clock.time())
                await audit.write(tx, "bridge", "stock.drift", None,
                                  {"drifted": len(drifted), "rewritten": len(repairable),
                                   "sample": [str(d) for d in drifted[:SAMPLE]]})
        gone = len(drifted) - len(repairable)
        if drifted:
            result.notes.append(
                _("{count} SKU(s) differ from what the bridge wrote (dry run: nothing re-written)").format(
                    count=len(drifted)) if options.dry_run else
                _("{count} SKU(s) differ from what the bridge wrote; {rewritten} written again").format(
                    count=len(drifted), rewritten=len(repairable)))
            if gone:
                result.notes.append(_("{count} bound product(s) are no longer in CS-Cart; the products job decides "
                                      "whether to create them again").format(count=gone))
            result.notes.extend(d.text() for d in drifted[:SAMPLE])
            log.warning("drift.found", drifted=len(drifted), rewritten=0 if options.dry_run else len(repairable),
                        sample=[d.code for d in drifted[:SAMPLE]])
        if result.enqueued:
            self.wake_dispatcher()
        return finish(JOB, result, options, started, drifted=result.changed)


async def _written_amounts(tx: Connection) -> dict[str, tuple[int, int]]:
    """Ledger key (商品コード) → (product_id, amount) the bridge last wrote."""
    return {key: (int(value["product_id"]), int(value["amount"]))
            for key, value in (await ledger.values(tx, TARGET, ENTITY)).items()}


async def _keys_with_open_writes(tx: Connection) -> set[str]:
    return await ob.keys_in(tx, TARGET, ENTITY, (ob.PENDING, ob.IN_FLIGHT, ob.DEAD))


def _compare(written: dict[str, tuple[int, int]], shown: dict[int, int]) -> list[Drift]:
    drifted = []
    for code, (product_id, expected) in sorted(written.items()):
        found = shown.get(product_id)
        if found != expected:
            drifted.append(Drift(code, product_id, expected, found))
    return drifted
