"""Which SMILE files were read, and what became of them (applied, refused, duplicate …)."""

from __future__ import annotations

from pathlib import Path

from bridge.store.db import Store


async def last_applied(store: Store, file_type: str) -> Path | None:
    """The archived copy of the newest applied file of ``file_type`` that is still on disk."""
    rows = await store.fetchall(
        "SELECT moved_to FROM smile_files WHERE file_type = ? AND outcome = 'applied' AND moved_to IS NOT NULL "
        "ORDER BY id DESC LIMIT 5", (file_type,))
    for row in rows:
        path = Path(row[0])
        if path.is_file():
            return path
    return None
