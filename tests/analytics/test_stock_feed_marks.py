"""The stock job's long-lived cycle feeds the analytics store only the difference from the file it fed last, on
one connection with the low-stock check (bridge/analytics/hooks.py); each snapshot fed carries a mark, and a
difference taken against a snapshot the store no longer holds (another process fed one in between) is not applied:
the whole file is fed instead. Whatever the sequence, the tables equal those of feeding every file whole."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.analytics import feed, hooks
from bridge.analytics.stock_delta import StockDrift, stock_delta
from bridge.analytics.store import AnalyticsStore
from bridge.config import Settings
from bridge.domain.catalog import StockLevel
from bridge.domain.time import business_date

RULES_DIR = Path(__file__).resolve().parents[2] / "rules"


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now


class Context:
    def __init__(self, settings: Settings) -> None:
        from bridge.rules import load_rules
        from bridge.sync.services import FixedRules, Services
        from bridge.wiring import rule_files

        self.settings = settings
        self.clock = FixedClock(datetime(2026, 11, 30, 3, tzinfo=UTC))
        self.services = Services(rules=FixedRules(load_rules(RULES_DIR, rule_files())))


def _levels(snapshot: dict[tuple[str, str], tuple[int, int, int]]) -> list[StockLevel]:
    return [StockLevel(code, warehouse, Decimal(on_hand), allocated=Decimal(allocated), on_order=Decimal(on_order))
            for (code, warehouse), (on_hand, allocated, on_order) in sorted(snapshot.items())]


def _tables(store: AnalyticsStore) -> tuple[list[Any], ...]:
    with store.connect() as con:
        return tuple(con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
                     for table in ("stock_changes", "stock_current"))


snapshots = st.dictionaries(st.tuples(st.sampled_from("ABCDE"), st.sampled_from(["01", "02"])),
                            st.tuples(st.integers(0, 3), st.integers(0, 2), st.integers(0, 2)), min_size=1,
                            max_size=8)


@settings(max_examples=10, deadline=None)
@given(files=st.lists(st.tuples(snapshots, st.booleans()), min_size=2, max_size=5))
def test_differences_fed_with_marks_store_what_whole_files_store(
        files: list[tuple[dict[tuple[str, str], tuple[int, int, int]], bool]]) -> None:
    """Each file: fed as the difference from the last one this job fed (the first whole); when the flag is set,
    another process fed an unrelated snapshot just before (the store then holds another mark)."""
    with tempfile.TemporaryDirectory() as folder:
        context = Context(Settings(data_dir=Path(folder) / "job", rules_dir=RULES_DIR))
        whole = AnalyticsStore(Path(folder) / "whole.duckdb")
        analytics = hooks.store_for(context.settings)
        assert analytics is not None
        day = business_date(context.clock.now())
        previous: dict[tuple[str, str], tuple[int, int, int]] | None = None
        mark: str | None = None

        async def run() -> None:
            nonlocal previous, mark
            for snapshot, interloper in files:
                if interloper and previous is not None:  # `bridge sync stock` in another process, say
                    other = {key: (on_hand + 5, 0, 0) for key, (on_hand, _, _) in snapshot.items()}
                    feed.stock(analytics, _levels(other), day)
                    feed.stock(whole, _levels(other), day)
                new_mark = uuid.uuid4().hex
                if previous is None:
                    assert await hooks.stock_read(context, _levels(snapshot), mark=new_mark)
                else:
                    changed = {key: value for key, value in snapshot.items() if previous.get(key) != value}
                    gone = [key for key in previous if key not in snapshot]
                    assert await hooks.stock_changed(context, _levels(changed), gone, whole=_levels(snapshot),
                                                     expect=mark, mark=new_mark)
                feed.stock(whole, _levels(snapshot), day)
                previous, mark = snapshot, new_mark
                assert _tables(analytics) == _tables(whole)

        asyncio.run(run())


def test_a_difference_against_another_snapshot_writes_nothing(tmp_path: Path) -> None:
    analytics = AnalyticsStore(tmp_path / "analytics.duckdb")
    day = date(2026, 11, 30)
    feed.stock(analytics, [StockLevel("A", "01", Decimal(5))], day, mark="first")
    stock_delta(analytics, [StockLevel("A", "01", Decimal(6))], [], day, expect="first", mark="second")
    before = _tables(analytics)
    with pytest.raises(StockDrift):
        stock_delta(analytics, [StockLevel("A", "01", Decimal(7))], [], day, expect="first", mark="third")
    assert _tables(analytics) == before
    with analytics.connect() as con:
        unchecked = con.execute("SELECT product_code FROM stock_unchecked").fetchall()
        assert con.execute("SELECT value FROM feed_cursors WHERE name = 'stock.snapshot'").fetchall() == [("second",)]
    assert unchecked == [("A",)]  # the SKUs the two feeds changed wait for the low-stock check
