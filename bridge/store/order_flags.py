"""Staff flags on orders (``bridge orders list --flagged``): one open flag per order and kind, closed when the
cause is gone."""

from __future__ import annotations

from bridge.store.db import Connection


async def open_flag(tx: Connection, order_id: int, kind: str, detail: str, at: str) -> bool:
    """Open a ``kind`` flag on the order; False when one is open already (its first detail stays)."""
    cursor = await tx.execute(
        "INSERT INTO order_flags (order_id, kind, detail, at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (order_id, kind) WHERE resolved_at IS NULL DO NOTHING",
        (order_id, kind, detail, at),
    )
    return bool(cursor.rowcount)


async def resolve(tx: Connection, order_id: int, kind: str, at: str) -> None:
    await tx.execute("UPDATE order_flags SET resolved_at = ? WHERE order_id = ? AND kind = ? AND resolved_at IS NULL",
                     (at, order_id, kind))


async def resolve_all_but(tx: Connection, kind: str, keep: set[int], at: str) -> None:
    """Close the open ``kind`` flags of every order not in ``keep``."""
    cursor = await tx.execute("SELECT order_id FROM order_flags WHERE kind = ? AND resolved_at IS NULL", (kind,))
    gone = [row[0] for row in await cursor.fetchall() if row[0] not in keep]
    await tx.executemany("UPDATE order_flags SET resolved_at = ? WHERE order_id = ? AND kind = ? AND resolved_at "
                         "IS NULL", [(at, order_id, kind) for order_id in gone])


async def open_of_kind(tx: Connection, kind: str) -> list[int]:
    """Orders with an open flag of ``kind``."""
    cursor = await tx.execute("SELECT order_id FROM order_flags WHERE kind = ? AND resolved_at IS NULL ORDER BY order_id",
                              (kind,))
    return [int(row[0]) for row in await cursor.fetchall()]


async def of_order(tx: Connection, order_id: int) -> list[tuple[str, str, str, str | None]]:
    """(kind, detail, at, resolved_at) of every flag the order ever had, oldest first."""
    cursor = await tx.execute(
        "SELECT kind, detail, at, resolved_at FROM order_flags WHERE order_id = ? ORDER BY id", (order_id,))
    return [(row[0], row[1], row[2], row[3]) for row in await cursor.fetchall()]
