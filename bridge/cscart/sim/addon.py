"""The ``smile_bridge`` add-on as the simulator plays it, installed with ``run_simulator(addon=True)`` or
``install(state)``: the PHP add-on's contract (docs/addon.md §2–§5), not its code.

* statuses: the four add-on statuses with free letters (an existing status with the same Japanese name is adopted,
  as the seed's 保留/出荷指示/出荷済/出荷通知済 are), visible in ``GET /statuses``;
* columns: ``smile_*`` on users, products and orders, in list rows and single GETs, writable through core PUTs
  (users, products) and the batch;
* the event outbox written by the same hooks (placement, status change, order update and deletion, profile
  update), ``GET/PUT /api/smile_bridge_events`` and the signed wake-up POST to ``<daemon_url>/hooks/cscart``
  after the request;
* ``POST /api/smile_bridge_batch`` validated by the port of ``BatchValidator`` (addon_batch.py).

``uninstall(state)`` removes it as the PHP uninstall does: statuses orders still use stay, columns go.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Any

import aiohttp

from bridge.cscart import addon_protocol as proto
from bridge.cscart.sim import addon_batch as batch
from bridge.cscart.sim.addon_columns import ORDER_COLUMNS, PRODUCT_COLUMNS, USER_COLUMNS, stored
from bridge.cscart.sim.api import ApiCall, ApiError, Result
from bridge.cscart.sim.mail import SimMail
from bridge.cscart.sim.products import _replace_tiers
from bridge.cscart.sim.state import SimState, SimStatus, money

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
WAKE_UP_TIMEOUT = 1.0
WAKE_UP_PAUSE_PARAM = "wake_up.paused_until"  # unix time before which no wake-up is sent (the daemon's 429)
WAKE_UP_MAX_PAUSE = 300

# key → (preferred letter, Japanese name, params) as fn_smile_bridge_status_definitions() has them.
STATUS_DEFINITIONS: dict[str, tuple[str, str, dict[str, str]]] = {
    "hold": ("H", "保留", {"notify": "N", "payment_received": "N", "repay": "N", "allow_return": "N",
                         "color": "#f0ad4e"}),
    "shipping_instructed": ("J", "出荷指示", {"notify": "N", "payment_received": "N", "repay": "N",
                                           "allow_return": "N", "color": "#5bc0de"}),
    "shipped": ("S", "出荷済", {"notify": "N", "payment_received": "N", "repay": "N", "allow_return": "Y",
                             "color": "#337ab7"}),
    "notified": ("W", "出荷通知済", {"notify": "Y", "payment_received": "N", "repay": "N", "allow_return": "Y",
                                 "color": "#2e8b57"}),
}
@dataclass
class Event:
    id: int
    type: str
    entity: str
    entity_id: int
    created_at: int
    data: dict[str, str | int]

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "entity": self.entity, "entity_id": self.entity_id,
                "occurred_at": self.created_at, "data": self.data}


_CREATED_AT = operator.attrgetter("created_at")


@dataclass
class AddonState:
    """The add-on's tables and settings on one simulated store."""

    daemon_url: str = ""
    hmac_secret: str = ""
    retention_days: int = 14
    events: list[Event] = field(default_factory=list)
    next_event_id: int = 1
    params: dict[str, str] = field(default_factory=dict)  # ?:smile_bridge_params
    customer_prices: dict[tuple[int, int], list[dict[str, Any]]] = field(default_factory=dict)
    managed_promotions: dict[str, tuple[int, str]] = field(default_factory=dict)  # sim/promotions.py
    refuse_products: set[int] = field(default_factory=set)  # fn_update_product returns false for these (faults)
    wake_ups: list[int | str] = field(default_factory=list)  # HTTP status of each wake-up, or the error
    mails: list[SimMail] = field(default_factory=list)  # the customer mails sent (sim/mail.py)
    mail_keys: dict[str, int] = field(default_factory=dict)  # ?:smile_bridge_mails: key → sent_at
    disabled_mails: set[str] = field(default_factory=set)  # kinds whose template staff disabled
    rma: bool = True  # CS-Cart's rma add-on (returns) on this store
    returns: dict[int, Any] = field(default_factory=dict)  # sim/returns.py: return_id → SimReturn
    # what the events feed advertises (params.batch_kinds) and the batch accepts; tests drop a kind to play an
    # older add-on
    batch_kinds: tuple[str, ...] = batch.KINDS
    _clock: Any = None
    _pending_wake: int = 0
    _wake_tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def statuses(self) -> dict[str, str]:
        return {key: self.params.get(f"status.{key}", "") for key in STATUS_DEFINITIONS}

    @property
    def acknowledged_id(self) -> int:
        return int(self.params.get("events.acknowledged_id", "0"))

    def record(self, kind: str, entity_id: int, data: dict[str, str | int]) -> Event:
        """A hook wrote one outbox row (inside the request); the wake-up follows after the request."""
        entity, keys = proto.EVENT_SCHEMA[proto.EventType(kind)]
        event = Event(self.next_event_id, kind, entity, int(entity_id), int(self._clock()),
                      {key: data[key] if isinstance(data[key], int) else str(data[key]) for key in keys})
        self.next_event_id += 1
        self.events.append(event)
        self._schedule_wake_up(event.id)
        return event

    def on_order_created(self, state: SimState, order: Any, direct_ship: dict[str, str] | None) -> None:
        """The new order row gets the column defaults and the checkout's 直送 choice (fn_smile_bridge_store_order_fields).
        Its events (status N → first status, order.placed, order.updated) follow in ``SimState.place_order``."""
        order.extra = dict(ORDER_COLUMNS)
        if direct_ship is not None:
            order.extra.update({
                "smile_direct_ship": "Y", "smile_direct_ship_recipient": str(direct_ship.get("recipient", "")),
                "smile_direct_ship_surcharge": money(direct_ship_surcharge(self, order.subtotal)),
            })

    def purge(self, now: int) -> int:
        days = self.retention_days if self.retention_days >= 1 else 14
        cutoff = now - days * 86400
        # every acknowledge (every orders run) purges: one C-level pass decides whether anything is old enough
        if min(map(_CREATED_AT, self.events), default=cutoff) >= cutoff:
            return 0
        before = len(self.events)
        self.events = [e for e in self.events if e.created_at >= cutoff]
        return before - len(self.events)

    # -- the wake-up: once per request, after it, best effort ------------------------------------------------------

    def _schedule_wake_up(self, event_id: int) -> None:
        if not self.daemon_url or not self.hmac_secret:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # changed outside the server loop (a test poking the state): no request, no wake-up
        first = self._pending_wake == 0
        self._pending_wake = max(self._pending_wake, event_id)
        if first:
            # call_soon: every event of the current request is recorded before the POST goes out
            loop.call_soon(self._start_wake_up)

    def _start_wake_up(self) -> None:
        last, self._pending_wake = self._pending_wake, 0
        task = asyncio.get_running_loop().create_task(self._wake_up(last))
        self._wake_tasks.add(task)
        task.add_done_callback(self._wake_tasks.discard)

    async def _wake_up(self, last_event_id: int) -> None:
        now = int(self._clock())
        if now < int(self.params.get(WAKE_UP_PAUSE_PARAM, "0") or 0):
            return  # the daemon asked for a pause (429 Retry-After): fn_smile_bridge_wake_up sends nothing
        body = proto.WakeUp(last_event_id=last_event_id, sent_at=now).to_body()
        headers = {"Content-Type": "application/json",
                   proto.SIGNATURE_HEADER: proto.sign(self.hmac_secret, body, now)}
        url = self.daemon_url.rstrip("/") + proto.WAKE_UP_PATH
        try:
            timeout = aiohttp.ClientTimeout(total=WAKE_UP_TIMEOUT, connect=0.3)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.post(url, data=body, headers=headers) as response:
                    self.wake_ups.append(response.status)
                    if response.status == 429:
                        retry_after = response.headers.get("Retry-After", "")
                        pause = int(retry_after) if retry_after.isdigit() and int(retry_after) > 0 else 60
                        self.params[WAKE_UP_PAUSE_PARAM] = str(now + max(1, min(WAKE_UP_MAX_PAUSE, pause)))
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            self.wake_ups.append(f"{type(exc).__name__}: {exc}")  # never breaks the shop

    async def settle(self) -> None:
        """Wait for wake-ups in flight (tests)."""
        await asyncio.sleep(0)
        while self._wake_tasks:
            await asyncio.gather(*list(self._wake_tasks), return_exceptions=True)


