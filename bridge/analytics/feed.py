"""Feeding the analytics store: the orders mirror (incrementally, by cursors) and SMILE snapshots (changes only).

The jobs call ``orders_from_state`` after they changed the orders mirror (orders, shipping) and ``stock`` /
``products`` / ``customers`` with the records of the SMILE file they just applied; ``bridge analytics backfill``
calls the very same functions over the whole mirror and the archived SMILE files. Every writer is idempotent: feeding
the same rows twice changes nothing.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from bridge.analytics.stock_delta import fold_snapshot, stock_snapshot
from bridge.analytics.store import AnalyticsStore
from bridge.domain.catalog import Product, StockLevel
from bridge.domain.customers import Customer
from bridge.domain.time import JST, UTC

BATCH = 20_000
_PREPAID_STATES = {"unpaid", "paid"}


@dataclass(slots=True)
class FeedResult:
    orders: int = 0
    states: int = 0
    shipments: int = 0
    returns: int = 0

    def __str__(self) -> str:
        return (f"{self.orders} order(s), {self.states} state change(s), {self.shipments} shipment(s), "
                f"{self.returns} return(s)")


def _utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


def payment_kind(payment_state: str | None, method: str) -> str:
    """掛売 / 代引き / card / 先入金 from the mirror's payment state and the CS-Cart method name."""
    lowered = method.lower()
    if payment_state == "on_account" or "掛" in method:
        return "on_account"
    if payment_state == "cod" or "代引" in method or "代金引換" in method:
        return "cod"
    if payment_state == "authorised" or "カード" in method or "card" in lowered or "クレジット" in method:
        return "card"
    if payment_state in _PREPAID_STATES or "振込" in method or "入金" in method:
        return "prepaid"
    return "other"


def order_rows(rows: Iterable[Sequence[Any]],
               promotions: list[tuple[Any, ...]] | None = None) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(order rows, line rows) for the analytics tables from state-store rows
    (order_id, workflow_state, payment_state, data_json, updated_at); the applied promotions go to
    ``promotions`` when given. An order's campaigns are those CS-Cart reported and those of its promotions."""
    orders: list[tuple[Any, ...]] = []
    lines: list[tuple[Any, ...]] = []
    for order_id, state, payment_state, data_json, updated_at in rows:
        data = json.loads(data_json)
        placed = _utc(data["placed_at"])
        local = placed.astimezone(JST)
        shipping = data.get("shipping") or {}
        billing = data.get("billing") or {}
        extra = data.get("extra") or {}
        campaigns = [c for c in str(extra.get("campaigns", "")).split(",") if c]
        for promotion in data.get("promotions") or ():
            campaign = promotion.get("campaign_id") or ""
            if campaign and campaign not in campaigns:
                campaigns.append(campaign)
            if promotions is not None:
                promotions.append((order_id, int(promotion.get("promotion_id") or 0), campaign,
                                   str(promotion.get("discount") or "0"), bool(promotion.get("free_shipping")),
                                   json.dumps([[str(c), str(q)] for c, q in promotion.get("bonus_items") or ()],
                                              ensure_ascii=False)))
        requested = data.get("delivery_date")
        orders.append((
            order_id, _naive(placed), _naive(local), local.date(), data.get("customer_code") or "",
            data.get("user_id"), data.get("email") or "",
            shipping.get("prefecture") or billing.get("prefecture") or "",
            data.get("payment_method") or "", payment_kind(payment_state, data.get("payment_method") or ""),
            bool(data.get("direct_ship")), campaigns, state, data.get("total") or "0",
            data.get("subtotal") or "0", data.get("shipping_cost") or "0",
            date.fromisoformat(requested) if requested else None, _naive(_utc(updated_at)),
        ))
        for number, line in enumerate(data.get("lines") or ()):
            # decimals travel as text and DuckDB casts them: Python Decimal objects cost ten times more to convert
            quantity, price = line["quantity"], line["unit_price"]
            lines.append((order_id, number, line["product_code"], quantity, price,
                          str(Decimal(quantity) * Decimal(price))))
    return orders, lines


ORDER_COLUMNS = ("order_id", "placed_at", "placed_local", "placed_day", "customer_code", "user_id", "email",
                 "prefecture", "payment_method", "payment_kind", "direct_ship", "campaigns", "state", "total",
                 "subtotal", "shipping_cost", "requested_day", "updated_at")
