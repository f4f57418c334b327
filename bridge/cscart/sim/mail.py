"""The add-on's customer mails as the simulator plays them: the same ``{{ smile.* }}`` values the PHP add-on builds
(``SmileBridge\\MailContext::build``; tests/addon/test_mail_context.py runs both on the same inputs), recorded on the
store instead of rendered and sent. A status mail of a mapped status (出荷指示 → 正式受注確認, 出荷通知済 → 出荷通知,
param ``mail_statuses`` for more) and ``POST /api/smile_bridge_mails`` (once per key) both land in
``AddonState.mails``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from bridge.cscart.sim.api import ApiCall, Result
    from bridge.cscart.sim.state import SimOrder, SimState

JST = ZoneInfo("Asia/Tokyo")

KINDS: dict[str, str] = {
    "order_confirmed": "正式受注確認",
    "payment_received": "入金確認",
    "shipping_notice": "出荷通知",
    "delay": "遅延のお知らせ",
    "cancelled": "キャンセルのお知らせ",
    "returned": "返品受付のお知らせ",
}
VALUE_KEYS = ("ship_date", "reason", "new_date", "return")
DEFAULT_CARRIERS: dict[str, dict[str, str]] = {
    "yamato": {"name": "ヤマト運輸", "url": "https://jizen.kuronekoyamato.co.jp/jizen/servlet/crjz.b.NQ0010?id={no}"},
    "sagawa": {"name": "佐川急便", "url": "https://k2k.sagawa-exp.co.jp/p/web/okurijosearch.do?okurijoNo={no}"},
    "japanpost": {"name": "日本郵便", "url": "https://trackings.post.japanpost.jp/services/srv/search/direct"
                                           "?reqCodeNo1={no}&searchKind=S002&locale=ja"},
}
# the add-on's status key → the mail its status sends instead of CS-Cart's generic one
STATUS_MAILS = {"shipping_instructed": "order_confirmed", "notified": "shipping_notice"}


@dataclass(frozen=True)
class SimMail:
    order_id: int
    kind: str
    to: str
    key: str  # "" for a status mail
    context: dict[str, Any]


def yen(amount: Any) -> str:
    """``MailContext::yen``: whole yen, half up, thousands separators."""
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation:
        value = Decimal(0)
    return f"{value.quantize(Decimal(1), ROUND_HALF_UP):,}"


def _day(timestamp: Any) -> str:
    try:
        seconds = int(timestamp)
    except (TypeError, ValueError):
        return ""
    return datetime.fromtimestamp(seconds, UTC).astimezone(JST).date().isoformat() if seconds > 0 else ""


def _iso_day(value: Any) -> str:
    text = str(value).strip() if value is not None else ""
    if len(text) == 10 and text[4] == "-" and text[7] == "-" and (text[:4] + text[5:7] + text[8:]).isdigit():
        return text
    return ""


def _text(values: dict[str, Any], key: str) -> str:
    value = values.get(key)
    return str(value).strip() if isinstance(value, (str, int, float)) and not isinstance(value, bool) else ""


def _business_day(method: dict[str, Any], day: date) -> bool:
    closed = [int(d) for d in method.get("closed_weekdays", [6, 7])] if isinstance(
        method.get("closed_weekdays"), list) else [6, 7]
    holidays = method.get("holidays") if isinstance(method.get("holidays"), list) else []
    return day.isoweekday() not in closed and day.isoformat() not in (holidays or [])


def ship_date(method: dict[str, Any], now: datetime) -> date:
    """``DeliveryDates::shipDate``."""
    local = now.astimezone(JST)
    day = local.date()
    cutoff = str(method.get("cutoff") or "")
    parts = cutoff.split(":")
    if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit() and len(parts[1]) == 2 and len(parts[0]) <= 2 \
            and (local.hour, local.minute, local.second) >= (int(parts[0]), int(parts[1]), 0):
        day += timedelta(days=1)
    while not _business_day(method, day):
        day += timedelta(days=1)
    for _ in range(max(0, int(method.get("lead_business_days") or 0))):
        day += timedelta(days=1)
        while not _business_day(method, day):
            day += timedelta(days=1)
    return day


def mail_context(kind: str, order: dict[str, Any], shipments: list[dict[str, Any]],
                 carriers: dict[str, dict[str, str]], method: dict[str, Any] | None, values: dict[str, Any],
                 now: datetime) -> dict[str, Any]:
    """``MailContext::build`` on the same plain inputs (CS-Cart's order_info and shipment rows)."""
    if kind not in KINDS:
        raise ValueError(f"unknown mail kind {kind}; known: {', '.join(KINDS)}")
    known = {**DEFAULT_CARRIERS, **carriers}
    out_shipments = []
    last_shipped = ""
    for shipment in sorted(shipments, key=lambda s: int(s.get("shipment_id") or 0)):
        code = str(shipment.get("carrier") or "")
        number = str(shipment.get("tracking_number") or "").strip()
        carrier = known.get(code) or {}
        url = str(carrier.get("url") or "")
        shipped_on = _day(shipment.get("shipment_timestamp"))
        last_shipped = max(last_shipped, shipped_on)
        out_shipments.append({
            "carrier": code, "carrier_name": str(carrier.get("name") or "") or code, "tracking_number": number,
            "tracking_url": url.replace("{no}", quote(number.replace("-", ""), safe="-_.~"))
            if url and number else "",
            "shipped_on": shipped_on,
            "memo": str(shipment.get("comments") or "").replace("\r\n", "\n").strip(),
        })
    delivery_date = _iso_day(order.get("smile_delivery_date"))
    planned = _iso_day(_text(values, "ship_date"))
    if not planned and method is not None:
        planned = ship_date(method, now).isoformat()
    arrival = delivery_date
    if not arrival and last_shipped and method is not None:
        transit = max(0, int(method.get("transit_days", 1) or 0))
        arrival = (date.fromisoformat(last_shipped) + timedelta(days=transit)).isoformat()
    items = []
    products = order.get("products") if isinstance(order.get("products"), dict) else {}
    # PHP keeps numeric item ids as integer keys: ksort orders them by number
    for _, product in sorted((products or {}).items(),
                             key=lambda kv: (0, int(kv[0]), "") if str(kv[0]).isdigit() else (1, 0, str(kv[0]))):
        if not isinstance(product, dict):
            continue
        quantity = int(product.get("amount") or 0)
        price = str(product.get("price") or "0")
        items.append({"code": str(product.get("product_code") or ""), "name": str(product.get("product") or ""),
                      "quantity": quantity, "price": yen(price), "subtotal": yen(Decimal(price) * quantity)})
    name = f"{str(order.get('lastname') or '').strip()} {str(order.get('firstname') or '').strip()}".strip()
    return {
        "kind": kind, "title": KINDS[kind], "order_id": int(order.get("order_id") or 0),
        "order_date": _day(order.get("timestamp")), "customer_name": name,
        "company": str(order.get("company") or "").strip(), "email": str(order.get("email") or ""),
        "total": yen(order.get("total") or "0"), "items": items, "ship_date": planned,
        "delivery_date": delivery_date, "delivery_slot": str(order.get("smile_delivery_slot") or "").strip(),
        "arrival_date": arrival, "shipments": out_shipments, "reason": _text(values, "reason"),
        "new_date": _iso_day(_text(values, "new_date")), "return": _returned(values.get("return")),
    }


def _returned(value: Any) -> dict[str, Any] | list[Any]:
    if not isinstance(value, dict):
        return []  # PHP's empty array encodes as []
    raw = value.get("items")
    items = [{"code": str(i.get("code") or ""), "name": str(i.get("name") or ""), "quantity": int(i.get("quantity") or 0)}
             for i in (raw if isinstance(raw, list) else []) if isinstance(i, dict)]
    return {"return_id": int(value.get("return_id") or 0), "items": items, "amount": yen(value.get("amount") or "0")}


def pushed_json(params: dict[str, str], name: str) -> dict[str, Any]:
    try:
        value = json.loads(params.get(name) or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# ---- the add-on's glue (includes/mails.php) ---------------------------------------------------------------------


def status_mails(params: dict[str, str]) -> dict[str, str]:
    """``fn_smile_bridge_mail_statuses``: status letter → mail kind."""
    out = {params[f"status.{key}"]: kind for key, kind in STATUS_MAILS.items() if params.get(f"status.{key}")}
    for letter, kind in pushed_json(params, "mail_statuses").items():
        if not (len(letter) == 1 and "A" <= letter <= "Z"):
            continue
        if kind in ("", None):
            out.pop(letter, None)
        elif kind in KINDS:
            out[letter] = kind
    return out


def context_for(state: SimState, kind: str, order: SimOrder, values: dict[str, Any]) -> dict[str, Any]:
    from bridge.cscart.sim.orders import detail

    params = state.addon.params if state.addon is not None else {}
    shipments = [{"shipment_id": s.shipment_id, "shipment_timestamp": s.timestamp, "comments": s.comments,
                  "tracking_number": s.tracking_number, "carrier": s.carrier}
                 for s in (state.shipments[i] for i in order.shipment_ids if i in state.shipments)]
    method = pushed_json(params, "delivery_methods").get(str(order.shipping_id))
    return mail_context(kind, detail(state, order), shipments, pushed_json(params, "mail_carriers"),
                        method if isinstance(method, dict) else None, values,
                        datetime.fromtimestamp(state.now(), UTC))


def on_status_mail(state: SimState, order: SimOrder, letter: str) -> None:
    """The mailer_create_message_before hook: a customer status mail of a mapped status uses the add-on's template."""
    addon = state.addon
    if addon is None:
        return
    kind = status_mails(addon.params).get(letter)
    if kind is None or kind in addon.disabled_mails:
        return
    addon.mails.append(SimMail(order.order_id, kind, order.email, "", context_for(state, kind, order, {})))


def parse_request(body: Any) -> tuple[int, str, str, dict[str, Any]]:
    """``MailRequest::parse``: (order_id, kind, key, values) or ValueError naming the field."""
    if isinstance(body, list):
        body = dict(enumerate(body))  # a JSON list is a PHP array too
    if not isinstance(body, dict):
        raise ValueError('the body must be a JSON object {"order_id", "kind", "key", "values"} sent with '
                         "Content-Type: application/json")
    raw_id = body.get("order_id")
    ok_id = (isinstance(raw_id, int) and not isinstance(raw_id, bool)) or (
        isinstance(raw_id, str) and raw_id.isascii() and raw_id.isdigit())
    if not ok_id or int(raw_id) <= 0:  # type: ignore[arg-type]
        raise ValueError("order_id: must be a positive integer")
    kind = body.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValueError(f"kind: must be one of {', '.join(KINDS)}")
    key = body.get("key")
    if not isinstance(key, str) or not 1 <= len(key) <= 128 or not all("\x21" <= c <= "\x7e" for c in key):
        raise ValueError("key: must be 1-128 printable ASCII characters without spaces (one per mail: a repeat is "
                         "not sent again)")
    values = body.get("values", {})
    if isinstance(values, list) and not values:
        values = {}  # PHP decodes {} and [] alike
    if not isinstance(values, dict):
        raise ValueError(f"values: must be an object of {', '.join(VALUE_KEYS)}")
    for name in values:
        if name not in VALUE_KEYS:
            raise ValueError(f"values.{name}: unknown; allowed: {', '.join(VALUE_KEYS)}")
    return int(raw_id), kind, key, values  # type: ignore[arg-type]


def mails_create(call: ApiCall) -> Result:
    """``POST /api/smile_bridge_mails``."""
    from bridge.cscart.sim.api import ApiError, Result

    state = call.state
    addon = state.addon
    if addon is None:
        raise ApiError(404, f"The Entity {call.entity} not found")
    try:
        order_id, kind, key, values = parse_request(call.body)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    if key in addon.mail_keys:
        sent_at = datetime.fromtimestamp(addon.mail_keys[key], UTC).astimezone(JST).isoformat()
        return Result(200, {"status": "duplicate", "message": f"mail {key} was sent at {sent_at}"})
    order = state.orders.get(order_id)
    if order is None:
        raise ApiError(404, f"order {order_id} does not exist")
    if kind in addon.disabled_mails:
        raise ApiError(409, f"the e-mail template smile_bridge_{kind} is missing or disabled (Design → Email "
                            "templates)")
    addon.mails.append(SimMail(order_id, kind, order.email, key, context_for(state, kind, order, values)))
    addon.mail_keys[key] = state.now()
    return Result(200, {"status": "sent", "message": ""})


def mails_other(call: ApiCall) -> Result:
    from bridge.cscart.sim.api import ApiError

    if call.state.addon is None:
        raise ApiError(404, f"The Entity {call.entity} not found")
    raise ApiError(405, 'send POST /api/smile_bridge_mails {"order_id", "kind", "key", "values"}')
