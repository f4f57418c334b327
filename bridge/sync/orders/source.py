"""Where the orders job learns about new and changed CS-Cart orders.

``OrderSource`` is the seam: the polling source below (``updated_at_from`` with an overlap window, capped at the
sync start) is the safety net that always works; the add-on's event feed plugs in behind the same protocol.
Duplicates are harmless by design (the mirror upsert is idempotent), so every source is at-least-once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from bridge.cscart import mapping as m
from bridge.cscart import messages as msg
from bridge.domain.orders import Order
from bridge.domain.time import parse_iso, to_unix
from bridge.i18n import said
from bridge.store import Store, cursors
from bridge.store.db import Connection

POLL_CURSOR = "orders.updated_at_from"
MAX_RESCANS = 3  # a listing whose total moved while we paged is read again (page boundaries shifted)


@dataclass(frozen=True, slots=True)
class OrderBatch:
    """What one detection pass found; ``commit`` moves the cursor inside the job's store transaction."""

    orders: list[Order]
    cursor_name: str
    next_cursor: str | None
    pages: int = 0
    rescans: int = 0
    more: bool = False  # the source holds more right now (a bounded run): the job runs again at once

    async def commit(self, tx: Connection) -> None:
        if self.next_cursor is not None:
            await cursors.set_(tx, self.cursor_name, self.next_cursor)


class OrderSource(Protocol):
    name: str

    async def fetch(self, store: Store, started_at: datetime) -> OrderBatch: ...


class OrderLister(Protocol):
    """The part of ``CSCartClient`` the polling source needs (``request``)."""

    async def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None) -> Any: ...


def addon_fields(order: Order, row: Mapping[str, Any]) -> Order:
    """The add-on's columns on an order row (``smile_direct_ship`` …) into the record; absent columns change
    nothing, so a store without the add-on yields plain orders."""
    direct = str(row.get("smile_direct_ship") or "N").upper() == "Y"
    extra = dict(order.extra)
    surcharge = row.get("smile_direct_ship_surcharge")
    if surcharge not in (None, ""):
        extra["direct_ship_surcharge"] = str(m.as_decimal(row, "smile_direct_ship_surcharge",
                                                          where=f"order {order.order_id}"))
    recipient = m.as_str(row, "smile_direct_ship_recipient")
    if recipient:
        extra["direct_ship_recipient"] = recipient
    requested, slot = delivery_fields(row, extra)
    ship_to = m.as_str(row, "smile_ship_to_code")
    if direct == order.direct_ship and ship_to == order.ship_to_code and extra == order.extra and not requested \
            and not slot:
        return order  # nothing of the add-on's on this order (most orders): no second copy of the record
    return replace(order, direct_ship=direct, ship_to_code=ship_to, extra=extra,
                   delivery_date=requested or order.delivery_date, delivery_slot=slot or order.delivery_slot)


def delivery_fields(row: Mapping[str, Any], extra: dict[str, str]) -> tuple[date | None, str]:
    """お届け希望日 and 時間帯 chosen at checkout: the add-on's ``smile_delivery_date`` / ``smile_delivery_slot``
    (which carry CS-Cart.jp's ``jp_order_delivery_info`` values when ``orders.delivery_fields`` is ``cscart_jp``).
    A date the bridge cannot read is kept as text in ``extra["delivery_date_text"]`` for staff."""
    raw = m.as_str(row, "smile_delivery_date").strip()
    slot = m.as_str(row, "smile_delivery_slot").strip()
    if not raw:
        return None, slot
    parsed = parse_requested_date(raw)
    if parsed is None:
        extra["delivery_date_text"] = raw
    return parsed, slot


_JP_DATE = re.compile(r"^(\d{4})\s*[年/\-.]\s*(\d{1,2})\s*[月/\-.]\s*(\d{1,2})\s*日?")


def parse_requested_date(raw: str) -> date | None:
    """2026-12-05, 2026/12/5, 20261205, 2026年12月5日(土) → the date; anything else → None (指定なし and the like)."""
    text = unicodedata.normalize("NFKC", raw).strip()
    if len(text) == 8 and text.isdigit():
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    found = _JP_DATE.match(text)
    if found is None:
        return None
    try:
        return date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        return None


def direct_ship_surcharge(order: Order) -> Decimal:
    return Decimal(order.extra.get("direct_ship_surcharge", "0"))


class PollingSource:
    """``GET /orders?updated_at_from=…&updated_at_to=<sync start>&get_orders_data=1`` with an explicit page size.

    The window starts ``overlap`` before the last sync start (late commits and clock skew) and ends at this sync's
    start, which becomes the next cursor. Pages are read by order_id; when the listing's total changes while
    paging (an order left or entered the window), the pass is repeated so a shifted page boundary loses nothing.
    """

    name = "polling"

    def __init__(self, client: OrderLister, *, overlap: timedelta, page_size: int, initial_lookback: timedelta,
                 include_incomplete: bool = False) -> None:
        self.client = client
        self.overlap = overlap
        self.page_size = page_size
        self.initial_lookback = initial_lookback
        self.include_incomplete = include_incomplete

    def window_start(self, cursor: str | None, started_at: datetime) -> datetime:
        last = parse_iso(cursor)
        if last is None:
            return started_at - self.initial_lookback
        return min(last, started_at) - self.overlap

    async def fetch(self, store: Store, started_at: datetime) -> OrderBatch:
        cursor = await cursors.read(store, POLL_CURSOR)
        since = self.window_start(cursor, started_at)
        params: dict[str, Any] = {
            "updated_at_from": to_unix(since), "updated_at_to": to_unix(started_at), "get_orders_data": 1,
            "sort_by": "order_id", "sort_order": "asc", "items_per_page": self.page_size,
        }
        if self.include_incomplete:
            params["include_incompleted"] = 1
        pages = 0
        for rescan in range(MAX_RESCANS + 1):
            found: dict[int, Order] = {}
            totals: set[int] = set()
            page = 1
            while True:
                data = await self.client.request("GET", "orders", params={**params, "page": page})
                pages += 1
                rows, total = _page(data)
                totals.add(total)
                for row in rows:
                    order = addon_fields(m.order_from_json(row), row)
                    found[order.order_id] = order
                if len(rows) < self.page_size or page * self.page_size >= total:
                    break
                page += 1
            if len(totals) == 1 and len(found) >= min(totals):
                break
        ordered = sorted(found.values(), key=lambda o: o.order_id)
        return OrderBatch(ordered, POLL_CURSOR, started_at.isoformat(timespec="seconds"), pages, rescan)


def _page(data: Any) -> tuple[list[Mapping[str, Any]], int]:
    if not isinstance(data, Mapping):
        raise m.MappingError(said(msg.NOT_A_LISTING, entity="orders", key="orders", kind=type(data).__name__))
    rows = list(data.get("orders") or [])
    echo = data.get("params") or {}
    return rows, m.as_int(echo, "total_items", len(rows), where="GET orders params")