LINE_COLUMNS = ("order_id", "line_no", "product_code", "quantity", "unit_price", "amount")


def _frame(rows: list[tuple[Any, ...]], columns: Sequence[str]) -> pd.DataFrame:
    """Rows as a frame DuckDB scans; Decimals become text (cast back in SQL), which converts far faster."""
    text = [c for c in columns if c in _CASTS and _CASTS[c].startswith("DECIMAL")]
    frame = pd.DataFrame.from_records(rows, columns=list(columns))
    for column in text:
        if frame[column].dtype == object:
            frame[column] = [None if v is None else str(v) for v in frame[column]]
    return frame


PROMOTION_COLUMNS = ("order_id", "promotion_id", "campaign_id", "discount", "free_shipping", "bonus_items")


def write_orders(con: Any, orders: list[tuple[Any, ...]], lines: list[tuple[Any, ...]],
                 promotions: list[tuple[Any, ...]] | None = None) -> None:
    """Upsert orders whole: their lines (and, when given, their promotions) are replaced."""
    if not orders:
        return
    con.register("new_orders", _frame(orders, ORDER_COLUMNS))
    con.register("new_lines", _frame(lines, LINE_COLUMNS))
    con.execute("BEGIN")
    if promotions is not None:
        con.execute("DELETE FROM order_promotions WHERE order_id IN (SELECT order_id FROM new_orders)")
        if promotions:
            con.register("new_promotions", _frame(promotions, PROMOTION_COLUMNS))
            con.execute("INSERT INTO order_promotions SELECT order_id, promotion_id, campaign_id, "
                        "CAST(discount AS DECIMAL(14,2)), free_shipping, bonus_items FROM new_promotions")
            con.unregister("new_promotions")
    con.execute("DELETE FROM order_lines WHERE order_id IN (SELECT order_id FROM new_orders)")
    con.execute("DELETE FROM orders WHERE order_id IN (SELECT order_id FROM new_orders)")
    con.execute(f"INSERT INTO orders ({', '.join(ORDER_COLUMNS)}) SELECT {', '.join(_casts(ORDER_COLUMNS))} "
                "FROM new_orders")
    con.execute(f"INSERT INTO order_lines ({', '.join(LINE_COLUMNS)}) SELECT {', '.join(_casts(LINE_COLUMNS))} "
                "FROM new_lines")
    con.execute("COMMIT")
    con.unregister("new_orders")
    con.unregister("new_lines")


_CASTS = {"total": "DECIMAL(14,2)", "subtotal": "DECIMAL(14,2)", "shipping_cost": "DECIMAL(14,2)",
          "quantity": "DECIMAL(14,3)", "unit_price": "DECIMAL(14,2)", "amount": "DECIMAL(16,2)",
          "campaigns": "VARCHAR[]", "requested_day": "DATE", "placed_day": "DATE", "cost_price": "DECIMAL(14,2)",
          "standard_price": "DECIMAL(14,2)", "on_hand": "DECIMAL(14,3)", "allocated": "DECIMAL(14,3)",
          "on_order": "DECIMAL(14,3)", "expected_on": "DATE", "day": "DATE", "credit_limit": "DECIMAL(14,0)",
          "updated_day": "DATE", "user_id": "BIGINT"}


def _load(con: Any, statement: str, rows: list[tuple[Any, ...]], columns: Sequence[str]) -> None:
    """``statement`` (``INSERT OR REPLACE INTO customers``, ``CREATE … AS``) ``SELECT`` the rows, cast to their
    columns' types."""
    con.register("incoming", _frame(rows, columns))
    con.execute(f"{statement} SELECT {', '.join(_casts(columns))} FROM incoming")
    con.unregister("incoming")


def _casts(columns: Sequence[str]) -> list[str]:
    return [f"CAST({c} AS {_CASTS[c]}) AS {c}" if c in _CASTS else c for c in columns]


def _cursor(con: Any, name: str, default: str) -> str:
    # fetchall, never fetchone: DuckDB keeps a result "unfinished" until a fetch returns nothing
    rows = con.execute("SELECT value FROM feed_cursors WHERE name = ?", [name]).fetchall()
    return rows[0][0] if rows else default


