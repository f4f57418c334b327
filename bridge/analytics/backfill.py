"""``bridge analytics backfill``: build the analytics store of an existing installation from the orders mirror
(state store) and the SMILE files the bridge archived (``smile_files`` rows with outcome ``applied``), through the
same feed functions the jobs call. Safe to run again: every writer is idempotent."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bridge.analytics import feed
from bridge.analytics.store import AnalyticsStore
from bridge.domain.time import JST, UTC
from bridge.i18n import _

SNAPSHOT_TYPES: dict[str, Callable[[AnalyticsStore, Any, date], int]] = {
    "products": feed.products, "customers": feed.customers, "stock": feed.stock}


@dataclass(slots=True)
class BackfillResult:
    orders: feed.FeedResult = field(default_factory=feed.FeedResult)
    files: dict[str, int] = field(default_factory=dict)  # file type → files fed
    rows: dict[str, int] = field(default_factory=dict)  # file type → rows written (changes only for stock)
    missing: list[str] = field(default_factory=list)  # archived files no longer on disk
    refused: list[str] = field(default_factory=list)  # files that do not read cleanly with today's layouts

    def lines(self) -> list[str]:
        out = [f"orders mirror: {self.orders}"]
        for kind in SNAPSHOT_TYPES:
            out.append(f"{kind}: {self.files.get(kind, 0)} archived file(s), {self.rows.get(kind, 0)} row(s) stored")
        out += [f"missing (archived file gone): {name}" for name in self.missing[:20]]
        out += [f"not read: {name}" for name in self.refused[:20]]
        return out


def archived_files(state_path: Path) -> list[tuple[str, Path, datetime]]:
    """(file type, archived path, processed at) of every applied SMILE file, oldest first."""
    connection = sqlite3.connect(f"file:{state_path}?mode=ro", uri=True, timeout=30)
    try:
        marks = ",".join("?" for _ in SNAPSHOT_TYPES)
        rows = connection.execute(
            f"SELECT file_type, moved_to, processed_at FROM smile_files WHERE outcome = 'applied' "
            f"AND moved_to IS NOT NULL AND file_type IN ({marks}) ORDER BY id", list(SNAPSHOT_TYPES)).fetchall()
    finally:
        connection.close()
    out = []
    for kind, moved_to, processed_at in rows:
        moment = datetime.fromisoformat(processed_at)
        out.append((kind, Path(moved_to), moment if moment.tzinfo else moment.replace(tzinfo=UTC)))
    return out


def backfill(settings: Any, analytics: AnalyticsStore, *, progress: Callable[[str], None] | None = None,
             orders: bool = True, files: bool = True) -> BackfillResult:
    from bridge.smile.reader import read_file

    result = BackfillResult()
    if orders:
        result.orders = feed.orders_from_state(settings.state_path, analytics)
        if progress:
            progress(f"orders mirror: {result.orders}")
    if files:
        for kind, path, processed in archived_files(settings.state_path):
            if not path.is_file():
                result.missing.append(str(path))
                continue
            read = read_file(path, kind, settings.smile)
            if not read.ok:
                result.refused.append(_("{path}: {problem_count} problem(s)").format(
                                          path=path, problem_count=read.problem_count))
                continue
            day = processed.astimezone(JST).date()
            written = SNAPSHOT_TYPES[kind](analytics, read.records, day)
            result.files[kind] = result.files.get(kind, 0) + 1
            result.rows[kind] = result.rows.get(kind, 0) + written
            if progress:
                progress(f"{kind} {path.name} ({day}): {written} row(s)")
    return result
