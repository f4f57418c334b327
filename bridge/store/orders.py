"""The orders mirror: every CS-Cart order with its workflow state, payment state, SMILE binding and history."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bridge.domain.orders import Order, PaymentState, WorkflowState
from bridge.domain.serialize import from_data, to_data
from bridge.domain.time import iso, utcnow
from bridge.store.db import Connection

OPEN_STATES = (WorkflowState.RECEIVED, WorkflowState.HOLD, WorkflowState.SHIPPING_INSTRUCTED)


@dataclass(frozen=True, slots=True)
class MirroredOrder:
    order: Order
    workflow_state: WorkflowState
    payment_state: PaymentState | None
    smile_slip_no: str | None
    smile_serial: str | None
    exported_at: str | None
    confirmed_at: str | None


@dataclass(frozen=True, slots=True)
class Transition:
    from_state: WorkflowState | None
    to_state: WorkflowState
    reason: str
    at: str


async def get(tx: Connection, order_id: int) -> MirroredOrder | None:
    cursor = await tx.execute("SELECT * FROM orders WHERE order_id = ?", (order_id,))
    row = await cursor.fetchone()
    if row is None:
        return None
    return MirroredOrder(
        order=from_data(Order, json.loads(row["data_json"])),
        workflow_state=WorkflowState(row["workflow_state"]),
        payment_state=PaymentState(row["payment_state"]) if row["payment_state"] else None,
        smile_slip_no=row["smile_slip_no"],
        smile_serial=row["smile_serial"],
        exported_at=row["exported_at"],
        confirmed_at=row["confirmed_at"],
    )


async def upsert(
    tx: Connection, order: Order, *, initial_state: WorkflowState, payment_state: PaymentState | None = None,
    exists: bool | None = None,
) -> MirroredOrder | None:
    """Mirror the CS-Cart order as it is now; a new order enters ``initial_state``. Returns the previous mirror.

    A caller that already knows whether the order is mirrored passes ``exists`` and saves reading it back (the
    previous mirror is then not returned)."""
    previous = await get(tx, order.order_id) if exists is None else None
    is_new = previous is None if exists is None else not exists
    stamp = iso(utcnow())
    data = json.dumps(to_data(order), ensure_ascii=False, sort_keys=True)
    if is_new:
        await tx.execute(
            "INSERT INTO orders (order_id, cscart_status, workflow_state, payment_state, customer_code, direct_ship, "
            "total, placed_at, cscart_updated_at, data_json, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (order.order_id, order.status, initial_state.value, payment_state.value if payment_state else None,
             order.customer_code, int(order.direct_ship), str(order.total), iso(order.placed_at),
             iso(order.updated_at), data, stamp),
        )
        await _record_transition(tx, order.order_id, None, initial_state, "order mirrored from CS-Cart", stamp)
    else:
        await tx.execute(
            "UPDATE orders SET cscart_status = ?, payment_state = COALESCE(?, payment_state), customer_code = ?, "
            "direct_ship = ?, total = ?, cscart_updated_at = ?, data_json = ?, updated_at = ? WHERE order_id = ?",
            (order.status, payment_state.value if payment_state else None, order.customer_code,
             int(order.direct_ship), str(order.total), iso(order.updated_at), data, stamp, order.order_id),
        )
    await tx.execute("DELETE FROM order_lines WHERE order_id = ?", (order.order_id,))
    await tx.executemany(
        "INSERT INTO order_lines (order_id, line_no, product_code, quantity) VALUES (?, ?, ?, ?)",
        [(order.order_id, n, line.product_code, str(line.quantity)) for n, line in enumerate(order.lines)],
    )
    return previous


async def insert_many(tx: Connection, new: Sequence[tuple[Order, WorkflowState, PaymentState | None]], *,
                      data: Mapping[int, Any] | None = None,
                      first_seen: Mapping[int, tuple[str, str | None, str | None]] | None = None) -> None:
    """``upsert`` for orders not mirrored yet, many in one round trip per table (order bursts): each enters its
    state with the transition "order mirrored from CS-Cart". ``data``: order_id → ``to_data(order)`` when the caller
    has it already; ``first_seen``: order_id → (content hash, hold_by, hold_reason) of the first sighting, written
    with the row (absent: NULL)."""
    data = data or {}
    first_seen = first_seen or {}
    if not new:
        return
    stamp = iso(utcnow())
    unseen: tuple[str | None, str | None, str | None] = (None, None, None)
    await tx.executemany(
        "INSERT INTO orders (order_id, cscart_status, workflow_state, payment_state, customer_code, direct_ship, "
        "total, placed_at, cscart_updated_at, data_json, updated_at, content_hash, hold_by, hold_reason) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(order.order_id, order.status, state.value, payment.value if payment else None, order.customer_code,
          int(order.direct_ship), str(order.total), iso(order.placed_at), iso(order.updated_at),
          json.dumps(data[order.order_id] if order.order_id in data else to_data(order), ensure_ascii=False,
                     sort_keys=True), stamp, *first_seen.get(order.order_id, unseen)) for order, state, payment in new],
    )
    await tx.executemany(
        "INSERT INTO order_transitions (order_id, from_state, to_state, reason, at) VALUES (?, NULL, ?, ?, ?)",
        [(order.order_id, state.value, "order mirrored from CS-Cart", stamp) for order, state, _ in new],
    )
    await tx.executemany(
        "INSERT INTO order_lines (order_id, line_no, product_code, quantity) VALUES (?, ?, ?, ?)",
        [(order.order_id, n, line.product_code, str(line.quantity)) for order, _, _ in new
         for n, line in enumerate(order.lines)],
    )


async def refresh_many(tx: Connection, orders: Sequence[tuple[Order, PaymentState | None]]) -> None:
    """Mirrored orders whose lines did not change (a new status letter, a new ``updated_at``): the CS-Cart side of
    the row rewritten in one statement; workflow state and history stay as they are."""
    stamp = iso(utcnow())
    await tx.executemany(
        "UPDATE orders SET cscart_status = ?, payment_state = COALESCE(?, payment_state), customer_code = ?, "
        "direct_ship = ?, total = ?, cscart_updated_at = ?, data_json = ?, updated_at = ? WHERE order_id = ?",
        [(order.status, payment.value if payment else None, order.customer_code, int(order.direct_ship),
          str(order.total), iso(order.updated_at), json.dumps(to_data(order), ensure_ascii=False, sort_keys=True),
          stamp, order.order_id) for order, payment in orders],
    )


async def set_cscart_status_many(tx: Connection, letters: Sequence[tuple[int, str]]) -> None:
    """The letter CS-Cart now has, for orders not re-read (the echo of the bridge's own status write): the mirror's
    copy of it, in the column and in the stored order; nothing else changes."""
    if letters:
        await tx.executemany(
            "UPDATE orders SET cscart_status = ?, data_json = json_set(data_json, '$.status', ?) WHERE order_id = ?",
            [(letter, letter, order_id) for order_id, letter in letters])


async def transition(tx: Connection, order_id: int, to_state: WorkflowState, reason: str) -> WorkflowState:
    """Move the mirror to ``to_state`` with a reason for people; returns the state it left.

    Whether the move is allowed is the rules' decision (order_flow.yaml), made before this is called.
    """
    cursor = await tx.execute("SELECT workflow_state FROM orders WHERE order_id = ?", (order_id,))
    row = await cursor.fetchone()
    if row is None:
        raise KeyError(f"order {order_id} is not mirrored")
    previous = WorkflowState(row[0])
    stamp = iso(utcnow())
    await tx.execute("UPDATE orders SET workflow_state = ?, updated_at = ? WHERE order_id = ?",
                     (to_state.value, stamp, order_id))
    await _record_transition(tx, order_id, previous, to_state, reason, stamp)
    return previous


async def _record_transition(
    tx: Connection, order_id: int, from_state: WorkflowState | None, to_state: WorkflowState, reason: str, at: str
) -> None:
    await tx.execute(
        "INSERT INTO order_transitions (order_id, from_state, to_state, reason, at) VALUES (?, ?, ?, ?, ?)",
        (order_id, from_state.value if from_state else None, to_state.value, reason, at),
    )


async def history(tx: Connection, order_id: int) -> list[Transition]:
    cursor = await tx.execute(
        "SELECT from_state, to_state, reason, at FROM order_transitions WHERE order_id = ? ORDER BY id", (order_id,)
    )
    return [
        Transition(WorkflowState(r[0]) if r[0] else None, WorkflowState(r[1]), r[2], r[3])
        for r in await cursor.fetchall()
    ]


async def get_many(tx: Connection, order_ids: list[int], *,
                   known: Mapping[int, Order] | None = None) -> dict[int, MirroredOrder]:
    """``get`` for many orders in few queries (the orders job gates and exports thousands per cycle). ``known``: the
    orders the caller itself just mirrored, taken as they are instead of parsed back from their stored data (the
    same order: tests/orders/test_bounded_runs.py checks the round trip)."""
    known = known or {}
    found: dict[int, MirroredOrder] = {}
    for start in range(0, len(order_ids), 500):
        chunk = order_ids[start:start + 500]
        cursor = await tx.execute(f"SELECT * FROM orders WHERE order_id IN ({','.join('?' for _ in chunk)})", chunk)
        for row in await cursor.fetchall():
            order_id = row["order_id"]
            found[order_id] = MirroredOrder(
                order=known[order_id] if order_id in known else from_data(Order, json.loads(row["data_json"])),
                workflow_state=WorkflowState(row["workflow_state"]),
                payment_state=PaymentState(row["payment_state"]) if row["payment_state"] else None,
                smile_slip_no=row["smile_slip_no"], smile_serial=row["smile_serial"],
                exported_at=row["exported_at"], confirmed_at=row["confirmed_at"],
            )
    return found


async def export_many(tx: Connection, reasons: dict[int, str], to_state: WorkflowState,
                      batch: str) -> dict[int, WorkflowState]:
    """Orders written to a 受注 batch, in one pass over their rows: moved to ``to_state`` (a transition recorded with
    its reason), their hold cleared and marked exported in ``batch``; returns the states they left."""
    ids = list(reasons)
    previous = await states_of(tx, ids)
    missing = sorted(set(ids) - set(previous))
    if missing:
        raise KeyError(f"orders {missing} are not mirrored")
    stamp = iso(utcnow())
    await tx.executemany(
        "UPDATE orders SET workflow_state = ?, hold_by = NULL, hold_reason = NULL, exported_at = ?, updated_at = ? "
        "WHERE order_id = ?", [(to_state.value, f"{stamp} {batch}", stamp, order_id) for order_id in ids])
    await tx.executemany(
        "INSERT INTO order_transitions (order_id, from_state, to_state, reason, at) VALUES (?, ?, ?, ?, ?)",
        [(order_id, previous[order_id].value, to_state.value, reasons[order_id], stamp) for order_id in ids],
    )
    return previous


async def mark_exported_many(tx: Connection, order_ids: list[int], batch: str) -> None:
    stamp = iso(utcnow())
    await tx.executemany("UPDATE orders SET exported_at = ?, updated_at = ? WHERE order_id = ?",
                         [(f"{stamp} {batch}", stamp, order_id) for order_id in order_ids])


async def mark_exported(tx: Connection, order_id: int, batch: str) -> None:
    await tx.execute("UPDATE orders SET exported_at = ?, updated_at = ? WHERE order_id = ?",
                     (f"{iso(utcnow())} {batch}", iso(utcnow()), order_id))


async def confirm(tx: Connection, order_id: int, slip_no: str, serial: str | None) -> None:
    """SMILE's read-back shows the order: bind its 伝票番号 / 処理連番."""
    await tx.execute(
        "UPDATE orders SET smile_slip_no = ?, smile_serial = ?, confirmed_at = COALESCE(confirmed_at, ?), "
        "updated_at = ? WHERE order_id = ?",
        (slip_no, serial, iso(utcnow()), iso(utcnow()), order_id),
    )


async def in_state(tx: Connection, state: WorkflowState) -> list[int]:
    cursor = await tx.execute("SELECT order_id FROM orders WHERE workflow_state = ? ORDER BY order_id", (state.value,))
    return [row[0] for row in await cursor.fetchall()]


async def entered_at(tx: Connection, state: WorkflowState, *, moved_only: bool = False) -> dict[int, str]:
    """Orders now in ``state`` → when they last entered it (ISO time of the transition). ``moved_only`` leaves out
    orders that were mirrored in that state and never moved into it."""
    moved = " AND t.from_state IS NOT NULL" if moved_only else ""
    cursor = await tx.execute(
        "SELECT o.order_id, MAX(t.at) FROM orders o JOIN order_transitions t ON t.order_id = o.order_id "
        f"AND t.to_state = o.workflow_state{moved} WHERE o.workflow_state = ? GROUP BY o.order_id "
        "ORDER BY o.order_id",
        (state.value,),
    )
    return {row[0]: row[1] for row in await cursor.fetchall()}


async def unconfirmed_quantities(tx: Connection) -> dict[str, Decimal]:
    """Per product code: quantities in open CS-Cart orders that SMILE has not confirmed yet (the stock job subtracts
    them, because SMILE's on-hand and allocated figures do not know these orders)."""
    marks = ",".join("?" for _ in OPEN_STATES)
    cursor = await tx.execute(
        f"SELECT l.product_code, l.quantity FROM order_lines l JOIN orders o ON o.order_id = l.order_id "
        f"WHERE o.confirmed_at IS NULL AND o.workflow_state IN ({marks})",
        [s.value for s in OPEN_STATES],
    )
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for code, quantity in await cursor.fetchall():
        totals[code] += Decimal(quantity)
    return dict(totals)


async def counts_by_state(tx: Connection) -> dict[str, int]:
    cursor = await tx.execute("SELECT workflow_state, COUNT(*) FROM orders GROUP BY workflow_state")
    counts = {state.value: 0 for state in WorkflowState}
    counts.update({row[0]: row[1] for row in await cursor.fetchall()})
    return counts


# -- what the workflow reads and writes besides the state ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Seen:
    """The mirror's record of an order, enough to tell that a re-read order has not changed."""

    status: str
    updated_at: str | None
    payment_state: PaymentState | None
    content_hash: str | None
    workflow_state: WorkflowState
    hold_by: str | None


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    return [ids[start:start + size] for start in range(0, len(ids), size)]


def _marks(chunk: list[int]) -> str:
    return ",".join("?" for _ in chunk)


async def seen_many(tx: Connection, order_ids: list[int]) -> dict[int, Seen]:
    found: dict[int, Seen] = {}
    for chunk in _chunks(order_ids):
        cursor = await tx.execute(
            "SELECT order_id, cscart_status, cscart_updated_at, payment_state, content_hash, workflow_state, hold_by "
            f"FROM orders WHERE order_id IN ({_marks(chunk)})", chunk)
        for row in await cursor.fetchall():
            found[row[0]] = Seen(row[1], row[2], PaymentState(row[3]) if row[3] else None, row[4],
                                 WorkflowState(row[5]), row[6])
    return found


async def states_of(tx: Connection, order_ids: list[int]) -> dict[int, WorkflowState]:
    states: dict[int, WorkflowState] = {}
    for chunk in _chunks(order_ids):
        cursor = await tx.execute(
            f"SELECT order_id, workflow_state FROM orders WHERE order_id IN ({_marks(chunk)})", chunk)
        states.update({row[0]: WorkflowState(row[1]) for row in await cursor.fetchall()})
    return states


async def set_content_hash(tx: Connection, order_id: int, digest: str) -> None:
    await tx.execute("UPDATE orders SET content_hash = ? WHERE order_id = ?", (digest, order_id))


async def set_hold(tx: Connection, order_id: int, hold_by: str | None, reason: str | None) -> None:
    """Who holds the order and why (both None once it leaves 保留)."""
    await tx.execute("UPDATE orders SET hold_by = ?, hold_reason = ? WHERE order_id = ?", (hold_by, reason, order_id))


async def set_hold_reason(tx: Connection, order_id: int, reason: str) -> None:
    await tx.execute("UPDATE orders SET hold_reason = ? WHERE order_id = ?", (reason, order_id))


async def hold_reason(tx: Connection, order_id: int) -> str | None:
    cursor = await tx.execute("SELECT hold_reason FROM orders WHERE order_id = ?", (order_id,))
    row = await cursor.fetchone()
    return row[0] if row else None


async def hold_of(tx: Connection, order_id: int) -> tuple[str | None, str | None]:
    """(hold_by, hold_reason) of one order."""
    cursor = await tx.execute("SELECT hold_by, hold_reason FROM orders WHERE order_id = ?", (order_id,))
    row = await cursor.fetchone()
    return (row[0], row[1]) if row else (None, None)


async def history_steps(tx: Connection, order_id: int) -> int:
    """How many transitions the order has: part of each status write's idempotency key."""
    cursor = await tx.execute("SELECT COUNT(*) FROM order_transitions WHERE order_id = ?", (order_id,))
    row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def gate_candidates(tx: Connection) -> list[tuple[int, str | None, str | None]]:
    """(order id, hold_by, hold_reason) of orders in 受注 or 保留 with no live 受注 export: what the gates look at."""
    cursor = await tx.execute(
        "SELECT o.order_id, o.hold_by, o.hold_reason FROM orders o WHERE o.workflow_state IN (?, ?) AND NOT "
        "EXISTS (SELECT 1 FROM order_exports e WHERE e.order_id = o.order_id AND e.kind = 'order' AND "
        "e.superseded_at IS NULL) ORDER BY o.order_id",
        (WorkflowState.RECEIVED.value, WorkflowState.HOLD.value),
    )
    return [(row[0], row[1], row[2]) for row in await cursor.fetchall()]


async def label_candidates(tx: Connection, held_by: str) -> list[int]:
    """Orders the bridge moved to 出荷指示 that have no carrier label yet, plus those on ``held_by``'s 保留."""
    cursor = await tx.execute(
        "SELECT o.order_id FROM orders o WHERE (o.workflow_state = ? AND EXISTS (SELECT 1 FROM order_transitions t "
        "WHERE t.order_id = o.order_id AND t.to_state = o.workflow_state AND t.from_state IS NOT NULL) AND NOT EXISTS "
        "(SELECT 1 FROM carrier_labels l WHERE l.order_id = o.order_id)) OR (o.workflow_state = ? AND o.hold_by = ?) "
        "ORDER BY o.order_id",
        (WorkflowState.SHIPPING_INSTRUCTED.value, WorkflowState.HOLD.value, held_by),
    )
    return [row[0] for row in await cursor.fetchall()]


async def issued_label(tx: Connection, order_id: int) -> tuple[str, str] | None:
    """(carrier, label file) when a carrier label file already carries the order."""
    cursor = await tx.execute("SELECT carrier, file_name FROM carrier_labels WHERE order_id = ?", (order_id,))
    row = await cursor.fetchone()
    return None if row is None else (str(row[0]), str(row[1]))


async def open_direct_ship_ids(tx: Connection) -> list[int]:
    """直送 orders the gates still judge: 受注 or 保留 and not exported to SMILE."""
    cursor = await tx.execute(
        "SELECT o.order_id FROM orders o WHERE o.direct_ship = 1 AND o.workflow_state IN (?, ?) AND NOT EXISTS "
        "(SELECT 1 FROM order_exports e WHERE e.order_id = o.order_id AND e.kind = 'order' AND "
        "e.superseded_at IS NULL) ORDER BY o.order_id",
        (WorkflowState.RECEIVED.value, WorkflowState.HOLD.value))
    return [int(row[0]) for row in await cursor.fetchall()]


async def receivable_orders(tx: Connection, states: tuple[WorkflowState, ...],
                            customers: Sequence[str] | None = None
                            ) -> list[tuple[str, Decimal, str | None, str | None]]:
    """(得意先コード, total, live 受注 export time or None, payment state) of every order with a customer code that
    is not cancelled and was exported to SMILE or is in ``states``; ``customers``: only these 得意先コード (through
    the customer_code index), not every customer's."""
    marks = ",".join("?" for _ in states)
    only = ""
    codes: list[str] = []
    if customers is not None:
        codes = sorted(set(customers))
        if not codes:
            return []
        only = f" AND o.customer_code IN ({','.join('?' for _ in codes)})"
    cursor = await tx.execute(
        "SELECT o.customer_code, o.total, e.exported_at, o.payment_state FROM orders o "
        "LEFT JOIN order_exports e ON e.order_id = o.order_id AND e.kind = 'order' AND e.superseded_at IS NULL "
        "WHERE o.customer_code IS NOT NULL AND o.customer_code != '' AND o.workflow_state != ? "
        f"AND (e.exported_at IS NOT NULL OR o.workflow_state IN ({marks})){only}",
        [WorkflowState.CANCELLED.value, *(state.value for state in states), *codes])
    return [(row[0], Decimal(row[1]), row[2], row[3]) for row in await cursor.fetchall()]


async def listing(tx: Connection, state: WorkflowState | None, flagged: bool) -> list[dict[str, Any]]:
    """order_id, workflow_state, cscart_status, customer_code, total, placed_at, hold_reason and the open flags of
    each order, for ``bridge orders list``; optionally only one state, or only orders with an open flag."""
    sql = ("SELECT o.order_id, o.workflow_state, o.cscart_status, o.customer_code, o.total, o.placed_at, "
           "o.hold_reason, (SELECT group_concat(f.kind || ': ' || f.detail, ' | ') FROM order_flags f "
           "WHERE f.order_id = o.order_id AND f.resolved_at IS NULL) AS flags FROM orders o")
    where: list[str] = []
    params: list[str] = []
    if state is not None:
        where.append("o.workflow_state = ?")
        params.append(state.value)
    if flagged:
        where.append("EXISTS (SELECT 1 FROM order_flags f WHERE f.order_id = o.order_id AND f.resolved_at IS NULL)")
    if where:
        sql += " WHERE " + " AND ".join(where)
    cursor = await tx.execute(sql + " ORDER BY o.order_id", params)
    return [dict(row) for row in await cursor.fetchall()]


async def export_history(tx: Connection, order_id: int) -> list[tuple[Any, ...]]:
    """(batch id, file name, batch state, exported at, superseded at, superseded reason) of each 受注 export."""
    cursor = await tx.execute(
        "SELECT e.batch_id, b.file_name, b.state, e.exported_at, e.superseded_at, e.superseded_reason "
        "FROM order_exports e JOIN order_export_batches b ON b.batch_id = e.batch_id WHERE e.order_id = ? "
        "ORDER BY e.id", (order_id,))
    return [tuple(row) for row in await cursor.fetchall()]


async def not_cancelled(tx: Connection) -> list[Order]:
    """Every mirrored order except cancelled ones, oldest first (the campaigns effect report)."""
    cursor = await tx.execute("SELECT data_json FROM orders WHERE workflow_state != ? ORDER BY order_id",
                              (WorkflowState.CANCELLED.value,))
    return [from_data(Order, json.loads(row[0])) for row in await cursor.fetchall()]