def _set_cursor(con: Any, name: str, value: str) -> None:
    con.execute("INSERT OR REPLACE INTO feed_cursors VALUES (?, ?)", [name, value])


def _read_state(state_path: Path) -> sqlite3.Connection:
    """A read-only connection to the state store (WAL: readers never block the daemon's writer)."""
    connection = sqlite3.connect(f"file:{state_path}?mode=ro", uri=True, timeout=30)
    connection.execute("PRAGMA query_only = ON")
    return connection


def _chunks(cursor: sqlite3.Cursor) -> Iterator[list[Any]]:
    while True:
        rows = cursor.fetchmany(BATCH)
        if not rows:
            return
        yield rows


def orders_from_state(state_path: Path, analytics: AnalyticsStore) -> FeedResult:
    """Copy what changed in the orders mirror since the last feed: orders (by updated_at), state changes and
    shipments (by id). Blocking; jobs run it in a thread."""
    result = FeedResult()
    state = _read_state(state_path)
    try:
        with analytics.connect() as con:
            since = _cursor(con, "orders.updated_at", "")
            # rows stamped in the same instant as the cursor are read again: re-upserting them is harmless
            cursor = state.execute(
                "SELECT order_id, workflow_state, payment_state, data_json, updated_at FROM orders "
                "WHERE updated_at >= ? ORDER BY updated_at", (since,))
            newest = since
            for rows in _chunks(cursor):
                promotions: list[tuple[Any, ...]] = []
                orders, lines = order_rows(rows, promotions)
                write_orders(con, orders, lines, promotions)
                result.orders += len(rows)
                newest = max(newest, rows[-1][4])
            _set_cursor(con, "orders.updated_at", newest)

            last = int(_cursor(con, "order_transitions.id", "0"))
            cursor = state.execute("SELECT id, order_id, to_state, at FROM order_transitions WHERE id > ? "
                                   "ORDER BY id", (last,))
            for rows in _chunks(cursor):
                frame = _frame([(i, o, s, _naive(_utc(at))) for i, o, s, at in rows],
                               ("transition_id", "order_id", "state", "entered_at"))
                con.register("new_states", frame)
                con.execute("INSERT OR REPLACE INTO order_states SELECT * FROM new_states")
                con.unregister("new_states")
                result.states += len(rows)
                last = rows[-1][0]
            _set_cursor(con, "order_transitions.id", str(last))

            last = int(_cursor(con, "carrier_shipments.id", "0"))
            if _has_table(state, "carrier_shipments"):
                cursor = state.execute("SELECT id, order_id, carrier, tracking_number, shipped_at FROM "
                                       "carrier_shipments WHERE id > ? ORDER BY id", (last,))
                for rows in _chunks(cursor):
                    shipped = [(i, o, c, t, _utc(at)) for i, o, c, t, at in rows]
                    frame = _frame([(i, o, c, t, _naive(at), at.astimezone(JST).date()) for i, o, c, t, at in shipped],
                                   ("shipment_id", "order_id", "carrier", "tracking_number", "shipped_at",
                                    "shipped_day"))
                    con.register("new_shipments", frame)
                    con.execute("INSERT OR REPLACE INTO shipments SELECT shipment_id, order_id, carrier, "
                                "tracking_number, shipped_at, CAST(shipped_day AS DATE) FROM new_shipments")
                    con.unregister("new_shipments")
                    result.shipments += len(rows)
                    last = rows[-1][0]
            _set_cursor(con, "carrier_shipments.id", str(last))
            slipped = _slipped_returns(state, _cursor(con, "returns.updated_at", ""))
        result.returns = _returns_from_state(slipped, analytics)
    finally:
        state.close()
    return result


def _slipped_returns(state: sqlite3.Connection, since: str) -> list[Any]:
    """The returns whose 返品 slip went to SMILE (state ``slipped``) since ``since`` (their ``updated_at``), read
    while the orders copy has the analytics store open: an orders copy with no new return opens it once, not twice."""
    if not _has_table(state, "returns"):
        return []
    return state.execute(
        "SELECT r.return_id, r.order_id, r.lines, r.updated_at, o.data_json FROM returns r "
        "LEFT JOIN orders o ON o.order_id = r.order_id WHERE r.state = 'slipped' AND r.updated_at >= ? "
        "ORDER BY r.updated_at", (since,)).fetchall()


