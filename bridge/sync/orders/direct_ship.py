"""The products' 直送可 flag (the add-on's ``smile_direct_ship_allowed`` column on CS-Cart products), read for the
orders the 直送 gate is about to judge.

Staff set the flag on the product page in CS-Cart (or the daemon writes it); the gate in ``rules/order_flow.yaml``
(``gating.direct_ship.products: flagged | flagged_or_listed``) needs it for every line of a 直送 order. It is read
once per run, for the products of the 直送 orders still waiting for the gate, with one lean product listing
(``pid=…``), outside the store transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from bridge.domain.orders import Order
from bridge.rules.order_flow import OrderFlowRules
from bridge.store import orders as mirror
from bridge.store.db import Store

FLAG_COLUMN = "smile_direct_ship_allowed"
PAGE = 100  # product ids per listing request


class ProductLister(Protocol):
    async def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None) -> Any: ...


def needs_flags(flow: OrderFlowRules) -> bool:
    """Whether the 直送 gate looks at the CS-Cart flag at all."""
    gate = flow.gating.direct_ship
    return gate.enabled and gate.products in ("flagged", "flagged_or_listed")


def product_ids(orders: Iterable[Order]) -> set[int]:
    return {line.product_id for order in orders if order.direct_ship for line in order.lines if line.product_id}


async def open_direct_ship_orders(store: Store) -> list[Order]:
    """直送 orders of the mirror that the gate still judges (受注 or 保留, not exported)."""
    async with store.transaction() as tx:
        ids = await mirror.open_direct_ship_ids(tx)
        found = await mirror.get_many(tx, ids) if ids else {}
    return [entry.order for entry in found.values()]


async def flagged_codes(client: ProductLister, ids: Iterable[int]) -> frozenset[str]:
    """商品コード of the given CS-Cart products whose 直送可 flag is ``Y``."""
    wanted = sorted(set(ids))
    flagged: set[str] = set()
    for start in range(0, len(wanted), PAGE):
        chunk = wanted[start:start + PAGE]
        body = await client.request("GET", "products", params={
            "pid": ",".join(map(str, chunk)), "items_per_page": len(chunk), "page": 1,
        })
        rows = body.get("products", []) if isinstance(body, Mapping) else []
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, Mapping) and str(row.get(FLAG_COLUMN) or "N").upper() == "Y":
                flagged.add(str(row.get("product_code") or ""))
    flagged.discard("")
    return frozenset(flagged)


async def flags_for_run(client: ProductLister, store: Store, flow: OrderFlowRules,
                        arriving: Iterable[Order]) -> frozenset[str]:
    """The flagged 商品コード among the products of this run's 直送 orders (arriving and waiting in the mirror)."""
    if not needs_flags(flow):
        return frozenset()
    ids = product_ids(arriving) | product_ids(await open_direct_ship_orders(store))
    if not ids:
        return frozenset()
    return await flagged_codes(client, ids)
