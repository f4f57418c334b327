"""Customer credit, one formula for every job: SMILE's 与信限度額 and receivable per 得意先コード (recorded by the
customers job), plus the orders the bridge sent to SMILE that are not yet invoiced.

The orders job's credit check, the customers job and the add-on's checkout check (``smile_credit_exposure``, sent by
the customer_prices job) all read the exposure from here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from bridge.domain.orders import WorkflowState
from bridge.store import credit as credit_store
from bridge.store import orders as mirror
from bridge.store.db import Connection

# Orders SMILE has (or will have) as 受注 and has not invoiced yet: they count against the credit limit.
EXPOSURE_STATES = (WorkflowState.SHIPPING_INSTRUCTED, WorkflowState.SHIPPED, WorkflowState.NOTIFIED)


async def set_credit(tx: Connection, customer_code: str, credit_limit: Decimal | None,
                     receivable: Decimal = Decimal(0)) -> None:
    """Record a customer's SMILE 与信限度額 and receivable balance."""
    await credit_store.upsert(tx, customer_code, credit_limit, receivable)


async def record_credit_limits(tx: Connection, customers: Iterable[Any]) -> None:
    """SMILE 与信限度額 per customer (records with ``code`` and ``credit_limit``); the receivable already recorded
    stays."""
    receivable = {code: amount for code, (_, amount) in (await credit_limits(tx)).items()}
    for customer in customers:
        await set_credit(tx, customer.code, customer.credit_limit, receivable.get(customer.code, Decimal(0)))


async def credit_limits(tx: Connection) -> dict[str, tuple[Decimal | None, Decimal]]:
    """Per 得意先コード: (与信限度額 or None when SMILE gives none, receivable)."""
    return await credit_store.all_limits(tx)


async def credit_exposure(tx: Connection) -> dict[str, Decimal]:
    """Per 得意先コード: the receivable SMILE reported plus the totals of orders in ``EXPOSURE_STATES``."""
    totals: defaultdict[str, Decimal] = defaultdict(Decimal)
    for code, (_, receivable) in (await credit_limits(tx)).items():
        totals[code] += receivable
    for code, total in await mirror.exposure_totals(tx, EXPOSURE_STATES):
        totals[code] += total
    return dict(totals)