def _returns_from_state(rows: list[Any], analytics: AnalyticsStore) -> int:
    """Copy the slipped returns (``_slipped_returns``): one row per product, credited on the day the slip was
    written (the day SMILE books it)."""
    if not rows:
        return 0
    items = []
    for return_id, order_id, lines, updated_at, data_json in rows:
        customer_code = (json.loads(data_json).get("customer_code") or "") if data_json else ""
        for line in json.loads(lines):
            quantity, price = Decimal(str(line["quantity"])), Decimal(str(line["unit_price"]))
            items.append(ReturnedItem(str(return_id), int(order_id), customer_code, str(line["product_code"]),
                                      quantity, quantity * price, _utc(updated_at), str(line.get("reason", ""))))
    record_returns(analytics, items)
    with analytics.connect() as con:
        _set_cursor(con, "returns.updated_at", max(row[3] for row in rows))
    return len(rows)


def _has_table(connection: sqlite3.Connection, name: str) -> bool:
    return connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() \
        is not None


# ---- returns (返品) ----------------------------------------------------------------------------------------

RETURN_COLUMNS = ("return_id", "order_id", "customer_code", "product_code", "quantity", "amount", "returned_at",
                  "returned_day", "reason")


@dataclass(frozen=True, slots=True)
class ReturnedItem:
    """One product of a return: what the returns flow hands to ``record_returns``."""

    return_id: str  # the return's id in the shop (CS-Cart rma return_id); with product_code, the row's key
    order_id: int
    customer_code: str  # 得意先コード ('' when unknown)
    product_code: str
    quantity: Decimal  # units returned, > 0
    amount: Decimal  # money credited for them, >= 0 (priced as the order line)
    returned_at: datetime  # when the return was accepted; timezone-aware
    reason: str = ""


def _checked(item: ReturnedItem) -> ReturnedItem:
    problems = []
    if not str(item.return_id).strip():
        problems.append("return_id is empty")
    if not str(item.product_code).strip():
        problems.append("product_code is empty")
    if not Decimal(item.quantity) > 0:
        problems.append(f"quantity {item.quantity} must be > 0")
    if not Decimal(item.amount) >= 0:
        problems.append(f"amount {item.amount} must be >= 0")
    if item.returned_at.tzinfo is None:
        problems.append("returned_at has no timezone (give an aware datetime)")
    if problems:
        raise ValueError(f"return {item.return_id!r} of order {item.order_id}, product {item.product_code!r}: "
                         + "; ".join(problems))
    return item


def record_returns(analytics: AnalyticsStore, items: Iterable[ReturnedItem]) -> int:
    """Store returned goods; the sales and customer reports are net of them from their JST day on. Idempotent:
    a (return_id, product_code) fed again replaces its row; several items of one product in the same call are
    added up. Every item is checked before anything is written (ValueError naming the return and field).
    Returns how many rows were written. Blocking (jobs run it in a thread)."""
    merged: dict[tuple[str, str], ReturnedItem] = {}
    for item in map(_checked, items):
        key = (str(item.return_id), item.product_code)
        if key in merged:
            first = merged[key]
            item = ReturnedItem(first.return_id, first.order_id, first.customer_code, first.product_code,
                                Decimal(first.quantity) + Decimal(item.quantity),
                                Decimal(first.amount) + Decimal(item.amount), first.returned_at, first.reason)
        merged[key] = item
    if not merged:
        return 0
    rows = []
    for item in merged.values():
        at = item.returned_at.astimezone(UTC)
        rows.append((str(item.return_id), int(item.order_id), item.customer_code or "", item.product_code,
                     str(item.quantity), str(item.amount), _naive(at), at.astimezone(JST).date(), item.reason or ""))
    frame = _frame(rows, RETURN_COLUMNS)
    with analytics.connect() as con:
        con.register("new_returns", frame)
        con.execute("INSERT OR REPLACE INTO returns SELECT return_id, order_id, customer_code, product_code, "
                    "CAST(quantity AS DECIMAL(14,3)), CAST(amount AS DECIMAL(16,2)), returned_at, "
                    "CAST(returned_day AS DATE), reason FROM new_returns")
        con.unregister("new_returns")
    return len(rows)


