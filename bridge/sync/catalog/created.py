"""What a CS-Cart create op leaves behind: the binding and the ledger entry, written in one store transaction.

The CS-Cart sink calls ``recorder(store)`` with the create op and the new (or adopted) id *before* the dispatcher
marks the op done, so a crash afterwards leaves a binding and a retry never creates a twin. The ledger entry is the
update-shaped payload the next run computes (``{"product_id": …, "fields": …}``), so an unchanged record is not
written again; create ops are enqueued with ``track_ledger=False`` for that reason.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bridge.store import Store, bindings, ledger
from bridge.store.outbox import OutboxOp
from bridge.sync.catalog import index as catalog_index

CSCART = "cscart"
USER, CUSTOMER = "user", "customer"


def product_update_payload(product_id: int, fields: dict[str, Any]) -> dict[str, Any]:
    return {"product_id": int(product_id), "fields": fields}


def user_update_payload(user_id: int, fields: dict[str, Any]) -> dict[str, Any]:
    return {"user_id": int(user_id), "fields": fields}


async def bind_customer(tx: Any, code: str, user_id: int) -> None:
    await bindings.bind(tx, CSCART, USER, str(int(user_id)), "smile", CUSTOMER, code)


async def bound_customers(tx: Any) -> dict[str, int]:
    """得意先コード → CS-Cart user_id."""
    pairs = await bindings.all_of(tx, CSCART, USER, "smile", CUSTOMER)
    return {code: int(user_id) for user_id, code in pairs.items()}


def recorder(store: Store) -> Callable[[OutboxOp, int], Awaitable[None]]:
    async def record(op: OutboxOp, remote_id: int) -> None:
        payload = op.payload
        async with store.transaction() as tx:
            if op.op == "product.create":
                code = str(payload["product_code"])
                await catalog_index.bind_created(tx, code, remote_id)
                value = product_update_payload(remote_id, dict(payload["fields"]))
            elif op.op == "user.create":
                code = str(payload["customer_code"])
                await bind_customer(tx, code, remote_id)
                value = user_update_payload(remote_id, dict(payload["fields"]))
                if payload.get("usergroup_id") is not None:  # linked by the sink with the account
                    group_id = int(payload["usergroup_id"])
                    link = {"user_id": int(remote_id), "usergroup_id": group_id, "status": "A"}
                    await ledger.record(tx, op.target, "usergroup_link", f"{code}/{group_id}",
                                        ledger.canonical_json(link), ledger.value_hash(link))
            else:
                raise ValueError(f"op {op.id}: {op.op} is not a create op")
            await ledger.record(tx, op.target, op.entity, op.key, ledger.canonical_json(value),
                                ledger.value_hash(value))

    return record
