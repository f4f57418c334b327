"""``OrderSource`` fed by the ``smile_bridge`` add-on's event outbox (``GET /api/smile_bridge_events``).

One fetch, when the add-on answers:
1. acknowledge the feed position the orders job committed last time (``PUT /api/smile_bridge_events/<id>``): only a
   committed cursor is ever acknowledged, so an acknowledged event is always mirrored;
2. read the events after the committed cursor (pages of up to 1000, at most ``max_events`` per run);
3. re-read every order an event names (``GET /orders?order_id=…&get_orders_data=1``): the event only says "look at
   this order", the order itself is the truth — except the echo of the bridge's own status write: an order whose
   only events are status changes ending in the letter the bridge wrote, which the orders job confirms against the
   mirror (``echo_filter``); re-reading it would change nothing but the mirror's copy of the letter, which the
   batch's commit sets instead;
4. every ``safety_poll`` also run the polling source (``updated_at_from``), the safety net for events the add-on could
   not write (its outbox insert shares no transaction with the order write);
5. a run reads at most ``max_events`` events; when more wait (or the run read any), the batch says ``more`` and the
   job runs again at once, so a backlog is worked off in bounded runs, each writing its own 受注 file, and a burst
   keeps the job running even when the add-on's wake-ups are rate-limited;
6. the batch's ``commit`` moves the events cursor (and the polling cursor when it polled) inside the orders job's
   store transaction.

Without the add-on (404 on its entity) the polling source does everything. The add-on's signed wake-up push to
``/hooks/cscart`` (bridge.sync.orders_hook) triggers the orders job, so an event is mirrored within about a second.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog

from bridge import metrics
from bridge.cscart import mapping as m
from bridge.cscart import messages as msg
from bridge.cscart.addon_client import AddonClient
from bridge.cscart.addon_protocol import Event, EventType
from bridge.cscart.client import CSCartClient, NotFoundError
from bridge.domain.orders import Order
from bridge.errors import BridgeError
from bridge.i18n import said
from bridge.store import Store, cursors
from bridge.store import orders as mirror
from bridge.store.db import Connection
from bridge.sync.orders.source import OrderBatch, OrderSource, PollingSource, addon_fields

log = structlog.get_logger("bridge.sync.orders")

EVENTS_CURSOR = "orders.addon_events_after_id"
ORDER_EVENTS = frozenset({EventType.ORDER_PLACED, EventType.ORDER_STATUS_CHANGED, EventType.ORDER_UPDATED})
READ_CHUNK = 100  # order ids per GET /orders
# Given {order_id: the letter its status-change events end in} for orders with no other event, the ids that are the
# echo of the bridge's own status write (bridge/sync/orders/job.py decides, against the mirror and the rules).
EchoFilter = Callable[[Mapping[int, str]], Awaitable[set[int]]]


# A page of the feed: events, the cursor after them, pages read, more waiting, the orders already read
_Page = tuple[list[Event], int, int, bool, list[Order]]


@dataclass(frozen=True, slots=True)
class _Ahead:
    """The next run's page, being read while this run writes its file (``read_ahead``)."""

    after: int
    task: asyncio.Task[_Page]


@dataclass(frozen=True)
class EventBatch(OrderBatch):
    """Orders from events (and the safety poll); ``commit`` moves both cursors in the job's transaction."""

    polled: OrderBatch | None = None
    events: int = 0
    echoes: Mapping[int, str] = field(default_factory=dict)  # order_id → the letter CS-Cart now has (not re-read)

    async def commit(self, tx: Connection) -> None:
        await OrderBatch.commit(self, tx)
        if self.polled is not None:
            await self.polled.commit(tx)
        read = {order.order_id for order in self.orders}
        await mirror.set_cscart_status_many(tx, [(i, letter) for i, letter in self.echoes.items() if i not in read])


