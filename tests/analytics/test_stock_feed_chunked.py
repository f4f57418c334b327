"""A whole 在庫 snapshot goes into the analytics store in chunks (``stock_delta.stock_snapshot``, what ``feed.stock``
runs), so its memory does not grow with the file. Whatever the chunk size and the sequence of snapshots, the
tables equal those of feeding each snapshot in one piece (``feed.stock_frame``, the one-frame feed)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.analytics import feed
from bridge.analytics.stock_delta import stock_snapshot
from bridge.analytics.store import AnalyticsStore
from bridge.domain.catalog import StockLevel

START = date(2026, 11, 2)
TABLES = ("stock_changes", "stock_current", "stock_unchecked", "feed_cursors")

quantities = st.decimals(min_value=-50, max_value=500, places=3, allow_nan=False, allow_infinity=False)
rows = st.tuples(quantities, quantities, quantities,
                 st.none() | st.dates(min_value=START, max_value=START + timedelta(days=60)))
snapshots = st.dictionaries(st.tuples(st.sampled_from(["A-1", "B-2", "C-3", "商品D", "E"]),
                                      st.sampled_from(["01", "02"])), rows, max_size=10)
# (snapshot, days after the previous one: 0 = a later file of the same day)
steps = st.lists(st.tuples(snapshots, st.integers(min_value=0, max_value=2)), min_size=1, max_size=5)


def _levels(snapshot: dict[tuple[str, str], tuple[Any, ...]]) -> list[StockLevel]:
    return [StockLevel(code, warehouse, on_hand, allocated=allocated, on_order=on_order, expected_on=expected)
            for (code, warehouse), (on_hand, allocated, on_order, expected) in sorted(snapshot.items())]


def _tables(store: AnalyticsStore) -> tuple[list[Any], ...]:
    with store.connect() as con:
        return tuple(con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall() for table in TABLES)


def _once(levels: list[StockLevel]) -> Iterator[StockLevel]:
    """The snapshot as an iterator that can be read once (as the stock job's streamed view is read)."""
    yield from levels


@settings(max_examples=40, deadline=None)
@given(steps=steps, chunk=st.integers(min_value=1, max_value=4))
def test_a_chunked_feed_gives_the_tables_of_the_one_frame_feed(steps: list[tuple[dict[Any, Any], int]],
                                                                chunk: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        chunked = AnalyticsStore(Path(folder) / "chunked.duckdb")
        whole = AnalyticsStore(Path(folder) / "whole.duckdb")
        day = START
        for number, (snapshot, later) in enumerate(steps):
            day += timedelta(days=later)
            levels = _levels(snapshot)
            mark = f"m{number}"
            written = stock_snapshot(chunked, _once(levels), day, mark=mark, chunk=chunk)
            expected = 0 if not levels else feed.stock_frame(whole, feed._frame(
                [(s.product_code, s.warehouse_code, day, s.on_hand, s.allocated, s.on_order, s.expected_on)
                 for s in levels], feed.STOCK_COLUMNS), day, mark=mark)
            assert written == expected
            assert _tables(chunked) == _tables(whole)


def test_feed_stock_reads_the_snapshot_once_in_chunks(tmp_path: Path, monkeypatch: Any) -> None:
    """``feed.stock`` is the chunked feed: a file longer than a chunk, handed as a one-pass iterator, lands whole;
    a file that lost rows writes them as zero; an empty one changes nothing."""
    from bridge.analytics import stock_delta

    monkeypatch.setattr(stock_delta, "SNAPSHOT_CHUNK", 3)
    analytics = AnalyticsStore(tmp_path / "analytics.duckdb")
    first = [StockLevel(f"P{n:02d}", "01", Decimal(n + 1)) for n in range(10)]
    assert feed.stock(analytics, _once(first), START) == 10
    assert feed.stock(analytics, _once(first[:4]), START + timedelta(days=1)) == 6
    assert feed.stock(analytics, _once([]), START + timedelta(days=2)) == 0
    with analytics.connect() as con:
        current = con.execute("SELECT product_code, on_hand FROM stock_current ORDER BY 1").fetchall()
    assert current == [(f"P{n:02d}", Decimal(n + 1) if n < 4 else Decimal(0)) for n in range(10)]


def test_the_feed_bounds_duckdb_memory_and_gives_the_store_its_limit_back(tmp_path: Path, monkeypatch: Any) -> None:
    """While a whole snapshot is folded in, DuckDB works within ``FEED_MEMORY_LIMIT`` (spilling beyond it); the
    connection the low-stock check goes on with has the store's own limit again, a lower one is kept."""
    from bridge.analytics import stock_delta

    seen: list[str] = []
    fold = stock_delta.fold_snapshot

    def watching(con: Any, *args: Any, **kwargs: Any) -> int:
        seen.append(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])
        return fold(con, *args, **kwargs)

    monkeypatch.setattr(stock_delta, "fold_snapshot", watching)
    levels = [StockLevel("P1", "01", Decimal(3))]
    for limit in ("1GB", "64MB"):
        analytics = AnalyticsStore(tmp_path / f"{limit}.duckdb", memory_limit=limit)
        with analytics.connect() as con:
            before = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
            stock_snapshot(analytics, levels, START)
            assert con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0] == before
    assert seen[0] == "128.0 MiB" and seen[1] == "61.0 MiB"  # DuckDB reports its limit less a little reserve
    assert stock_delta._limit_bytes("1GB") == 10**9 and stock_delta._limit_bytes("512 MiB") == 512 * 2**20
    assert stock_delta._limit_bytes("80%") is None
