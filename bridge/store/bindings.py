"""Bindings: identity links between systems (CS-Cart product_id ↔ SMILE 商品コード, order_id ↔ 伝票番号 …)."""

from __future__ import annotations

from bridge.domain.time import iso, utcnow
from bridge.store.db import Connection


async def bind(
    tx: Connection, system_a: str, entity_a: str, id_a: str, system_b: str, entity_b: str, id_b: str
) -> None:
    """Link two ids; re-binding the same pair is a no-op, a conflicting link raises ``sqlite3.IntegrityError``."""
    await tx.execute(
        "INSERT INTO bindings (system_a, entity_a, id_a, system_b, entity_b, id_b, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (system_a, entity_a, id_a, system_b, entity_b) "
        "DO UPDATE SET id_b = excluded.id_b WHERE id_b = excluded.id_b",
        (system_a, entity_a, str(id_a), system_b, entity_b, str(id_b), iso(utcnow())),
    )
    cursor = await tx.execute(
        "SELECT id_b FROM bindings WHERE system_a = ? AND entity_a = ? AND id_a = ? AND system_b = ? AND entity_b = ?",
        (system_a, entity_a, str(id_a), system_b, entity_b),
    )
    row = await cursor.fetchone()
    if row is not None and row[0] != str(id_b):
        import sqlite3

        raise sqlite3.IntegrityError(
            f"{system_a} {entity_a} {id_a} is already bound to {system_b} {entity_b} {row[0]}, not {id_b}"
        )


async def lookup(tx: Connection, system_a: str, entity_a: str, id_a: str, system_b: str, entity_b: str) -> str | None:
    return await _one_id(tx, "SELECT id_b FROM bindings WHERE system_a = ? AND entity_a = ? AND id_a = ? "
                             "AND system_b = ? AND entity_b = ?", (system_a, entity_a, str(id_a), system_b, entity_b))


async def reverse(tx: Connection, system_b: str, entity_b: str, id_b: str, system_a: str, entity_a: str) -> str | None:
    return await _one_id(tx, "SELECT id_a FROM bindings WHERE system_b = ? AND entity_b = ? AND id_b = ? "
                             "AND system_a = ? AND entity_a = ?", (system_b, entity_b, str(id_b), system_a, entity_a))


async def _one_id(tx: Connection, sql: str, params: tuple[str, ...]) -> str | None:
    row = await (await tx.execute(sql, params)).fetchone()
    return None if row is None else str(row[0])


async def all_of(tx: Connection, system_a: str, entity_a: str, system_b: str, entity_b: str) -> dict[str, str]:
    cursor = await tx.execute(
        "SELECT id_a, id_b FROM bindings WHERE system_a = ? AND entity_a = ? AND system_b = ? AND entity_b = ?",
        (system_a, entity_a, system_b, entity_b),
    )
    return {row[0]: row[1] for row in await cursor.fetchall()}