class EventFeedSource:
    name = "addon_events"

    def __init__(self, client: CSCartClient, polling: PollingSource, *, safety_poll: timedelta = timedelta(minutes=10),
                 max_events: int = 1000, page_size: int = 1000, monotonic: Callable[[], float] = time.monotonic,
                 echo_filter: EchoFilter | None = None) -> None:
        self.client = client
        self.addon = AddonClient(client)
        self.polling = polling
        self.safety_poll = safety_poll.total_seconds()
        self.max_events = max_events
        self.page_size = page_size
        self._monotonic = monotonic
        self._last_poll: float | None = None
        self._acknowledged = 0
        self.echo_filter = echo_filter
        # the daemon's orders job: while a run that leaves more waiting writes its file, the next page of events
        # and the orders it names are read (CS-Cart answers while the bridge works; bridge/sync/orders/job.py)
        self.read_ahead = False
        self._ahead: _Ahead | None = None

    async def fetch(self, store: Store, started_at: datetime) -> OrderBatch:
        ahead, self._ahead = self._ahead, None
        if not await self._installed():
            _drop(ahead)
            return await self.polling.fetch(store, started_at)
        stored = await cursors.read(store, EVENTS_CURSOR)
        cursor = int(stored) if stored is not None else None
        now = self._monotonic()
        poll_due = self._last_poll is None or now - self._last_poll >= self.safety_poll
        try:
            page = await self._page(cursor, ahead, poll_due)
            events, next_cursor, pages, has_more, orders = page
            _account(events)
            echoes = await self._echoes(events)
            read = {order.order_id for order in orders}
            orders = [order for order in orders if order.order_id not in echoes]
            orders += await self._read_orders([i for i in _order_ids(events) if i not in echoes and i not in read])
        except NotFoundError as exc:
            if "Entity" not in str(exc):
                raise
            log.warning("orders.addon_gone", error=str(exc))
            self.client.addon_gone()
            return await self.polling.fetch(store, started_at)
        more = has_more or bool(events)
        if more and self.read_ahead:
            self._ahead = _Ahead(next_cursor, asyncio.create_task(self._read_ahead(next_cursor),
                                                                  name="orders-events-read-ahead"))
        polled = None
        if poll_due:
            polled = await self.polling.fetch(store, started_at)
            self._last_poll = now
        merged = {order.order_id: order for order in (polled.orders if polled else [])}
        merged.update((order.order_id, order) for order in orders)  # read after the poll: fresher
        return EventBatch(sorted(merged.values(), key=lambda o: o.order_id), EVENTS_CURSOR, str(next_cursor),
                          pages + (polled.pages if polled else 0), more=more, polled=polled,
                          events=len(events), echoes=echoes)

    async def _page(self, cursor: int | None, ahead: _Ahead | None, poll_due: bool) -> _Page:
        """The events after the committed ``cursor`` with the orders they name that cannot be an echo: the page
        read ahead during the previous run when it starts at this cursor (a run that failed, a dry run or a
        restart leave the cursor elsewhere: the read-ahead is dropped), else read now. The acknowledgement goes
        out beside the read. A run that polls for safety reads its page now (the poll's orders must not be
        fresher than the events' reads). A page read ahead that did not fill the run is topped up now with the
        events written since (the run takes what a run reading now would take)."""
        if ahead is not None and (ahead.after != cursor or poll_due):
            _drop(ahead)
            ahead = None
        acknowledged, page = await asyncio.gather(
            self._acknowledge(cursor), ahead.task if ahead is not None else self._read_now(cursor),
            return_exceptions=True)
        for outcome in (acknowledged, page):
            if isinstance(outcome, BaseException) and not isinstance(outcome, Exception):
                raise outcome  # cancelled
        if isinstance(acknowledged, Exception):
            raise acknowledged
        if isinstance(page, BaseException):
            if ahead is None:
                raise page
            log.debug("orders.read_ahead_dropped", error=str(page))  # read again now: it fails as it fails
            return await self._read_now(cursor)
        events, next_cursor, pages, has_more, orders = page
        if ahead is not None and not has_more and len(events) < self.max_events:
            more_events, next_cursor, more_pages, has_more = await self._read_events(
                next_cursor, self.max_events - len(events))
            return [*events, *more_events], next_cursor, pages + more_pages, has_more, orders
        return page

    async def _read_now(self, cursor: int | None) -> _Page:
        events, next_cursor, pages, has_more = await self._read_events(cursor)
        return events, next_cursor, pages, has_more, []

    async def _read_ahead(self, after: int) -> _Page:
        """The next run's page, read while this run writes its file: the events after ``after`` and the orders
        they name other than those whose only events are status changes (whether those are the echo of the
        bridge's own write is decided against the mirror the next run finds)."""
        events, next_cursor, pages, has_more = await self._read_events(after)
        candidates = set(_echo_candidates(events))
        return events, next_cursor, pages, has_more, await self._read_orders(
            [i for i in _order_ids(events) if i not in candidates])

    async def _echoes(self, events: Sequence[Event]) -> dict[int, str]:
        """The orders whose events are only status changes, with the letter they end in, that the job confirms as
        the echo of its own write."""
        candidates = _echo_candidates(events)
        if not candidates or self.echo_filter is None:
            return {}
        echoes = await self.echo_filter(candidates)
        metrics.ORDER_ECHOES_SKIPPED.inc(len(echoes))
        return {order_id: candidates[order_id] for order_id in echoes if order_id in candidates}

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

    async def _read_events(self, cursor: int | None, limit: int | None = None) -> tuple[list[Event], int, int, bool]:
        """Pages of events after ``cursor`` until ``limit`` (default ``max_events``) or the end of the feed."""
        limit = self.max_events if limit is None else limit
        events: list[Event] = []
        after = cursor
        pages = 0
        has_more = False
        while True:
            page = await self.addon.events(after, min(self.page_size, limit - len(events)))
            pages += 1
            if after is None:
                self._acknowledged = max(self._acknowledged, page.acknowledged_id)
            events.extend(page.events)
            after = page.next_after_id
            has_more = page.has_more
            if not page.has_more or len(events) >= limit:
                break
        return events, after, pages, has_more

    async def _read_orders(self, order_ids: Sequence[int]) -> list[Order]:
        """The orders, ``READ_CHUNK`` per GET, the GETs side by side (the client bounds how many are in flight):
        parsing one answer overlaps the store's work on the next."""

        async def chunk_of(chunk: Sequence[int]) -> list[Order]:
            params: dict[str, Any] = {"order_id": ",".join(map(str, chunk)), "get_orders_data": 1,
                                      "items_per_page": len(chunk), "page": 1}
            if self.polling.include_incomplete:
                params["include_incompleted"] = 1
            data = await self.client.request("GET", "orders", params=params)
            rows = data.get("orders") if isinstance(data, dict) else None
            if not isinstance(rows, list):
                raise m.MappingError(said(msg.NOT_A_LISTING, entity="orders", key="orders", kind=type(data).__name__))
            return [addon_fields(m.order_from_json(row), row) for row in rows]

        chunks = [order_ids[start:start + READ_CHUNK] for start in range(0, len(order_ids), READ_CHUNK)]
        return [order for orders in await asyncio.gather(*(chunk_of(c) for c in chunks)) for order in orders]


