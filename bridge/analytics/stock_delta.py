"""The stock feed of a file read against the stock job's memo: only what differs from the last file fed.

Kept apart from ``feed`` so that a one-shot ``bridge sync stock`` does not import pandas for a few rows.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from itertools import islice
from datetime import date
from decimal import Decimal
from typing import Any

from bridge.analytics.store import AnalyticsStore
from bridge.domain.catalog import StockLevel

STOCK_COLUMNS = ("product_code", "warehouse_code", "day", "on_hand", "allocated", "on_order", "expected_on")


SNAPSHOT_CHUNK = 20_000  # rows of a whole snapshot held in Python at once (one insert into ``snap``): 50,000 costs
# ≈ 30 MB more at the peak for no measurable speed

# DuckDB's memory while a whole snapshot is folded in (the store's ``memory_limit`` when lower): its joins and temp
# tables spill to disk beyond it, so a first sync of 1,000,000 SKUs stays bounded (the default limit, 1 GB, is for
# reports; the feed keeps no more than this whatever the file's size). 64 MB is too little at 1,000,000 SKUs.
FEED_MEMORY_LIMIT = 128 * 1024 * 1024

SNAPSHOT_MARK = "stock.snapshot"  # feed_cursors: which snapshot ``stock_current`` holds (set by every stock feed)


class StockDrift(RuntimeError):
    """``stock_current`` does not hold the snapshot the difference was taken against (another process fed one in
    between): nothing was written; feed the whole snapshot."""


def stock_delta(analytics: AnalyticsStore, changed: Iterable[StockLevel], gone: Iterable[tuple[str, str]],
                day: date, *, expect: str | None = None, mark: str | None = None) -> int:
    """``stock`` for the difference between the last snapshot fed and the next one: ``changed`` holds the rows
    that are new or different in the next snapshot, ``gone`` the (商品コード, 倉庫コード) it no longer has. Gives
    what ``stock`` with the whole next snapshot gives when the last one was fed (the stock job feeds the whole file
    otherwise); the cost follows the change, not the file. ``expect``: the mark the last snapshot was fed with
    (another raises ``StockDrift``); ``mark``: this snapshot's."""
    rows = [(s.product_code, s.warehouse_code, day, s.on_hand, s.allocated, s.on_order, s.expected_on)
            for s in changed]
    keys = [(code, warehouse) for code, warehouse in gone]
    if not rows and not keys and expect is None and mark is None:
        return 0
    with analytics.connect() as con:
        con.execute("BEGIN")
        try:
            if expect is not None:
                found = con.execute("SELECT value FROM feed_cursors WHERE name = ?", [SNAPSHOT_MARK]).fetchall()
                if not found or found[0][0] != expect:
                    raise StockDrift(f"the analytics store holds another stock snapshot than the one expected "
                                     f"({found[0][0] if found else 'none'}, not {expect})")
            con.execute("CREATE OR REPLACE TEMP TABLE snap AS SELECT * FROM stock_current LIMIT 0")
            con.execute("CREATE OR REPLACE TEMP TABLE gone (product_code VARCHAR, warehouse_code VARCHAR)")
            _insert(con, "snap", rows)
            _insert(con, "gone", keys)
            written = fold_snapshot(con, day, leaving="SEMI JOIN gone g", mark=mark)
            con.execute("DROP TABLE gone")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
    return written


def stock_snapshot(analytics: AnalyticsStore, levels: Iterable[StockLevel], day: date, *, mark: str | None = None,
                   chunk: int | None = None) -> int:
    """``feed.stock``: the whole snapshot ``levels`` (any iterable, read once: the stock job's streamed path hands a
    view that re-reads the file) put into ``snap`` ``chunk`` rows an insert, then folded in one set-based pass, all
    in one transaction. Python holds one chunk at a time, so the memory does not grow with the file; the result is
    that of the snapshot fed at once (tested). An empty snapshot changes nothing. ``chunk``: ``SNAPSHOT_CHUNK``."""
    chunk = chunk or SNAPSHOT_CHUNK
    rows = iter(levels)
    part = list(islice(rows, chunk))
    if not part:
        return 0
    limit = _limit_bytes(analytics.memory_limit)
    with analytics.connect() as con:
        if limit is None or limit > FEED_MEMORY_LIMIT:
            con.execute(f"SET memory_limit = '{FEED_MEMORY_LIMIT}B'")
        try:
            con.execute("BEGIN")
            try:
                con.execute("CREATE OR REPLACE TEMP TABLE snap AS SELECT * FROM stock_current LIMIT 0")
                while part:
                    _insert(con, "snap", [(s.product_code, s.warehouse_code, day, _text(s.on_hand),
                                           _text(s.allocated), _text(s.on_order), s.expected_on) for s in part])
                    part = list(islice(rows, chunk))
                written = fold_snapshot(con, day, leaving="ANTI JOIN snap s", mark=mark)
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.execute(f"SET memory_limit = '{analytics.memory_limit}'")
    return written


