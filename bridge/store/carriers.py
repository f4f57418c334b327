"""Carrier label files (recorded with their bytes before they are written, like 受注 batches), which order is on
which label, and the shipments imported from result files."""

from __future__ import annotations

import json
from typing import Any

from bridge.store.db import Connection, Store


async def free_label_name(tx: Connection, file_name: str) -> str:
    """``file_name``, or with -1, -2 … before its suffix when a recorded label file has that name already."""
    name, counter = file_name, 1
    stem, dot, suffix = file_name.rpartition(".")
    while await (await tx.execute("SELECT 1 FROM carrier_label_files WHERE file_name = ?", (name,))).fetchone():
        name = f"{stem}-{counter}{dot}{suffix}" if dot else f"{file_name}-{counter}"
        counter += 1
    return name


async def record_label_file(tx: Connection, name: str, carrier: str, directory: str, order_ids: tuple[int, ...],
                            checksum: str, content: bytes, at: str) -> None:
    """The file (state ``writing``, with its bytes) and each order's label, in the run's transaction."""
    await tx.execute(
        "INSERT INTO carrier_label_files (file_name, carrier, directory, state, order_ids, checksum, content, "
        "created_at) VALUES (?, ?, ?, 'writing', ?, ?, ?, ?)",
        (name, carrier, directory, json.dumps(list(order_ids)), checksum, content, at),
    )
    await tx.executemany(
        "INSERT INTO carrier_labels (order_id, carrier, file_name, exported_at) VALUES (?, ?, ?, ?)",
        [(order_id, carrier, name, at) for order_id in order_ids],
    )


async def unwritten_label_files(store: Store) -> list[tuple[str, str, bytes, str]]:
    """(file name, directory, content, checksum) of label files recorded but not yet written, oldest first."""
    rows = await store.fetchall(
        "SELECT file_name, directory, content, checksum FROM carrier_label_files WHERE state = 'writing' "
        "ORDER BY created_at, file_name")
    return [(row[0], row[1], bytes(row[2]), row[3]) for row in rows]


async def mark_label_file_written(tx: Connection, name: str, at: str) -> None:
    await tx.execute("UPDATE carrier_label_files SET state = 'written', content = NULL, written_at = ? "
                     "WHERE file_name = ?", (at, name))


async def shipments_of(tx: Connection, order_id: int) -> list[tuple[str, dict[str, Any]]]:
    """(tracking number, items: CS-Cart item id → quantity) of each shipment imported for the order."""
    cursor = await tx.execute("SELECT tracking_number, items FROM carrier_shipments WHERE order_id = ? ORDER BY id",
                              (order_id,))
    return [(row[0], json.loads(row[1])) for row in await cursor.fetchall()]


async def record_shipment(tx: Connection, order_id: int, carrier: str, tracking_number: str, shipped_at: str,
                          items: dict[str, str], source: str, at: str, shop: dict[str, str] | None = None) -> None:
    """One parcel; ``shop`` = the result file's shop_code / shop_name / shop_tel (kept with the parcel)."""
    await tx.execute(
        "INSERT INTO carrier_shipments (order_id, carrier, tracking_number, shipped_at, items, source, "
        "imported_at, shop) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (order_id, carrier, tracking_number, shipped_at, json.dumps(items, sort_keys=True), source, at,
         json.dumps(shop, ensure_ascii=False, sort_keys=True) if shop else None),
    )
