"""The wire contract between the daemon and the ``smile_bridge`` add-on.

The PHP side lives in ``addon/app/addons/smile_bridge``.

Three things cross the wire, each specified in docs/addon.md and mirrored by a PHP class:

* the wake-up POST to ``/hooks/cscart``, signed by ``HmacSigner``:
  ``X-Smile-Bridge-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``;
* events from ``GET /api/smile_bridge_events`` (``EventSerializer``);
* batch results from ``POST /api/smile_bridge_batch`` (``BatchValidator`` / ``BatchResult``).

tests/addon/test_php.py runs the real ``php`` binary to prove both sides agree.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from decimal import Decimal
from typing import Any

from bridge.cscart import messages as msg
from bridge.errors import BridgeError, PermanentError
from bridge.i18n import said

SIGNATURE_HEADER = "X-Smile-Bridge-Signature"
SIGNATURE_TOLERANCE_SECONDS = 300
WAKE_UP_PATH = "/hooks/cscart"
EVENTS_ENTITY = "smile_bridge_events"
BATCH_ENTITY = "smile_bridge_batch"
RETURNS_ENTITY = "smile_bridge_returns"  # GET ?statuses=A,C&since=&limit= / GET /:id: return requests (rma)
MAILS_ENTITY = "smile_bridge_mails"  # POST {order_id, kind, key, values}: one customer mail, once per key
MAIL_KINDS = ("order_confirmed", "payment_received", "shipping_notice", "delay", "cancelled", "returned")
MAX_BATCH_ITEMS = 500
MAX_EVENTS_PER_PAGE = 1000


class SignatureError(BridgeError):
    """A wake-up POST whose signature is missing, malformed, stale or wrong: answer 401 and ignore it."""


class AddonProtocolError(PermanentError):
    """The add-on answered with something outside the contract; the message names the field."""


# ---- signing -----------------------------------------------------------------------------------


def _key(secret: str | bytes) -> bytes:
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    if not key:
        raise SignatureError(said(msg.HMAC_EMPTY))
    return key


def _digest(key: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(key, str(timestamp).encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def sign(secret: str | bytes, body: bytes, timestamp: int) -> str:
    """The header value the add-on sends for ``body`` at ``timestamp``."""
    return f"t={timestamp},v1={_digest(_key(secret), timestamp, body)}"


def verify(
    secret: str | bytes,
    header: str | None,
    body: bytes,
    now: int,
    tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
) -> int:
    """Check a wake-up signature over the exact received bytes.

    Return its timestamp, or raise ``SignatureError`` saying why it is refused.
    """
    key = _key(secret)
    if not header:
        raise SignatureError(said(msg.SIGNATURE_MISSING, header=SIGNATURE_HEADER))
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if name == "t" and value.isascii() and value.isdigit():  # "²".isdigit() is true, int("²") fails
            timestamp = int(value)
        elif name == "v1" and value.isascii():  # compare_digest refuses non-ASCII text with a TypeError
            candidates.append(value.lower())
    if timestamp is None or not candidates:
        raise SignatureError(said(msg.SIGNATURE_MALFORMED, header=SIGNATURE_HEADER))
    if abs(now - timestamp) > tolerance:
        raise SignatureError(said(msg.SIGNATURE_STALE, timestamp=timestamp, offset=abs(now - timestamp),
                                  tolerance=tolerance))
    expected = _digest(key, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise SignatureError(said(msg.SIGNATURE_MISMATCH))
    return timestamp


# ---- events ------------------------------------------------------------------------------------


class EventType(str, Enum):
    ORDER_PLACED = "order.placed"
    ORDER_STATUS_CHANGED = "order.status_changed"
    ORDER_UPDATED = "order.updated"
    ORDER_DELETED = "order.deleted"
    USER_UPDATED = "user.updated"
    RETURN_STATUS_CHANGED = "return.status_changed"  # a return request (CS-Cart's rma) changed status


_EVENT_TYPES: dict[Any, EventType] = {kind.value: kind for kind in EventType}

# type -> (entity, data keys); the same table as EventSerializer::SCHEMA in PHP.
EVENT_SCHEMA: dict[EventType, tuple[str, tuple[str, ...]]] = {
    EventType.ORDER_PLACED: ("order", ("status", "user_id", "total")),
    EventType.ORDER_STATUS_CHANGED: ("order", ("status_from", "status_to")),
    EventType.ORDER_UPDATED: ("order", ("status",)),
    EventType.ORDER_DELETED: ("order", ()),
    EventType.USER_UPDATED: ("user", ("action", "user_type")),
    EventType.RETURN_STATUS_CHANGED: ("return", ("order_id", "status_from", "status_to")),
}


def _int_field(raw: Mapping[str, Any], name: str, where: str, minimum: int = 0) -> int:
    value = raw.get(name)
    if type(value) is int and value >= minimum:  # the common case, checked cheaply (a feed page holds 1,000)
        return value
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise AddonProtocolError(said(msg.EXPECTED_INTEGER, where=f"{where}.{name}", value=value))
    try:
        number = int(value)
    except ValueError:
        raise AddonProtocolError(said(msg.EXPECTED_INTEGER, where=f"{where}.{name}", value=value)) from None
    if number < minimum:
        raise AddonProtocolError(said(msg.AT_LEAST, where=f"{where}.{name}", minimum=minimum, value=number))
    return number


@dataclass(frozen=True, slots=True)
class Event:
    """One outbox event. ``id`` grows strictly; consumers deduplicate by it (the feed is at-least-once)."""

    id: int
    type: EventType
    entity: str
    entity_id: int
    occurred_at: int  # unix seconds (UTC)
    data: Mapping[str, str | int]

    @classmethod
    def from_dict(cls, raw: Any, where: str = "event") -> Event:
        if not isinstance(raw, Mapping):
            raise AddonProtocolError(said(msg.EXPECTED_OBJECT, where=where, kind=type(raw).__name__))
        try:
            kind = _EVENT_TYPES.get(raw.get("type")) or EventType(raw.get("type"))
        except (ValueError, TypeError):
            known = ", ".join(t.value for t in EventType)
            raise AddonProtocolError(said(msg.UNKNOWN_EVENT, where=f"{where}.type", value=raw.get("type"),
                                          known=known)) from None
        entity, keys = EVENT_SCHEMA[kind]
        if raw.get("entity") != entity:
            raise AddonProtocolError(said(msg.EVENT_ENTITY, where=f"{where}.entity", kind=kind.value, entity=entity,
                                          value=raw.get("entity")))
        data = raw.get("data")
        if isinstance(data, list) and not data:
            data = {}  # PHP's json_encode turns an empty array into []
        if not isinstance(data, Mapping):
            raise AddonProtocolError(said(msg.EVENT_DATA_OBJECT, where=f"{where}.data", value=data))
        missing = [key for key in keys if key not in data]
        if missing:
            raise AddonProtocolError(said(msg.EVENT_DATA_LACKS, where=f"{where}.data", kind=kind.value,
                                          keys=", ".join(missing)))
        for key in keys:
            if isinstance(data[key], bool) or not isinstance(data[key], str | int):
                raise AddonProtocolError(said(msg.STRING_OR_INTEGER, where=f"{where}.data.{key}", value=data[key]))
        return cls(
            id=_int_field(raw, "id", where, minimum=1),
            type=kind,
            entity=entity,
            entity_id=_int_field(raw, "entity_id", where),
            occurred_at=_int_field(raw, "occurred_at", where),
            data={key: data[key] for key in keys},
        )


STATUS_KEYS = ("hold", "shipping_instructed", "shipped", "notified")


def _status_letters(raw: Any) -> dict[str, str]:
    if isinstance(raw, list) and not raw:
        raw = {}
    if not isinstance(raw, Mapping):
        raise AddonProtocolError(said(msg.STATUS_LETTERS, where="params.statuses", value=raw))
    letters = {}
    for key, letter in raw.items():
        if key not in STATUS_KEYS:
            continue  # a newer add-on may add statuses; the daemon uses the ones it knows
        if letter == "":
            continue  # not installed (yet) on this store
        if not (isinstance(letter, str) and len(letter) == 1 and "A" <= letter <= "Z" and letter not in "NT"):
            raise AddonProtocolError(said(msg.STATUS_LETTER_RANGE, where=f"params.statuses.{key}", value=letter))
        letters[key] = letter
    return letters


@dataclass(frozen=True, slots=True)
class EventPage:
    """One page of ``GET /api/smile_bridge_events``.

    Continue with ``after_id=next_after_id`` while ``has_more``.
    """

    events: tuple[Event, ...]
    after_id: int
    limit: int
    next_after_id: int
    has_more: bool
    acknowledged_id: int
    statuses: Mapping[str, str] = field(
        default_factory=dict
    )  # hold/shipping_instructed/shipped/notified → letter

    @classmethod
    def from_dict(cls, raw: Any) -> EventPage:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("events"), list):
            raise AddonProtocolError(said(msg.FEED_SHAPE))
        params = raw.get("params")
        if not isinstance(params, Mapping):
            raise AddonProtocolError(said(msg.FEED_PARAMS))
        events = tuple(Event.from_dict(item, f"events[{i}]") for i, item in enumerate(raw["events"]))
        ids = [event.id for event in events]
        if ids != sorted(set(ids)):
            raise AddonProtocolError(said(msg.FEED_ORDER, ids=ids))
        has_more = params.get("has_more")
        if not isinstance(has_more, bool):
            raise AddonProtocolError(said(msg.EXPECTED_BOOLEAN, where="params.has_more", value=has_more))
        return cls(
            events=events,
            after_id=_int_field(params, "after_id", "params"),
            limit=_int_field(params, "limit", "params", minimum=1),
            next_after_id=_int_field(params, "next_after_id", "params"),
            has_more=has_more,
            acknowledged_id=_int_field(params, "acknowledged_id", "params"),
            statuses=_status_letters(params.get("statuses", {})),
        )


@dataclass(frozen=True, slots=True)
class WakeUp:
    """Body of the signed wake-up POST: only a hint; the daemon then reads the feed after its own cursor."""

    last_event_id: int
    sent_at: int
    source: str = "smile_bridge"

    @classmethod
    def from_body(cls, body: bytes) -> WakeUp:
        try:
            raw = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise AddonProtocolError(said(msg.WAKE_UP_NOT_JSON, error=exc)) from None
        if not isinstance(raw, Mapping) or raw.get("source") != "smile_bridge":
            raise AddonProtocolError(said(msg.WAKE_UP_SOURCE))
        return cls(
            last_event_id=_int_field(raw, "last_event_id", "wake-up"),
            sent_at=_int_field(raw, "sent_at", "wake-up"),
        )

    def to_body(self) -> bytes:
        """The same bytes as PHP's EventSerializer::wakeUpBody (compact JSON, this key order)."""
        payload = {"source": self.source, "last_event_id": self.last_event_id, "sent_at": self.sent_at}
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# ---- batch -------------------------------------------------------------------------------------