def _account(events: Sequence[Event]) -> None:
    """Count the events a run takes (once, also when its page was read ahead) and log the deleted orders."""
    for kind, count in Counter(event.type.value for event in events).items():
        metrics.ADDON_EVENTS.labels(type=kind).inc(count)
    deleted = [e.entity_id for e in events if e.type is EventType.ORDER_DELETED]
    if deleted:
        # The mirror keeps them: an exported order deleted in CS-Cart is for staff to settle with SMILE.
        log.warning("orders.deleted_in_cscart", order_ids=deleted)


def _echo_candidates(events: Iterable[Event]) -> dict[int, str]:
    """The orders whose events are only status changes, with the letter they end in."""
    last: dict[int, str] = {}
    others: set[int] = set()
    for event in events:
        if event.type is EventType.ORDER_STATUS_CHANGED and isinstance(event.data.get("status_to"), str):
            last[event.entity_id] = str(event.data["status_to"])
        elif event.type in ORDER_EVENTS or event.type is EventType.ORDER_DELETED:
            others.add(event.entity_id)
    return {order_id: letter for order_id, letter in last.items() if order_id not in others}


def _drop(ahead: _Ahead | None) -> None:
    """A read-ahead the run does not use: cancelled, or its outcome taken (no "never retrieved" warning)."""
    if ahead is None:
        return
    if ahead.task.done():
        if not ahead.task.cancelled():
            ahead.task.exception()
    else:
        ahead.task.cancel()


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