def install(state: SimState, *, daemon_url: str = "", hmac_secret: str = "") -> AddonState:
    """What ``fn_smile_bridge_install`` does: tables, columns (existing rows get the defaults), statuses."""
    if state.addon is not None:
        return state.addon  # type: ignore[no-any-return]
    addon = AddonState(daemon_url=daemon_url, hmac_secret=hmac_secret, _clock=state.clock)
    for user in state.users.values():
        user.extra = {**USER_COLUMNS, **user.extra}
    for product in state.products.values():
        product.extra = {**PRODUCT_COLUMNS, **(product.extra or {})}
    for order in state.orders.values():
        order.extra = {**ORDER_COLUMNS, **order.extra}
    _install_statuses(state, addon)
    state.addon = addon
    return addon


def _install_statuses(state: SimState, addon: AddonState) -> None:
    by_name = {status.description: letter for letter, status in state.statuses.items()}
    for key, (preferred, name, params) in STATUS_DEFINITIONS.items():
        letter = by_name.get(name)
        if letter is None:
            letter = preferred if preferred not in state.statuses else state.next_free_letter()
            if letter is None:
                raise ApiError(500, f'no free order status letter left for "{key}" (26 letters, N and T reserved)')
            status_id = max((s.status_id for s in state.statuses.values()), default=0) + 1
            state.statuses[letter] = SimStatus(status_id=status_id, status=letter, description=name, inventory="D",
                                               params=dict(params))
        addon.params[f"status.{key}"] = letter


