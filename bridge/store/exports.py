"""受注 export batches: each file recorded (with its bytes) before it is written, marked written after, and each
order's live export (at most one per kind), superseded when the order is sent again."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from bridge.domain.time import iso, utcnow
from bridge.store.db import Connection, Store


def checksum(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@dataclass(frozen=True, slots=True)
class ExportBatch:
    """One 受注 (``order``) or 赤伝 (``cancel``) file: made by the orders job (``of``), recorded with its bytes
    (``record``), read back by ``pending`` when a crash came before it was marked written."""

    batch_id: str
    kind: str
    file_name: str
    order_ids: tuple[int, ...]
    rows: int
    content: bytes
    checksum: str  # of ``content``, as recorded: a final file with it is complete

    @classmethod
    def of(cls, batch_id: str, kind: str, file_name: str, order_ids: tuple[int, ...], rows: int,
           content: bytes) -> ExportBatch:
        return cls(batch_id, kind, file_name, order_ids, rows, content, checksum(content))


async def next_batch_id(tx: Connection, kind: str) -> str:
    cursor = await tx.execute("SELECT COUNT(*) FROM order_export_batches")
    row = await cursor.fetchone()
    return f"{'C' if kind == 'cancel' else 'O'}{(row[0] if row else 0) + 1:06d}"


async def record(tx: Connection, batch: ExportBatch) -> None:
    """Inside the transaction that moves the orders: the batch and each order's binding to it."""
    stamp = iso(utcnow())
    await tx.execute(
        "INSERT INTO order_export_batches (batch_id, kind, file_name, state, order_ids, rows, checksum, content, "
        "created_at) VALUES (?, ?, ?, 'writing', ?, ?, ?, ?, ?)",
        (batch.batch_id, batch.kind, batch.file_name, json.dumps(list(batch.order_ids)), batch.rows, batch.checksum,
         batch.content, stamp),
    )
    await tx.executemany(
        "INSERT INTO order_exports (order_id, kind, batch_id, exported_at) VALUES (?, ?, ?, ?)",
        [(order_id, batch.kind, batch.batch_id, stamp) for order_id in batch.order_ids],
    )


async def live_export(tx: Connection, order_id: int, kind: str = "order") -> str | None:
    cursor = await tx.execute(
        "SELECT batch_id FROM order_exports WHERE order_id = ? AND kind = ? AND superseded_at IS NULL",
        (order_id, kind),
    )
    row = await cursor.fetchone()
    return None if row is None else str(row[0])


async def supersede(tx: Connection, order_id: int, reason: str, kind: str = "order") -> None:
    await tx.execute(
        "UPDATE order_exports SET superseded_at = ?, superseded_reason = ? WHERE order_id = ? AND kind = ? "
        "AND superseded_at IS NULL",
        (iso(utcnow()), reason, order_id, kind),
    )


async def mark_written(tx: Connection, batch_id: str) -> None:
    await tx.execute(
        "UPDATE order_export_batches SET state = 'written', written_at = ?, content = NULL WHERE batch_id = ? "
        "AND state = 'writing'",
        (iso(utcnow()), batch_id),
    )


async def pending(store: Store) -> list[ExportBatch]:
    """Batches recorded but not yet marked written (a crash came between): finished at the next start."""
    rows = await store.fetchall(
        "SELECT batch_id, kind, file_name, order_ids, rows, checksum, content FROM order_export_batches "
        "WHERE state = 'writing' ORDER BY batch_id"
    )
    return [ExportBatch(r["batch_id"], r["kind"], r["file_name"], tuple(json.loads(r["order_ids"])), int(r["rows"]),
                        bytes(r["content"]), r["checksum"]) for r in rows]


async def unconfirmed(tx: Connection, cutoff: str) -> list[int]:
    """Orders with a live 受注 export made at or before ``cutoff`` that SMILE has not confirmed (not cancelled)."""
    cursor = await tx.execute(
        "SELECT e.order_id FROM order_exports e JOIN orders o ON o.order_id = e.order_id "
        "WHERE e.kind = 'order' AND e.superseded_at IS NULL AND o.confirmed_at IS NULL AND e.exported_at <= ? "
        "AND o.workflow_state != 'cancelled' ORDER BY e.order_id",
        (cutoff,),
    )
    return [row[0] for row in await cursor.fetchall()]
