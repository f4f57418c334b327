"""Returns (返品) the bridge has handled (``returns``) and the 返品 files it writes (``return_batches``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bridge.store.db import Connection

SLIPPED, HELD, EMPTY = "slipped", "held", "empty"


@dataclass(frozen=True, slots=True)
class ReturnRow:
    return_id: int
    order_id: int
    cs_status: str
    state: str
    lines: list[dict[str, Any]]
    amount: Decimal
    batch_id: str | None
    note: str
    requested_at: str
    updated_at: str
    file_name: str | None = None


def _row(row: Any) -> ReturnRow:
    return ReturnRow(int(row[0]), int(row[1]), str(row[2]), str(row[3]), json.loads(row[4]), Decimal(row[5]),
                     row[6], str(row[7]), str(row[8]), str(row[9]), row[10] if len(row) > 10 else None)


_SELECT = ("SELECT r.return_id, r.order_id, r.cs_status, r.state, r.lines, r.amount, r.batch_id, r.note, "
           "r.requested_at, r.updated_at, b.file_name FROM returns AS r "
           "LEFT JOIN return_batches AS b ON b.batch_id = r.batch_id")


async def settled_ids(tx: Connection) -> set[int]:
    """Returns that need nothing more (slipped, or nothing accepted); held ones are looked at again."""
    cursor = await tx.execute("SELECT return_id FROM returns WHERE state != ?", (HELD,))
    return {int(row[0]) for row in await cursor.fetchall()}


async def save(tx: Connection, row: ReturnRow) -> None:
    await tx.execute(
        "INSERT INTO returns (return_id, order_id, cs_status, state, lines, amount, batch_id, note, requested_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (return_id) DO UPDATE SET "
        "cs_status = excluded.cs_status, state = excluded.state, lines = excluded.lines, amount = excluded.amount, "
        "batch_id = excluded.batch_id, note = excluded.note, updated_at = excluded.updated_at",
        (row.return_id, row.order_id, row.cs_status, row.state, json.dumps(row.lines, ensure_ascii=False),
         str(row.amount), row.batch_id, row.note, row.requested_at, row.updated_at))


async def of_order(tx: Connection, order_id: int) -> list[ReturnRow]:
    cursor = await tx.execute(_SELECT + " WHERE r.order_id = ? ORDER BY r.return_id", (order_id,))
    return [_row(row) for row in await cursor.fetchall()]


async def get(tx: Connection, return_id: int) -> ReturnRow | None:
    cursor = await tx.execute(_SELECT + " WHERE r.return_id = ?", (return_id,))
    row = await cursor.fetchone()
    return _row(row) if row else None


async def next_batch_id(tx: Connection) -> str:
    cursor = await tx.execute("SELECT COUNT(*) FROM return_batches")
    row = await cursor.fetchone()
    return f"R{(row[0] if row else 0) + 1:06d}"


async def record_batch(tx: Connection, batch_id: str, file_name: str, content: bytes, at: str) -> None:
    await tx.execute("INSERT INTO return_batches (batch_id, file_name, state, content, created_at) "
                     "VALUES (?, ?, 'writing', ?, ?)", (batch_id, file_name, content, at))


async def unwritten_batches(tx: Connection) -> list[tuple[str, str, bytes]]:
    """(batch_id, file_name, content) recorded but not yet written (a crash in between)."""
    cursor = await tx.execute("SELECT batch_id, file_name, content FROM return_batches WHERE state = 'writing' "
                              "ORDER BY batch_id")
    return [(str(row[0]), str(row[1]), bytes(row[2])) for row in await cursor.fetchall()]


async def mark_written(tx: Connection, batch_id: str, at: str) -> None:
    await tx.execute("UPDATE return_batches SET state = 'written', written_at = ? WHERE batch_id = ?", (at, batch_id))
