"""An order whose only problem is a product the catalog has not bound *yet* waits in 受注 instead of going to 保留.

A hold writes a status to CS-Cart and may mail the customer; when the binding is merely late (the stock or products
job failing for a while, CS-Cart slow), the next catalog run binds the product and the order goes straight to
出荷指示. The order waits while no catalog job (``stock`` or ``products``, which bind products by code) has succeeded
since it was placed, for at most ``orders.unbound_product_wait_seconds``; after that, or once a catalog run has
passed without binding it, it is held as unknown. Where no catalog job has ever succeeded (a fresh install, a CLI
run) there is nothing to wait for and it is held at once.
"""

from __future__ import annotations

from datetime import datetime

from bridge.domain.time import parse_iso
from bridge.rules.order_flow import Flag, GateDecision
from bridge.store.db import Connection

CATALOG_JOBS = ("stock", "products")


async def last_catalog_success(tx: Connection) -> datetime | None:
    marks = ",".join("?" for _ in CATALOG_JOBS)
    cursor = await tx.execute(f"SELECT MAX(last_success_at) FROM job_state WHERE job IN ({marks})", CATALOG_JOBS)
    row = await cursor.fetchone()
    return parse_iso(row[0]) if row and row[0] else None


def waits_for_binding(decision: GateDecision, placed_at: datetime, catalog_success: datetime | None,
                      now: datetime, wait_seconds: float) -> bool:
    """Whether a held decision should rather wait (see the module doc)."""
    if not decision.held or Flag.UNKNOWN_PRODUCT not in decision.flags:
        return False
    if len(decision.reasons) != 1:  # held for something else as well: the hold is due anyway
        return False
    if catalog_success is None or catalog_success >= placed_at:
        return False
    return (now - placed_at).total_seconds() < wait_seconds