class BatchKind(str, Enum):
    STOCK = "stock"
    PRICES = "prices"
    CUSTOMER_PRICE = "customer_price"
    USER_FIELDS = "user_fields"
    PRODUCT_FIELDS = "product_fields"
    ORDER_FIELDS = "order_fields"
    SETTINGS = "settings"


class ResultCode(str, Enum):
    OK = "ok"
    INVALID = "invalid"  # malformed item: fix the payload, do not retry as is
    NOT_FOUND = "not_found"  # product/user/order id unknown on the store: the binding is stale
    FAILED = "failed"  # CS-Cart refused or errored while applying: retry later

    @property
    def retryable(self) -> bool:
        return self is ResultCode.FAILED


@dataclass(frozen=True, slots=True)
class BatchItemResult:
    index: int
    id: str | int | None
    code: ResultCode
    message: str = ""


@dataclass(frozen=True, slots=True)
class BatchResponse:
    results: tuple[BatchItemResult, ...]
    counts: Mapping[str, int]

    @classmethod
    def from_dict(cls, raw: Any, sent: int) -> BatchResponse:
        """Parse a 200 answer to a batch of ``sent`` items: exactly one result per item, in order."""
        if not isinstance(raw, Mapping) or not isinstance(raw.get("results"), list):
            raise AddonProtocolError(said(msg.BATCH_SHAPE))
        results = []
        for position, item in enumerate(raw["results"]):
            where = f"results[{position}]"
            if not isinstance(item, Mapping):
                raise AddonProtocolError(said(msg.EXPECTED_OBJECT_PLAIN, where=where))
            try:
                code = ResultCode(item.get("code"))
            except ValueError:
                raise AddonProtocolError(said(msg.RESULT_CODE, where=f"{where}.code", value=item.get("code"))) from None
            index = _int_field(item, "index", where)
            if index != position:
                raise AddonProtocolError(said(msg.RESULT_ORDER, where=f"{where}.index", index=index))
            results.append(BatchItemResult(index, item.get("id"), code, str(item.get("message") or "")))
        if len(results) != sent:
            raise AddonProtocolError(said(msg.RESULT_COUNT, results=len(results), sent=sent))
        raw_counts = raw.get("counts")
        counts = ({str(k): v for k, v in raw_counts.items() if isinstance(v, int)}
                  if isinstance(raw_counts, Mapping) else {})  # informational only
        return cls(results=tuple(results), counts=counts)