def uninstall(state: SimState) -> None:
    """``fn_smile_bridge_uninstall``: statuses still used by orders stay (orders remain readable), the rest, the
    columns and the tables go."""
    addon: AddonState | None = state.addon
    if addon is None:
        return
    used = {order.status for order in state.orders.values()}
    for letter in addon.statuses.values():
        if letter and letter not in used:
            state.statuses.pop(letter, None)
    for user in state.users.values():
        user.extra = {k: v for k, v in user.extra.items() if k not in USER_COLUMNS}
    for product in state.products.values():
        product.extra = {k: v for k, v in (product.extra or {}).items() if k not in PRODUCT_COLUMNS} or None
    for order in state.orders.values():
        order.extra = {k: v for k, v in order.extra.items() if k not in ORDER_COLUMNS}
    state.addon = None


def direct_ship_surcharge(addon: AddonState, subtotal: Decimal) -> Decimal:
    """The checkout's surcharge (DirectShipSurcharge): subtotal × rate / 100, rounded with the pushed mode/unit."""
    rate = Decimal(addon.params.get("direct_ship_rate", "10"))
    unit = Decimal(addon.params.get("direct_ship_unit", "1"))
    mode = addon.params.get("direct_ship_rounding", "down")
    raw = subtotal * rate / 100 / unit
    if mode == "half_up":
        steps = (abs(raw) + Decimal("0.5")).to_integral_value(ROUND_DOWN).copy_sign(raw)
    else:
        steps = raw.to_integral_value(ROUND_UP if mode == "up" else ROUND_DOWN)
    return steps * unit


# ---- API entities ---------------------------------------------------------------------------------------------


def _addon(call: ApiCall) -> AddonState:
    addon: AddonState | None = call.state.addon
    if addon is None:
        raise ApiError(404, f"The Entity {call.entity} not found")
    return addon


