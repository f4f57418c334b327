"""Figures for the business dashboard, read from the orders mirror: today's orders and sales (直送 apart), the last
hour's orders, today's shipments, held orders by kind of reason. Cheap queries over indexed columns; the daemon
refreshes them with the other gauges (bridge/daemon.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from aiosqlite import Connection

from bridge.domain.time import JST, iso

# Kinds of hold reason (a bounded label set for the metric), by the words the gates write (bridge/rules/order_flow.py)
# in English and in Japanese (the reasons are written in the daemon's ui.language; tests/i18n/test_deep_messages.py
# checks that every gate reason falls in the same kind in both).
HOLD_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("payment", ("waiting for payment", "先入金", "not authorised", "承認されていません", "代引", "payment method",
                 "支払方法")),
    ("credit", ("credit limit", "与信")),
    ("unknown_code", ("unknown product", "unknown to smile", "customer code", "不明な商品コード", "得意先コード")),
    ("direct_ship", ("直送",)),
    ("order_data", ("no items", "'?'", "numbers", "商品がありません")),
    ("stock", ("stock", "在庫")),
)
STAFF = "staff"


def hold_kind(hold_by: str | None, reason: str | None) -> str:
    if hold_by == STAFF:
        return "staff"
    text = (reason or "").lower()
    for kind, words in HOLD_KINDS:
        if any(word.lower() in text for word in words):
            return kind
    return "other"


@dataclass(slots=True)
class Figures:
    orders_today: dict[bool, int] = field(default_factory=lambda: {False: 0, True: 0})  # by 直送
    sales_today: dict[bool, Decimal] = field(default_factory=lambda: {False: Decimal(0), True: Decimal(0)})
    orders_last_hour: int = 0
    shipped_today: int = 0
    on_hold: dict[str, int] = field(default_factory=dict)  # by hold kind


def day_start(now: datetime) -> datetime:
    """00:00 of the shop's business day (JST) containing ``now``."""
    local = now.astimezone(JST)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


async def figures(tx: Connection, now: datetime) -> Figures:
    found = Figures()
    since = iso(day_start(now))
    async with tx.execute(
        "SELECT direct_ship, total FROM orders WHERE placed_at >= ? AND workflow_state != 'cancelled'", (since,)
    ) as cursor:
        async for direct, total in cursor:
            found.orders_today[bool(direct)] += 1
            found.sales_today[bool(direct)] += Decimal(total)
    hour_ago = iso(now - timedelta(hours=1))
    async with tx.execute("SELECT COUNT(*) FROM orders WHERE placed_at >= ?", (hour_ago,)) as cursor:
        row = await cursor.fetchone()
        found.orders_last_hour = int(row[0]) if row else 0
    async with tx.execute(
        "SELECT COUNT(DISTINCT order_id) FROM order_transitions WHERE to_state = 'shipped' AND at >= ?", (since,)
    ) as cursor:
        row = await cursor.fetchone()
        found.shipped_today = int(row[0]) if row else 0
    async with tx.execute("SELECT hold_by, hold_reason FROM orders WHERE workflow_state = 'hold'") as cursor:
        async for hold_by, reason in cursor:
            kind = hold_kind(hold_by, reason)
            found.on_hold[kind] = found.on_hold.get(kind, 0) + 1
    return found
