"""The low-stock check follows what changed (bridge/analytics/alerts.py): it looks only at the SKUs whose stock
figures or demand sums changed since it last ran, and raises and clears exactly the alerts a check of every SKU
raises and clears — over any sequence of stock files (whole or as a difference), orders, cancellations, rules
changes, new days, checks skipped, restarts and lost state."""

from __future__ import annotations

import tempfile
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.analytics import alerts, feed
from bridge.analytics.stock_delta import stock_delta
from bridge.analytics.store import AnalyticsStore
from bridge.domain.catalog import StockLevel

CODES = ["A", "B", "C", "D", "E"]
START = date(2026, 11, 30)


def _order(order_id: int, day: date, quantities: dict[str, int], state: str = "complete") -> tuple[Any, Any]:
    placed = datetime.combine(day, datetime.min.time()).replace(hour=3)
    order = (order_id, placed, placed, day, "100001", 1, "", "東京都", "掛売", "on_account", False, [], state,
             Decimal(1000), Decimal(1000), Decimal(0), None, placed)
    lines = [(order_id, number, code, Decimal(quantity), Decimal(100), Decimal(100 * quantity))
             for number, (code, quantity) in enumerate(sorted(quantities.items()))]
    return order, lines


def _levels(snapshot: dict[tuple[str, str], tuple[int, int]]) -> list[StockLevel]:
    return [StockLevel(code, warehouse, Decimal(on_hand), on_order=Decimal(on_order))
            for (code, warehouse), (on_hand, on_order) in sorted(snapshot.items())]


snapshot_strategy = st.dictionaries(st.tuples(st.sampled_from(CODES), st.sampled_from(["01", "02"])),
                                    st.tuples(st.integers(0, 120), st.integers(0, 30)), min_size=1, max_size=8)
step_strategy = st.one_of(
    st.tuples(st.just("stock"), snapshot_strategy, st.booleans()),  # whole file or its difference
    st.tuples(st.just("orders"), st.dictionaries(st.sampled_from(CODES), st.integers(1, 40), min_size=1,
                                                 max_size=3), st.integers(0, 100)),  # placed this many days ago
    st.tuples(st.just("cancel"), st.integers(0, 20)),
    st.tuples(st.just("options"), st.sampled_from([3, 7, 21]), st.sampled_from([30, 90])),
    st.tuples(st.just("day"), st.integers(1, 40)),
    st.tuples(st.just("skip")),  # a stock file fed while the check is off (rules: low_stock disabled)
    st.tuples(st.just("restart")),
    st.tuples(st.just("lose_state")),
)


def _below(store: AnalyticsStore) -> list[tuple[Any, ...]]:
    with store.connect() as con:
        return con.execute("SELECT * FROM below_reorder ORDER BY ALL").fetchall()


