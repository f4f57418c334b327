"""``OrderSource`` fed by the ``smile_bridge`` add-on's event outbox (``GET /api/smile_bridge_events``).

One fetch, when the add-on answers:
1. acknowledge the feed position the orders job committed last time (``PUT /api/smile_bridge_events/<id>``): only a
   committed cursor is ever acknowledged, so an acknowledged event is always mirrored;
2. read the events after the committed cursor (pages of up to 1000, at most ``max_events`` per run);
3. re-read every order an event names (``GET /orders?order_id=…&get_orders_data=1``): the event only says "look at
   this order", the order itself is the truth;
4. every ``safety_poll`` also run the polling source (``updated_at_from``), the safety net for events the add-on could
   not write (its outbox insert shares no transaction with the order write);
5. the batch's ``commit`` moves the events cursor (and the polling cursor when it polled) inside the orders job's
   store transaction.

Without the add-on (404 on its entity) the polling source does everything. The add-on's signed wake-up push to
``/hooks/cscart`` (bridge.sync.orders_hook) triggers the orders job, so an event is mirrored within about a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog

from bridge import metrics
from bridge.cscart import mapping as m
from bridge.cscart.addon_client import AddonClient
from bridge.cscart.addon_protocol import Event, EventType
from bridge.cscart.client import CSCartClient, NotFoundError
from bridge.domain.orders import Order
from bridge.errors import BridgeError
from bridge.store import Store, cursors
from bridge.store.db import Connection
from bridge.sync.orders.source import OrderBatch, OrderSource, PollingSource, addon_fields

log = structlog.get_logger("bridge.sync.orders")

EVENTS_CURSOR = "orders.addon_events_after_id"
ORDER_EVENTS = frozenset({EventType.ORDER_PLACED, EventType.ORDER_STATUS_CHANGED, EventType.ORDER_UPDATED})
READ_CHUNK = 100  # order ids per GET /orders


@dataclass(frozen=True)
class EventBatch(OrderBatch):
    """Orders from events (and the safety poll); ``commit`` moves both cursors in the job's transaction."""

    polled: OrderBatch | None = None
    events: int = 0

    async def commit(self, tx: Connection) -> None:
        await OrderBatch.commit(self, tx)
        if self.polled is not None:
            await self.polled.commit(tx)


class EventFeedSource:
    name = "addon_events"

    def __init__(self, client: CSCartClient, polling: PollingSource, *, safety_poll: timedelta = timedelta(minutes=10),
                 max_events: int = 5000, page_size: int = 1000, monotonic: Callable[[], float] = time.monotonic
                 ) -> None:
        self.client = client
        self.addon = AddonClient(client)
        self.polling = polling
        self.safety_poll = safety_poll.total_seconds()
        self.max_events = max_events
        self.page_size = page_size
        self._monotonic = monotonic
        self._last_poll: float | None = None
        self._acknowledged = 0

    async def fetch(self, store: Store, started_at: datetime) -> OrderBatch:
        if not await self._installed():
            return await self.polling.fetch(store, started_at)
        stored = await cursors.read(store, EVENTS_CURSOR)
        cursor = int(stored) if stored is not None else None
        try:
            await self._acknowledge(cursor)
            events, next_cursor, pages = await self._read_events(cursor)
            orders = await self._read_orders(_order_ids(events))
        except NotFoundError as exc:
            if "Entity" not in str(exc):
                raise
            log.warning("orders.addon_gone", error=str(exc))
            self.client.addon_gone()
            return await self.polling.fetch(store, started_at)
        polled = None
        now = self._monotonic()
        if self._last_poll is None or now - self._last_poll >= self.safety_poll:
            polled = await self.polling.fetch(store, started_at)
            self._last_poll = now
        merged = {order.order_id: order for order in (polled.orders if polled else [])}
        merged.update((order.order_id, order) for order in orders)  # read after the poll: fresher
        return EventBatch(sorted(merged.values(), key=lambda o: o.order_id), EVENTS_CURSOR, str(next_cursor),
                          pages + (polled.pages if polled else 0), polled=polled, events=len(events))

    async def _installed(self) -> bool:
        try:
            return await self.client.addon_installed()
        except BridgeError as exc:
            log.warning("orders.addon_detection_failed", error=str(exc))
            return False

    async def _acknowledge(self, cursor: int | None) -> None:
        """Best effort: the acknowledgement only moves the add-on's default start and lets it purge."""
        if cursor is None or cursor <= self._acknowledged:
            return
        try:
            self._acknowledged = await self.addon.acknowledge(cursor)
        except NotFoundError:
            raise
        except BridgeError as exc:
            log.warning("orders.addon_ack_failed", event_id=cursor, error=str(exc))

    async def _read_events(self, cursor: int | None) -> tuple[list[Event], int, int]:
        events: list[Event] = []
        after = cursor
        pages = 0
        while True:
            page = await self.addon.events(after, self.page_size)
            pages += 1
            if after is None:
                self._acknowledged = max(self._acknowledged, page.acknowledged_id)
            events.extend(page.events)
            after = page.next_after_id
            if not page.has_more or len(events) >= self.max_events:
                break
        for event in events:
            metrics.ADDON_EVENTS.labels(type=event.type.value).inc()
        deleted = [e.entity_id for e in events if e.type is EventType.ORDER_DELETED]
        if deleted:
            # The mirror keeps them: an exported order deleted in CS-Cart is for staff to settle with SMILE.
            log.warning("orders.deleted_in_cscart", order_ids=deleted)
        return events, after, pages

    async def _read_orders(self, order_ids: Sequence[int]) -> list[Order]:
        found: list[Order] = []
        for start in range(0, len(order_ids), READ_CHUNK):
            chunk = order_ids[start:start + READ_CHUNK]
            params: dict[str, Any] = {"order_id": ",".join(map(str, chunk)), "get_orders_data": 1,
                                      "items_per_page": len(chunk), "page": 1}
            if self.polling.include_incomplete:
                params["include_incompleted"] = 1
            data = await self.client.request("GET", "orders", params=params)
            rows = data.get("orders") if isinstance(data, dict) else None
            if not isinstance(rows, list):
                raise m.MappingError(f"GET orders: expected {{'orders': [...]}}, got {type(data).__name__}")
            found.extend(addon_fields(m.order_from_json(row), row) for row in rows)
        return found


def _order_ids(events: Iterable[Event]) -> list[int]:
    """Orders to re-read, once each, in first-seen order (deleted ones have nothing left to read)."""
    ids: dict[int, None] = {}
    for event in events:
        if event.type in ORDER_EVENTS:
            ids.setdefault(event.entity_id)
    return list(ids)


def with_event_feed(client: Any, polling: PollingSource) -> OrderSource:
    """The orders job's source: the event feed in front of polling when the client can talk to the add-on."""
    if isinstance(client, CSCartClient):
        return EventFeedSource(client, polling)
    return polling