# -- returns (CS-Cart's rma add-on through GET /api/smile_bridge_returns) ------------------------------------------


@dataclass(frozen=True, slots=True)
class ReturnItem:
    item_id: str
    product_id: int
    product_code: str
    product: str
    amount: int
    price: Decimal
    accepted: bool  # type A; D = declined by staff
    reason: str


@dataclass(frozen=True, slots=True)
class ReturnRequest:
    """One return request as the add-on shows it (``SmileBridge\\ReturnSerializer``)."""

    return_id: int
    order_id: int
    status: str
    timestamp: int
    comment: str
    items: tuple[ReturnItem, ...]

    @property
    def accepted(self) -> tuple[ReturnItem, ...]:
        return tuple(item for item in self.items if item.accepted and item.amount > 0)

    @classmethod
    def from_dict(cls, raw: Any, where: str = "return") -> ReturnRequest:
        if not isinstance(raw, Mapping):
            raise AddonProtocolError(said(msg.EXPECTED_OBJECT, where=where, kind=type(raw).__name__))
        items = raw.get("items")
        if isinstance(items, Mapping) and not items:
            items = []
        if not isinstance(items, list):
            raise AddonProtocolError(said(msg.EXPECTED_LIST, where=f"{where}.items", value=items))
        parsed = []
        for index, item in enumerate(items):
            at = f"{where}.items[{index}]"
            if not isinstance(item, Mapping):
                raise AddonProtocolError(said(msg.EXPECTED_OBJECT_PLAIN, where=at))
            try:
                price = Decimal(str(item.get("price", "0")))
            except ArithmeticError:
                raise AddonProtocolError(said(msg.EXPECTED_DECIMAL, where=f"{at}.price", value=item.get("price"))) from None
            parsed.append(ReturnItem(
                item_id=str(item.get("item_id", "")), product_id=_int_field(item, "product_id", at),
                product_code=str(item.get("product_code") or ""), product=str(item.get("product") or ""),
                amount=_int_field(item, "amount", at), price=price, accepted=item.get("type", "A") == "A",
                reason=str(item.get("reason") or "")))
        status = raw.get("status")
        if not isinstance(status, str) or len(status) != 1:
            raise AddonProtocolError(said(msg.EXPECTED_STATUS_LETTER, where=f"{where}.status", value=status))
        return cls(return_id=_int_field(raw, "return_id", where, minimum=1),
                   order_id=_int_field(raw, "order_id", where), status=status,
                   timestamp=_int_field(raw, "timestamp", where), comment=str(raw.get("comment") or ""),
                   items=tuple(parsed))
