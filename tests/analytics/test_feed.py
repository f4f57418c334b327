"""The feed: JST period boundaries, incremental and idempotent order copies, stock stored as changes only,
cost history, backfill from the mirror and archived SMILE files."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.analytics import feed, periods
from bridge.analytics.backfill import backfill
from bridge.analytics.periods import Period
from bridge.analytics.reports.base import Params
from bridge.analytics.reports.sales import sales
from bridge.analytics.stock_delta import stock_delta
from bridge.analytics.store import AnalyticsStore
from bridge.config import Settings
from bridge.domain.catalog import Product, StockLevel
from bridge.domain.orders import Order, OrderLine, PaymentState, WorkflowState
from bridge.domain.time import JST, UTC, business_date
from bridge.store import Store
from bridge.store import orders as mirror


def _order(order_id: int, placed: datetime, price: str = "100") -> Order:
    return Order(order_id=order_id, status="O", placed_at=placed, updated_at=placed, user_id=1, email="a@b.jp",
                 total=Decimal(price), lines=(OrderLine("P1", "商品", Decimal(1), Decimal(price)),),
                 customer_code="100001")


async def test_jst_day_boundaries_decide_the_period_of_an_order(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "state.sqlite3")
    try:
        async with store.transaction() as tx:
            await mirror.insert_many(tx, [
                (_order(1, datetime(2026, 11, 30, 14, 59, 59, tzinfo=UTC)), WorkflowState.RECEIVED, None),  # 23:59:59 JST
                (_order(2, datetime(2026, 11, 30, 15, 0, 0, tzinfo=UTC), "200"), WorkflowState.RECEIVED, None),  # 00:00 JST 12/1
                (_order(3, datetime(2026, 10, 31, 15, 0, 0, tzinfo=UTC), "400"), WorkflowState.RECEIVED, None),  # 11/1 00:00 JST
            ])
    finally:
        await store.close()
    analytics = AnalyticsStore(tmp_path / "analytics.duckdb")
    feed.orders_from_state(tmp_path / "state.sqlite3", analytics)
    with analytics.connect() as con:
        november = sales(con, Params(periods.month(date(2026, 11, 5)), by="day")).table("sales_by_day").dicts()
        december = sales(con, Params(periods.month(date(2026, 12, 5)), by="month")).table("sales_by_month").dicts()
        weekly = sales(con, Params(Period(date(2026, 11, 30), date(2026, 12, 6)), by="week")).table("sales_by_week")
    assert {r["key"]: r["sales"] for r in november} == {"2026-11-01": 400, "2026-11-30": 100}
    assert [(r["key"], r["sales"]) for r in december] == [("2026-12", 200)]
    assert [(r["key"], r["sales"]) for r in weekly.dicts()] == [("2026-11-30", 300)]  # Monday-start week


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)))
def test_the_stored_business_day_is_the_japan_date(moment: datetime) -> None:
    orders, _ = feed.order_rows([(1, "received", None, _json(_order(1, moment)), moment.isoformat())])
    assert orders[0][3] == business_date(moment) == moment.astimezone(JST).date()
    assert orders[0][2] == moment.astimezone(JST).replace(tzinfo=None)


def _json(order: Order) -> str:
    import json

    from bridge.domain.serialize import to_data

    return json.dumps(to_data(order), ensure_ascii=False)


def test_period_helpers() -> None:
    assert periods.last_complete("daily", date(2026, 12, 1)) == Period(date(2026, 11, 30), date(2026, 11, 30))
    assert periods.last_complete("weekly", date(2026, 12, 3)) == Period(date(2026, 11, 23), date(2026, 11, 29))
    assert periods.last_complete("monthly", date(2026, 3, 1)) == Period(date(2026, 2, 1), date(2026, 2, 28))
    assert Period(date(2024, 2, 29), date(2024, 2, 29)).year_ago() == Period(date(2023, 2, 28), date(2023, 2, 28))
    assert Period(date(2026, 11, 1), date(2026, 11, 30)).previous() == Period(date(2026, 10, 2), date(2026, 10, 31))


async def test_the_feed_is_incremental_and_idempotent(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "state.sqlite3")
    analytics = AnalyticsStore(tmp_path / "analytics.duckdb")
    placed = datetime(2026, 11, 2, 1, tzinfo=UTC)
    try:
        async with store.transaction() as tx:
            await mirror.insert_many(tx, [(_order(n, placed), WorkflowState.RECEIVED, PaymentState.ON_ACCOUNT)
                                          for n in range(1, 6)])
        first = feed.orders_from_state(store.path, analytics)
        again = feed.orders_from_state(store.path, analytics)
        async with store.transaction() as tx:
            await mirror.transition(tx, 3, WorkflowState.CANCELLED, "cancelled")
        third = feed.orders_from_state(store.path, analytics)
    finally:
        await store.close()
    assert (first.orders, first.states) == (5, 5)
    assert again.states == 0 and again.orders <= 5  # same-instant rows may be read again, never duplicated
    assert third.states == 1 and third.orders >= 1
    with analytics.connect() as con:
        assert con.execute("SELECT count(*) FROM orders").fetchall()[0][0] == 5
        assert con.execute("SELECT count(*) FROM order_lines").fetchall()[0][0] == 5
        assert con.execute("SELECT state, payment_kind FROM orders WHERE order_id = 3").fetchall()[0] == (
            "cancelled", "on_account")
        report = sales(con, Params(periods.month(date(2026, 11, 1))))
    assert report.table("sales_total").dicts()[0]["orders"] == 4


def test_stock_is_stored_as_changes_and_costs_as_history(tmp_path: Path) -> None:
    analytics = AnalyticsStore(tmp_path / "analytics.duckdb")
    day = date(2026, 11, 1)

    def levels(a: int, b: int) -> list[StockLevel]:
        return [StockLevel("A", "01", Decimal(a)), StockLevel("B", "01", Decimal(b))]

    assert feed.stock(analytics, levels(5, 7), day) == 2
    assert feed.stock(analytics, levels(5, 7), day + timedelta(days=1)) == 0
    assert feed.stock(analytics, levels(4, 7), day + timedelta(days=2)) == 1
    assert feed.stock(analytics, levels(3, 7), day + timedelta(days=2)) == 1  # same day again: replaces
    feed.stock(analytics, [StockLevel("A", "01", Decimal(3))], day + timedelta(days=3))  # B gone → 0
    with analytics.connect() as con:
        rows = con.execute("SELECT product_code, day, on_hand FROM stock_changes ORDER BY 1, 2").fetchall()
    assert rows == [("A", day, 5), ("A", day + timedelta(days=2), 3), ("B", day, 7), ("B", day + timedelta(days=3), 0)]

    product = Product(code="A", name="a", cost_price=Decimal(60), standard_price=Decimal(100))
    assert feed.products(analytics, [product], day) == 1
    assert feed.products(analytics, [product], day + timedelta(days=1)) == 0
    assert feed.products(analytics, [Product(code="A", name="a", cost_price=Decimal(70), standard_price=Decimal(100))],
                         day + timedelta(days=5)) == 1
    with analytics.connect() as con:
        assert con.execute("SELECT day, cost_price FROM price_history ORDER BY day").fetchall() == [
            (day, 60), (day + timedelta(days=5), 70)]


async def test_margin_uses_the_cost_in_force_on_the_order_day(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "state.sqlite3")
    try:
        async with store.transaction() as tx:
            await mirror.insert_many(tx, [
                (_order(1, datetime(2026, 11, 2, tzinfo=UTC)), WorkflowState.RECEIVED, None),
                (_order(2, datetime(2026, 11, 20, tzinfo=UTC)), WorkflowState.RECEIVED, None)])
    finally:
        await store.close()
    analytics = AnalyticsStore(tmp_path / "analytics.duckdb")
    feed.products(analytics, [Product(code="P1", name="p", cost_price=Decimal(60))], date(2026, 10, 1))
    feed.products(analytics, [Product(code="P1", name="p", cost_price=Decimal(80))], date(2026, 11, 10))
    feed.orders_from_state(tmp_path / "state.sqlite3", analytics)
    with analytics.connect() as con:
        total = sales(con, Params(periods.month(date(2026, 11, 1)))).table("sales_total").dicts()[0]
    assert (total["sales"], total["cost"], total["margin"]) == (200, 140, 60)


async def test_backfill_reads_the_mirror_and_the_archived_smile_files(tmp_path: Path) -> None:
    from bridge.smile.generator import generate

    made = generate(tmp_path / "files", products=20, customers=5, seed=3)
    settings = Settings(data_dir=tmp_path / "data")
    store = await Store.open(settings.state_path)
    try:
        async with store.transaction() as tx:
            await mirror.insert_many(tx, [(_order(1, datetime(2026, 11, 2, tzinfo=UTC)), WorkflowState.RECEIVED,
                                           None)])
            for kind in ("products", "customers", "stock"):
                await tx.execute("INSERT INTO smile_files (file_type, name, checksum, size, outcome, moved_to, "
                                 "processed_at) VALUES (?, ?, 'x', 1, 'applied', ?, ?)",
                                 (kind, made.paths[kind].name, str(made.paths[kind]), "2026-11-02T00:30:00+00:00"))
            await tx.execute("INSERT INTO smile_files (file_type, name, checksum, size, outcome, moved_to, "
                             "processed_at) VALUES ('stock', 'gone.csv', 'y', 1, 'applied', ?, ?)",
                             (str(tmp_path / "gone.csv"), "2026-11-03T00:30:00+00:00"))
    finally:
        await store.close()
    analytics = AnalyticsStore(settings.analytics.path)
    result = backfill(settings, analytics)
    assert result.orders.orders == 1
    assert result.files == {"products": 1, "customers": 1, "stock": 1}
    assert result.missing == [str(tmp_path / "gone.csv")]
    with analytics.connect() as con:
        assert con.execute("SELECT count(*) FROM products WHERE cost_price IS NOT NULL").fetchall()[0][0] == 20
        assert con.execute("SELECT count(*) FROM customers").fetchall()[0][0] == 5
        stock_rows = con.execute("SELECT count(*), min(day) FROM stock_changes").fetchall()[0]
    assert stock_rows == (len(made.stock), date(2026, 11, 2))
    again = backfill(settings, analytics)
    assert again.rows.get("stock") == 0  # idempotent: nothing changed


def test_returns_are_stored_once_on_their_jst_day_and_checked_before_anything_is_written(tmp_path: Path) -> None:
    analytics = AnalyticsStore(tmp_path / "a.duckdb")
    late = datetime(2026, 10, 31, 15, 30, tzinfo=UTC)  # 2026-11-01 00:30 JST
    assert feed.record_return(analytics, return_id="7", order_id=1, customer_code="100001", product_code="P1",
                              quantity=Decimal(2), amount=Decimal("200"), returned_at=late, reason="破損") == 1
    # fed again (a retried job): replaced, not doubled; two items of one product in one call are added up
    item = feed.ReturnedItem("7", 1, "100001", "P1", Decimal(1), Decimal("100"), late, "破損")
    assert feed.record_returns(analytics, [item, item]) == 1
    with analytics.connect() as con:
        rows = con.execute("SELECT return_id, quantity, amount, returned_day, reason FROM returns").fetchall()
    assert rows == [("7", Decimal(2), Decimal("200.00"), date(2026, 11, 1), "破損")]
    bad = [feed.ReturnedItem("8", 2, "", "P2", Decimal(1), Decimal(1), late),
           feed.ReturnedItem("9", 3, "", "P3", Decimal(0), Decimal(-5), datetime(2026, 11, 1))]
    try:
        feed.record_returns(analytics, bad)
    except ValueError as error:
        text = str(error)
        assert "'9'" in text and "quantity" in text and "amount" in text and "timezone" in text
    else:
        raise AssertionError("a bad return was accepted")
    with analytics.connect() as con:
        assert con.execute("SELECT count(*) FROM returns").fetchall()[0][0] == 1  # nothing of the bad batch


def test_an_empty_returns_table_of_an_older_store_is_upgraded(tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE returns (order_id BIGINT NOT NULL, product_code VARCHAR NOT NULL, "
                "quantity DECIMAL(14, 3) NOT NULL, amount DECIMAL(16, 2) NOT NULL, returned_day DATE NOT NULL)")
    con.close()
    analytics = AnalyticsStore(path)
    feed.record_return(analytics, return_id="1", order_id=1, customer_code="", product_code="P1",
                       quantity=Decimal(1), amount=Decimal(100), returned_at=datetime(2026, 11, 2, tzinfo=JST))
    with analytics.connect() as c:
        assert c.execute("SELECT returned_day FROM returns").fetchall() == [(date(2026, 11, 2),)]


async def test_slipped_returns_in_the_state_store_are_fed_once_and_net_the_sales(tmp_path: Path) -> None:
    from bridge.store import returns as returns_store

    store = await Store.open(tmp_path / "state.sqlite3")
    analytics = AnalyticsStore(tmp_path / "analytics.duckdb")
    placed = datetime(2026, 11, 2, 1, tzinfo=UTC)

    def row(return_id: int, state: str, quantity: int, updated: str) -> returns_store.ReturnRow:
        lines = [{"item_id": "1", "product_code": "P1", "name": "商品", "quantity": quantity, "unit_price": "100",
                  "reason": "破損", "action": "discard", "warehouse": "000999"}]
        return returns_store.ReturnRow(return_id, 1, "A", state, lines, Decimal(100 * quantity), None, "",
                                       "2026-11-03T00:00:00+00:00", updated)

    try:
        async with store.transaction() as tx:
            await mirror.insert_many(tx, [(_order(1, placed, "300"), WorkflowState.RECEIVED, None)])
            await returns_store.save(tx, row(7, "slipped", 1, "2026-11-03T01:00:00+00:00"))
            await returns_store.save(tx, row(8, "held", 2, "2026-11-03T01:00:00+00:00"))  # not in SMILE: no credit
        first = feed.orders_from_state(store.path, analytics)
        again = feed.orders_from_state(store.path, analytics)
        async with store.transaction() as tx:  # the held one is slipped later
            await returns_store.save(tx, row(8, "slipped", 2, "2026-11-04T01:00:00+00:00"))
        third = feed.orders_from_state(store.path, analytics)
    finally:
        await store.close()
    assert first.returns == 1 and third.returns >= 1
    assert again.returns <= 1  # same-instant rows may be read again, never doubled
    with analytics.connect() as con:
        rows = con.execute("SELECT return_id, customer_code, quantity, amount, returned_day FROM returns "
                           "ORDER BY return_id").fetchall()
        total = sales(con, Params(periods.month(date(2026, 11, 1)))).table("sales_total").dicts()[0]
    assert rows == [("7", "100001", Decimal(1), Decimal("100.00"), date(2026, 11, 3)),
                    ("8", "100001", Decimal(2), Decimal("200.00"), date(2026, 11, 4))]
    assert total["returns"] == 300


snapshots = st.lists(st.dictionaries(st.tuples(st.sampled_from("ABCD"), st.sampled_from(["01", "02"])),
                                     st.tuples(st.integers(0, 3), st.integers(0, 2)), min_size=1, max_size=6),
                     min_size=1, max_size=4)


@settings(max_examples=15, deadline=None)
@given(files=snapshots, same_day=st.booleans())
def test_feeding_a_file_s_difference_stores_what_feeding_the_whole_file_stores(
        files: list[dict[tuple[str, str], tuple[int, int]]], same_day: bool) -> None:
    """The stock job feeds a file read against its memo as a difference (new or changed rows, rows gone)."""
    import tempfile

    def levels(snapshot: dict[tuple[str, str], tuple[int, int]]) -> list[StockLevel]:
        return [StockLevel(code, warehouse, Decimal(on_hand), allocated=Decimal(allocated))
                for (code, warehouse), (on_hand, allocated) in sorted(snapshot.items())]

    with tempfile.TemporaryDirectory() as folder:
        whole = AnalyticsStore(Path(folder) / "whole.duckdb")
        parts = AnalyticsStore(Path(folder) / "parts.duckdb")
        previous: dict[tuple[str, str], tuple[int, int]] = {}
        for number, snapshot in enumerate(files):
            day = date(2026, 11, 1) + timedelta(days=0 if same_day else number)
            feed.stock(whole, levels(snapshot), day)
            if number == 0:
                feed.stock(parts, levels(snapshot), day)
            else:
                changed = {key: value for key, value in snapshot.items() if previous.get(key) != value}
                gone = [key for key in previous if key not in snapshot]
                stock_delta(parts, levels(changed), gone, day)
            previous = snapshot
        tables = []
        for store in (whole, parts):
            with store.connect() as con:
                tables.append((con.execute("SELECT * FROM stock_changes ORDER BY ALL").fetchall(),
                               con.execute("SELECT * FROM stock_current ORDER BY ALL").fetchall()))
        assert tables[0] == tables[1]
