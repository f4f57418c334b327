"""Per-job resume points."""

from __future__ import annotations

from bridge.domain.time import iso, utcnow
from bridge.store.db import Connection, Store


async def get(tx: Connection, name: str) -> str | None:
    cursor = await tx.execute("SELECT value FROM cursors WHERE name = ?", (name,))
    row = await cursor.fetchone()
    return None if row is None else str(row[0])


async def set_(tx: Connection, name: str, value: str) -> None:
    await tx.execute(
        "INSERT INTO cursors (name, value, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        (name, value, iso(utcnow())),
    )


async def read(store: Store, name: str) -> str | None:
    """A cursor read outside a transaction (a source reads it before it fetches from the network)."""
    row = await store.fetchone("SELECT value FROM cursors WHERE name = ?", (name,))
    return None if row is None else str(row[0])
