"""Customer credit, one formula for every job: SMILE's 与信限度額 and receivable per 得意先コード (recorded by the
customers job), plus the orders the bridge sent to SMILE that are not yet invoiced.

The orders job's credit check, the customers job and the add-on's checkout check (``smile_credit_exposure``, sent by
the customer_prices job) all read the exposure from here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from bridge.domain.orders import WorkflowState
from bridge.domain.time import iso
from bridge.store.db import Connection

# Orders SMILE has (or will have) as 受注 and has not invoiced yet: they count against the credit limit.
EXPOSURE_STATES = (WorkflowState.SHIPPING_INSTRUCTED, WorkflowState.SHIPPED, WorkflowState.NOTIFIED)


async def set_credit(tx: Connection, customer_code: str, credit_limit: Decimal | None,
                     receivable: Decimal = Decimal(0)) -> None:
    """Record a customer's SMILE 与信限度額 and receivable balance."""
    await tx.execute(
        "INSERT INTO customer_credit (customer_code, credit_limit, receivable, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (customer_code) DO UPDATE SET credit_limit = excluded.credit_limit, "
        "receivable = excluded.receivable, updated_at = excluded.updated_at",
        (customer_code, None if credit_limit is None else str(credit_limit), str(receivable),
         iso(datetime.now().astimezone())),
    )


async def record_credit_limits(tx: Connection, customers: Iterable[Any]) -> None:
    """SMILE 与信限度額 per customer (records with ``code`` and ``credit_limit``); the receivable already recorded
    stays."""
    receivable = {code: amount for code, (_, amount) in (await credit_limits(tx)).items()}
    for customer in customers:
        await set_credit(tx, customer.code, customer.credit_limit, receivable.get(customer.code, Decimal(0)))


async def credit_limits(tx: Connection) -> dict[str, tuple[Decimal | None, Decimal]]:
    """Per 得意先コード: (与信限度額 or None when SMILE gives none, receivable)."""
    cursor = await tx.execute("SELECT customer_code, credit_limit, receivable FROM customer_credit")
    return {row[0]: (Decimal(row[1]) if row[1] is not None else None, Decimal(row[2]))
            for row in await cursor.fetchall()}


async def credit_exposure(tx: Connection) -> dict[str, Decimal]:
    """Per 得意先コード: the receivable SMILE reported plus the totals of orders in ``EXPOSURE_STATES``."""
    totals: defaultdict[str, Decimal] = defaultdict(Decimal)
    for code, (_, receivable) in (await credit_limits(tx)).items():
        totals[code] += receivable
    marks = ",".join("?" for _ in EXPOSURE_STATES)
    cursor = await tx.execute(f"SELECT customer_code, total FROM orders WHERE workflow_state IN ({marks})",
                              [state.value for state in EXPOSURE_STATES])
    for code, total in await cursor.fetchall():
        if code:
            totals[code] += Decimal(total)
    return dict(totals)