_UNITS = {"": 1, "b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4,
          "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}


def _limit_bytes(text: str) -> int | None:
    """A DuckDB memory limit ('1GB', '512 MiB') in bytes; None when not a plain size."""
    found = re.fullmatch(r"\s*([0-9.]+)\s*([a-zA-Z]*)\s*", text)
    if found is None or found.group(2).lower() not in _UNITS:
        return None
    return int(float(found.group(1)) * _UNITS[found.group(2).lower()])


def _text(value: Any) -> str | None:
    """A quantity as text, cast back by the insert (one list type per column, whatever numbers came)."""
    return None if value is None else str(value)


def fold_snapshot(con: Any, day: date, *, leaving: str, mark: str | None = None) -> int:
    """Fold the temp table ``snap`` into ``stock_current`` and the day's ``stock_changes``: rows new or different
    in ``snap``, and the current rows that ``leaving`` (a join against ``stock_current c``: the whole snapshot's
    ANTI JOIN, or a SEMI JOIN with the codes known to be gone) selects, written as zero. Drops ``snap``; returns
    how many rows changed. Records the snapshot's ``mark`` (None: a new one) and the SKUs changed for the
    low-stock check. The caller holds the transaction."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE changed AS
        SELECT s.* FROM snap s LEFT JOIN stock_current c USING (product_code, warehouse_code)
        WHERE c.product_code IS NULL OR s.on_hand <> c.on_hand OR s.allocated <> c.allocated
           OR s.on_order <> c.on_order OR s.expected_on IS DISTINCT FROM c.expected_on
        UNION ALL
        SELECT c.product_code, c.warehouse_code, CAST(? AS DATE), 0, 0, 0, NULL
        FROM stock_current c {leaving} USING (product_code, warehouse_code)
        WHERE c.on_hand <> 0 OR c.allocated <> 0 OR c.on_order <> 0""", [day])
    written = con.execute("SELECT count(*) FROM changed").fetchall()[0][0]
    con.execute("DELETE FROM stock_changes WHERE day = ? AND (product_code, warehouse_code) IN "
                "(SELECT product_code, warehouse_code FROM changed)", [day])
    con.execute("INSERT INTO stock_changes SELECT * FROM changed")
    con.execute("INSERT OR REPLACE INTO stock_current SELECT * FROM changed")
    # for the low-stock check, which looks only at the SKUs whose figures changed since it last ran
    con.execute("INSERT INTO stock_unchecked SELECT DISTINCT product_code FROM changed "
                "ANTI JOIN stock_unchecked USING (product_code)")
    con.execute("INSERT OR REPLACE INTO feed_cursors VALUES (?, ?)", [SNAPSHOT_MARK, mark or uuid.uuid4().hex])
    con.execute("DROP TABLE snap")
    con.execute("DROP TABLE changed")
    return int(written)


def _insert(con: Any, table: str, rows: list[tuple[Any, ...]]) -> None:
    """Rows in one statement, a list parameter per column (far cheaper than a parameter per value); decimals as
    text, cast back by the insert, as the whole-file feed does."""
    if not rows:
        return
    columns = [[None if value is None else str(value) if isinstance(value, Decimal) else value
                for value in column] for column in zip(*rows, strict=True)]
    unnested = ", ".join(f"unnest(${number})" for number in range(1, len(columns) + 1))
    con.execute(f"INSERT INTO {table} SELECT {unnested}", columns)
