"""Hand work in CS-Cart: staff set 出荷済, 出荷通知済 or 完了 themselves. Before the orders job decides (pure,
``workflow.hand_set``), it looks up the tracking numbers of the CS-Cart shipments of exactly those orders — the ones
whose letter now lies ahead of the mirror — outside the store transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from bridge.domain.orders import Order, WorkflowState
from bridge.rules.order_flow import OrderFlowRules
from bridge.store import order_flags
from bridge.store import orders as mirror
from bridge.store.db import Store

S = WorkflowState
SHIPPED_BY_HAND = "shipped_by_hand"  # the flag of a hand-set 出荷済 without a tracking number
_AHEAD = {S.SHIPPED, S.NOTIFIED, S.COMPLETE}
_BEFORE_SHIPPED = {S.RECEIVED, S.HOLD, S.SHIPPING_INSTRUCTED}


class ShipmentLister(Protocol):
    async def list_shipments(self, order_id: int) -> list[dict[str, Any]]: ...


async def tracking_for_run(client: ShipmentLister, store: Store, flow: OrderFlowRules,
                           orders: Iterable[Order]) -> dict[int, tuple[str, ...]]:
    """order_id → the tracking numbers of its CS-Cart shipments, for orders whose CS-Cart letter says 出荷済 or
    later while the mirror is still before 出荷済."""
    ahead = {order.order_id for order in orders if flow.state_for_letter(order.status) in _AHEAD}
    async with store.transaction() as tx:
        ahead |= set(await order_flags.open_of_kind(tx, SHIPPED_BY_HAND))  # a tracking number may have come since
        if not ahead:
            return {}
        states = await mirror.states_of(tx, sorted(ahead))
    found: dict[int, tuple[str, ...]] = {}
    for order_id, state in sorted(states.items()):
        if state not in _BEFORE_SHIPPED:
            continue
        rows = await client.list_shipments(order_id)
        found[order_id] = tuple(str(row.get("tracking_number") or "").strip() for row in rows
                                if str(row.get("tracking_number") or "").strip())
    return found