def events_index(call: ApiCall) -> Result:
    addon = _addon(call)
    if call.id is not None:
        for event in addon.events:
            if str(event.id) == call.id:
                return Result(200, event.as_json())
        raise ApiError(404, f"event {_php_int(call.id)} not found (purged or never written)")
    after_id, limit = _feed_params(call.params, addon.acknowledged_id)
    # the outbox is in id order: the page starts where the id passes after_id (CS-Cart: WHERE event_id > ? through
    # the primary key), not after a scan of every event kept
    start = bisect.bisect_right(addon.events, after_id, key=lambda e: e.id)
    rows = addon.events[start:start + limit + 1]
    page = rows[:limit]
    return Result(200, {
        "events": [e.as_json() for e in page],
        "params": {"after_id": after_id, "limit": limit, "next_after_id": page[-1].id if page else after_id,
                   "has_more": len(rows) > limit, "acknowledged_id": addon.acknowledged_id,
                   "statuses": addon.statuses, "batch_kinds": list(addon.batch_kinds)},
    })


def _feed_params(params: dict[str, Any], acknowledged: int) -> tuple[int, int]:
    """``EventSerializer::feedParams``."""
    after_id = acknowledged
    raw_after = params.get("after_id")
    if raw_after not in (None, ""):
        if not (isinstance(raw_after, str) and raw_after.isascii() and raw_after.isdigit()):
            raise ApiError(400, "after_id must be a non-negative integer")
        after_id = int(raw_after)
    limit = DEFAULT_LIMIT
    raw_limit = params.get("limit")
    if raw_limit not in (None, ""):
        if not (isinstance(raw_limit, str) and raw_limit.isascii() and raw_limit.isdigit()) or int(raw_limit) < 1:
            raise ApiError(400, f"limit must be an integer from 1 to {MAX_LIMIT}")
        limit = min(int(raw_limit), MAX_LIMIT)
    return after_id, limit


def events_acknowledge(call: ApiCall) -> Result:
    addon = _addon(call)
    if not (call.id or "").isdigit():
        raise ApiError(400, "the event id to acknowledge must be a non-negative integer")
    newest = addon.events[-1].id if addon.events else 0  # the outbox is in id order (events_index bisects it)
    current = addon.acknowledged_id
    acknowledged = max(current, min(int(call.id or 0), max(newest, current)))
    addon.params["events.acknowledged_id"] = str(acknowledged)
    purged = addon.purge(call.state.now())
    return Result(200, {"acknowledged_id": acknowledged, "purged": purged})


def events_refused(call: ApiCall) -> Result:
    _addon(call)
    raise ApiError(403)  # privilege false: events are written by the add-on, purged by age


def batch_create(call: ApiCall) -> Result:
    addon = _addon(call)
    try:
        raw_items = batch.items(call.body)
    except batch.BatchRejected as exc:
        raise ApiError(400, str(exc)) from None
    results = apply_batch(call.state, addon, raw_items)
    counts = {"ok": 0, "invalid": 0, "not_found": 0, "failed": 0}
    for result in results:
        counts[result["code"]] += 1
    return Result(200, {"results": results, "counts": counts})


def batch_other(call: ApiCall) -> Result:
    _addon(call)
    raise ApiError(405, 'send POST /api/smile_bridge_batch {"items": [...]}')


