"""Customer credit, one formula for every job: SMILE's 与信限度額 and 売掛残 per 得意先コード (recorded by the
customers job from the 得意先マスター, with the date of its file), plus the unpaid orders not yet in that figure.

The orders job's credit check, the customers job and the add-on's checkout check (``smile_credit_exposure``, sent by
the customer_prices job) all read the exposure from here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from bridge.domain.orders import PaymentState, WorkflowState
from bridge.domain.time import iso
from bridge.store import credit as credit_store
from bridge.store import orders as mirror
from bridge.store.db import Connection

# Orders SMILE has (or will have) as 受注 although the bridge has no export row for them (mirrored in these states
# before the bridge recorded exports): they count like exported ones.
EXPOSURE_STATES = (WorkflowState.SHIPPING_INSTRUCTED, WorkflowState.SHIPPED, WorkflowState.NOTIFIED)
# Orders still waiting for the gates: the checkout figure counts them (a new order comes after them).
WAITING_STATES = (WorkflowState.RECEIVED, WorkflowState.HOLD)
# Paid or card-authorised orders are no receivable.
NOT_RECEIVABLE = frozenset({PaymentState.PAID.value, PaymentState.AUTHORISED.value})


async def set_credit(tx: Connection, customer_code: str, credit_limit: Decimal | None,
                     receivable: Decimal = Decimal(0), as_of: datetime | str | None = None) -> None:
    """Record a customer's SMILE 与信限度額 and receivable balance (``as_of`` = the date of SMILE's figure)."""
    await credit_store.upsert(tx, customer_code, credit_limit, receivable,
                              iso(as_of) if isinstance(as_of, datetime) else as_of)


async def record_credit_limits(tx: Connection, customers: Iterable[Any], as_of: datetime | None = None) -> None:
    """SMILE 与信限度額 per customer (records with ``code`` and ``credit_limit``) and, when the 得意先マスター carries
    it (``receivable`` not None), the 売掛残 as of ``as_of`` (the file's date); otherwise the receivable already
    recorded stays."""
    known = await credit_store.all_credit(tx)
    for customer in customers:
        receivable = getattr(customer, "receivable", None)
        if receivable is None:
            _, before, before_as_of = known.get(customer.code, (None, Decimal(0), None))
            await set_credit(tx, customer.code, customer.credit_limit, before, before_as_of)
        else:
            await set_credit(tx, customer.code, customer.credit_limit, receivable, as_of)


async def credit_limits(tx: Connection) -> dict[str, tuple[Decimal | None, Decimal]]:
    """Per 得意先コード: (与信限度額 or None when SMILE gives none, receivable)."""
    return await credit_store.all_limits(tx)


async def credit_exposure(tx: Connection, *, waiting: bool = True,
                          customers: Collection[str] | None = None) -> dict[str, Decimal]:
    """Per 得意先コード: SMILE's 売掛残 at its file date plus every unpaid order not in that figure yet.

    An order is in SMILE's figure once it was exported to SMILE at or before the date of the file the 売掛残 came
    from; until then it counts, whatever its state (shipped, notified, 完了: it is unpaid until SMILE's 入金). Cancelled
    orders and paid or card-authorised ones never count. ``waiting`` also counts the orders still before the gates
    (受注, 保留): the add-on's checkout figure does; the orders gate does not (it adds the orders it releases, one by
    one, so one held order does not hold the next). ``customers``: only these 得意先コード (the orders gate asks
    for the customers of the orders it gates that have a 与信限度額: a burst does not re-read every open order)."""
    found = await credit_store.all_credit(tx)
    totals: defaultdict[str, Decimal] = defaultdict(Decimal)
    for code, (_, receivable, _) in found.items():
        if customers is None or code in customers:
            totals[code] += receivable
    states = (*EXPOSURE_STATES, *(WAITING_STATES if waiting else ()))
    wanted = None if customers is None else list(customers)
    for code, total, exported_at, payment in await mirror.receivable_orders(tx, states, wanted):
        if payment in NOT_RECEIVABLE:
            continue
        as_of = found.get(code, (None, Decimal(0), None))[2]
        if exported_at and as_of and datetime.fromisoformat(exported_at) <= datetime.fromisoformat(as_of):
            continue  # in SMILE's 売掛残 already
        totals[code] += total
    return dict(totals)