def record_return(analytics: AnalyticsStore, *, return_id: str, order_id: int, customer_code: str,
                  product_code: str, quantity: Decimal, amount: Decimal, returned_at: datetime,
                  reason: str = "") -> int:
    """One returned product (see ``record_returns``)."""
    return record_returns(analytics, [ReturnedItem(return_id, order_id, customer_code, product_code, quantity,
                                                   amount, returned_at, reason)])


# ---- SMILE snapshots ------------------------------------------------------------------------------------------

STOCK_COLUMNS = ("product_code", "warehouse_code", "day", "on_hand", "allocated", "on_order", "expected_on")


def stock(analytics: AnalyticsStore, levels: Iterable[StockLevel], day: date, *, mark: str | None = None) -> int:
    """One 在庫 snapshot as of ``day`` (JST), compared with the last known figures (``stock_current``): a
    ``stock_changes`` row for each SKU and warehouse that differs (a later snapshot of the same day replaces that
    day's row), and a row of zeros for one that left the file. Returns how many differed (0 when the same snapshot
    is fed again). The cost is one pass over the snapshot, however long the history; the memory, one chunk of it
    (``stock_delta.stock_snapshot``). ``mark``: the snapshot's (``stock_delta``'s ``expect``)."""
    return stock_snapshot(analytics, levels, day, mark=mark)


def stock_frame(analytics: AnalyticsStore, frame: pd.DataFrame, day: date, *, mark: str | None = None) -> int:
    """``stock`` for a snapshot already in columns (``STOCK_COLUMNS``; decimals as text or numbers)."""
    with analytics.connect() as con:
        con.register("snapshot", frame)
        con.execute("BEGIN")
        con.execute("CREATE OR REPLACE TEMP TABLE snap AS SELECT " + ", ".join(_casts(STOCK_COLUMNS)) +
                    " FROM snapshot")
        con.unregister("snapshot")
        written = fold_snapshot(con, day, leaving="ANTI JOIN snap s", mark=mark)
        con.execute("COMMIT")
    return int(written)


PRODUCT_COLUMNS = ("product_code", "name", "category_code", "maker_name", "cost_price", "standard_price",
                   "updated_day")


def products(analytics: AnalyticsStore, items: Iterable[Product], day: date) -> int:
    """商品マスター: attributes now, and a price_history row for each product whose cost or price changed."""
    rows = [(p.code, p.name, p.category_code, p.maker_name, p.cost_price, p.standard_price, day) for p in items]
    if not rows:
        return 0
    with analytics.connect() as con:
        _load(con, "CREATE OR REPLACE TEMP TABLE incoming_products AS", rows, PRODUCT_COLUMNS)
        con.execute("BEGIN")
        changed = con.execute("""
            INSERT OR REPLACE INTO price_history
            SELECT i.product_code, i.updated_day, i.cost_price, i.standard_price FROM incoming_products i
            LEFT JOIN (SELECT product_code, arg_max_null(cost_price, day) AS cost_price,
                              arg_max_null(standard_price, day) AS standard_price
                       FROM price_history WHERE day <= (SELECT MAX(updated_day) FROM incoming_products)
                       GROUP BY product_code) h USING (product_code)
            WHERE h.product_code IS NULL OR i.cost_price IS DISTINCT FROM h.cost_price
               OR i.standard_price IS DISTINCT FROM h.standard_price""").fetchall()[0][0]
        con.execute("INSERT OR REPLACE INTO products SELECT * FROM incoming_products")
        con.execute("COMMIT")
        con.execute("DROP TABLE incoming_products")
    return int(changed)


CUSTOMER_COLUMNS = ("customer_code", "name", "prefecture", "customer_group", "credit_limit", "suspended",
                    "updated_day")


def customer_group(customer: Customer) -> str:
    if customer.rate_percent is not None:
        return f"掛率{customer.rate_percent.normalize():f}%"
    if customer.price_rank:
        return f"ランク{customer.price_rank}"
    return "標準"


def customers(analytics: AnalyticsStore, items: Iterable[Customer], day: date) -> int:
    rows = [(c.code, c.name, c.address.prefecture, customer_group(c), c.credit_limit, c.suspended, day)
            for c in items]
    if not rows:
        return 0
    with analytics.connect() as con:
        _load(con, "INSERT OR REPLACE INTO customers", rows, CUSTOMER_COLUMNS)
    return len(rows)