def apply_batch(state: SimState, addon: AddonState, raw_items: list[Any]) -> list[dict[str, Any]]:
    """``fn_smile_bridge_batch_apply``: validate each item, check references, apply in order; one bad item never
    stops the others."""
    results: dict[int, dict[str, Any]] = {}
    items: dict[int, dict[str, Any]] = {}
    for index, raw in enumerate(raw_items):
        try:
            if isinstance(raw, dict) and raw.get("kind") in batch.KINDS and raw["kind"] not in addon.batch_kinds:
                raise batch.InvalidBatchItem(f"items[{index}].kind: {batch.var_export(raw['kind'])} is not one of "
                                             f"{', '.join(addon.batch_kinds)}")  # an older add-on
            items[index] = batch.item(index, raw)
        except batch.InvalidBatchItem as exc:
            results[index] = _result(index, batch.client_id(raw), "invalid", str(exc))
    tables: dict[str, tuple[str, Mapping[int, Any]]] = {
        "product_id": ("product", state.products), "user_id": ("user", state.users),
        "order_id": ("order", state.orders)}
    for index, item in items.items():
        missing = next((f"{name} {item[key]} does not exist on this store" for key, (name, rows) in tables.items()
                        if key in item and item[key] not in rows), "")
        if missing:
            results[index] = _result(index, item["id"], "not_found", missing)
            continue
        try:
            error = _apply_item(state, addon, item)
        except batch.InvalidBatchItem as exc:  # CS-Cart refused it for good (fn_smile_bridge_batch_order_status)
            results[index] = _result(index, item["id"], "invalid", f"items[{index}]: {exc}")
            continue
        results[index] = _result(index, item["id"], "failed", f"items[{index}]: {error}") if error \
            else _result(index, item["id"], "ok")
    return [results[index] for index in sorted(results)]


def _result(index: int, client: Any, code: str, message: str = "") -> dict[str, Any]:
    return {"index": index, "id": client, "code": code, "message": message}


def _apply_item(state: SimState, addon: AddonState, item: dict[str, Any]) -> str:
    kind = item["kind"]
    if kind in ("stock", "prices"):
        product = state.products[item["product_id"]]
        if product.product_id in addon.refuse_products:
            return f"fn_update_product refused product {product.product_id} (see the store log)"
        if kind == "stock":
            product.amount = item["amount"]
        else:
            product.price = money(item["price"])
            product.tiers = _replace_tiers(item["prices"])
        product.updated_timestamp = state.now()  # fn_update_product, as a REST PUT
    elif kind == "customer_price":
        key = (item["user_id"], item["product_id"])
        if item["rows"]:
            addon.customer_prices[key] = [dict(row) for row in item["rows"]]
        else:
            addon.customer_prices.pop(key, None)
    elif kind == "user_fields":
        user = state.users[item["user_id"]]
        # a plain UPDATE: no update_profile hook, no event
        user.extra.update({name: stored(name, value) for name, value in item["fields"].items()})
    elif kind == "product_fields":
        product = state.products[item["product_id"]]
        product.extra = {**(product.extra or {}), **item["fields"]}
    elif kind == "order_status":
        _order_status(state, item)
    elif kind == "order_fields":
        order = state.orders[item["order_id"]]  # no recalculation, no event
        order.extra.update({name: str(stored(name, value)) for name, value in item["fields"].items()})
    else:
        addon.params.update({name: str(value) for name, value in item["values"].items()})
    return ""


def _order_status(state: SimState, item: dict[str, Any]) -> None:
    """``fn_smile_bridge_batch_order_status``: what the REST status-only PUT does (``change_order_status``), but an
    unknown letter is refused and the letter CS-Cart kept is read back."""
    order, letter = state.orders[item["order_id"]], item["status"]
    if letter not in state.statuses:
        raise batch.InvalidBatchItem(f"order {order.order_id}: status {letter} does not exist in CS-Cart; fix the "
                                     "letter in rules/order_flow.yaml or create the status")
    state.change_order_status(order, letter, notify=item)
    if order.status == letter:
        return
    if order.status == "B":
        raise batch.InvalidBatchItem(f"order {order.order_id}: CS-Cart set Backordered (B) instead of {letter}: not "
                                     "enough stock")
    raise batch.InvalidBatchItem(f"order {order.order_id}: CS-Cart kept status {order.status} instead of {letter} "
                                 "(a hook refused the change)")


def _php_int(text: str | None) -> int:
    with contextlib.suppress(ValueError):
        return int(text or "0")
    return 0