# 40 examples of up to 12 steps passed when this was written (225 s on a loaded machine); CI runs fewer
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=snapshot_strategy, steps=st.lists(step_strategy, min_size=1, max_size=8))
def test_checking_what_changed_raises_the_alerts_a_full_check_raises(
        first: dict[tuple[str, str], tuple[int, int]], steps: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "incremental.duckdb"
        incremental, reference = AnalyticsStore(path), AnalyticsStore(Path(folder) / "full.duckdb")
        day, options = START, {"lead_time_days": 7, "lookback_days": 90}
        orders: list[int] = []
        # 40 days of steady demand for A and B, so that their reorder points are above 0
        history = [_order(n + 1, START - timedelta(days=n), {"A": 5, "B": 2}) for n in range(40)]
        for store in (incremental, reference):
            with store.connect() as con:
                feed.write_orders(con, [o for o, _ in history], [line for _, ls in history for line in ls])
            feed.stock(store, _levels(first), day)
        orders = [o[0] for o, _ in history]
        current = first
        checks = 0

        def check(*, skipped: bool = False) -> None:
            nonlocal checks
            if skipped:
                return
            found = alerts.check_now(incremental, day, options)
            expected = alerts.check_now(reference, day, options, full=True)
            assert expected.full
            assert found.crossed == expected.crossed
            assert found.below_now == expected.below_now
            assert _below(incremental) == _below(reference)
            checks += 1

        check()
        for step in steps:
            kind = step[0]
            if kind in ("stock", "skip"):
                snapshot = step[1] if kind == "stock" else {key: (on_hand // 2, on_order)
                                                            for key, (on_hand, on_order) in current.items()}
                feed.stock(reference, _levels(snapshot), day)
                if kind == "stock" and step[2]:
                    changed = {key: value for key, value in snapshot.items() if current.get(key) != value}
                    stock_delta(incremental, _levels(changed), [key for key in current if key not in snapshot], day)
                else:
                    feed.stock(incremental, _levels(snapshot), day)
                current = snapshot
                check(skipped=kind == "skip")
            elif kind == "orders":
                order_id = max(orders) + 1
                orders.append(order_id)
                row, lines = _order(order_id, day - timedelta(days=step[2]), step[1])
                for store in (incremental, reference):
                    with store.connect() as con:
                        feed.write_orders(con, [row], lines)
                check()
            elif kind == "cancel":
                order_id = orders[step[1] % len(orders)]
                for store in (incremental, reference):
                    with store.connect() as con:
                        con.execute("UPDATE orders SET state = 'cancelled' WHERE order_id = ?", [order_id])
                check()
            elif kind == "options":
                options = {"lead_time_days": step[1], "lookback_days": step[2]}
                check()
            elif kind == "day":
                day += timedelta(days=step[1])
                check()
            elif kind == "restart":  # a new process: nothing is kept in memory
                incremental = AnalyticsStore(path)
                check()
            else:
                with incremental.connect() as con:
                    con.execute("DELETE FROM low_stock_state")
                check()
        check()  # a check after the last step catches up whatever a skipped check left
        assert checks >= 2


def test_a_check_after_one_changed_sku_looks_at_that_sku_only(tmp_path: Path) -> None:
    analytics = AnalyticsStore(tmp_path / "analytics.duckdb")
    codes = [f"P{n:03d}" for n in range(200)]
    history = [_order(n + 1, START - timedelta(days=n), {code: 3 for code in codes[:50]}) for n in range(30)]
    with analytics.connect() as con:
        feed.write_orders(con, [o for o, _ in history], [line for _, ls in history for line in ls])
    stock = {code: 100 for code in codes}
    feed.stock(analytics, [StockLevel(code, "01", Decimal(v)) for code, v in stock.items()], START)
    options: dict[str, Any] = {}
    first = alerts.check_now(analytics, START, options)
    assert first.full and first.crossed == [] and first.checked == 200
    again = alerts.check_now(analytics, START, options)
    assert not again.full and again.checked == 0 and again.crossed == []
    stock_delta(analytics, [StockLevel("P007", "01", Decimal(1))], [], START)
    crossed = alerts.check_now(analytics, START, options)
    assert not crossed.full and crossed.checked == 1
    assert [c.product_code for c in crossed.crossed] == ["P007"] and crossed.below_now == 1
    stock_delta(analytics, [StockLevel("P007", "01", Decimal(500))], [], START)
    recovered = alerts.check_now(analytics, START, options)
    assert recovered.checked == 1 and recovered.crossed == [] and recovered.below_now == 0
    # new demand for one SKU: only that one is looked at (its reorder point moved)
    row, lines = _order(99, START, {"P120": 400})
    with analytics.connect() as con:
        feed.write_orders(con, [row], lines)
    moved = alerts.check_now(analytics, START, options)
    assert moved.checked == 1 and [c.product_code for c in moved.crossed] == ["P120"]
    # the next day, or other options: every SKU
    assert alerts.check_now(analytics, START + timedelta(days=1), options).full
    assert alerts.check_now(analytics, START + timedelta(days=1), {"lead_time_days": 3}).full
