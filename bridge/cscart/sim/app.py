"""The aiohttp application: URL forms, auth, Content-Type decoding, fault injection, the request log, the entity
table (extensible: the add-on's entities plug in with ``entities=``) and the ``/_sim/*`` control endpoints."""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler as WebHandler

from bridge.cscart.sim import (
    addon,
    mail,
    orders,
    products,
    promotions,
    returns,
    shipments,
    statuses,
    storefront,
    users,
)
from bridge.cscart.sim.api import ApiCall, ApiError, Handler, Result, decode_body, json_response, parse_query
from bridge.cscart.sim.faults import FaultConfig
from bridge.cscart.sim.state import SimState

VERSIONS = ("1.0", "2.0", "2.1")
CURRENT_VERSION = "2.1"


@dataclass(frozen=True)
class Entity:
    """Handlers of one API entity; a missing one answers 405."""

    index: Handler | None = None
    create: Handler | None = None
    update: Handler | None = None
    delete: Handler | None = None
    forbidden: frozenset[str] = frozenset()  # methods whose privilege is false: 403 before anything else


CORE_ENTITIES: dict[str, Entity] = {
    "products": Entity(products.index, products.create, products.update, products.delete),
    "orders": Entity(orders.index, None, orders.update, orders.delete),
    "users": Entity(users.index, users.create, users.update, users.delete),
    "usergroups": Entity(users.usergroups_index, users.usergroups_create),
    "statuses": Entity(statuses.index, statuses.create, None, statuses.delete),
    "shipments": Entity(shipments.index, shipments.create, shipments.update, shipments.delete),
    "payments": Entity(storefront.payments),
    "shippings": Entity(storefront.shippings),
    "categories": Entity(storefront.categories),
    "stores": Entity(storefront.stores),
    "languages": Entity(storefront.languages),
}
# Served only while the smile_bridge add-on is installed (state.addon); otherwise 404 like any unknown entity.
ADDON_ENTITIES: dict[str, Entity] = {
    "smile_bridge_events": Entity(addon.events_index, addon.events_refused, addon.events_acknowledge,
                                  addon.events_refused, forbidden=frozenset({"POST", "DELETE"})),
    "smile_bridge_batch": Entity(addon.batch_other, addon.batch_create, addon.batch_other, addon.batch_other),
    "smile_bridge_promotions": Entity(promotions.index, promotions.refused, promotions.update, promotions.refused),
    "smile_bridge_mails": Entity(mail.mails_other, mail.mails_create, mail.mails_other, mail.mails_other),
    "smile_bridge_returns": Entity(returns.index, returns.refused, returns.refused, returns.refused),
}


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    entity: str
    query: dict[str, Any]
    content_type: str | None
    body: str
    status: int
    at: float

    def json(self) -> Any:
        import json

        return json.loads(self.body) if self.body else None


@dataclass
class RequestLog:
    """Every request the simulator answered (``/_sim`` calls excluded), oldest first, bounded."""

    entries: deque[LoggedRequest] = field(default_factory=lambda: deque(maxlen=50_000))

    def __iter__(self) -> Any:
        return iter(list(self.entries))

    def __len__(self) -> int:
        return len(self.entries)

    def clear(self) -> None:
        self.entries.clear()

    def where(self, *, method: str | None = None, entity: str | None = None,
              path_prefix: str | None = None) -> list[LoggedRequest]:
        return [r for r in self.entries if (method is None or r.method == method)
                and (entity is None or r.entity == entity)
                and (path_prefix is None or r.path.startswith(path_prefix))]


STATE_KEY = web.AppKey("state", SimState)
FAULTS_KEY = web.AppKey("faults", FaultConfig)
LOG_KEY = web.AppKey("requests", RequestLog)
ENTITIES_KEY = web.AppKey("entities", dict)


def make_app(state: SimState, faults: FaultConfig | None = None, log: RequestLog | None = None,
             entities: Mapping[str, Entity] | None = None) -> web.Application:
    app = web.Application(middlewares=[_log_and_faults], client_max_size=64 * 1024 * 1024)
    app[STATE_KEY] = state
    app[FAULTS_KEY] = faults if faults is not None else FaultConfig()
    app[LOG_KEY] = log if log is not None else RequestLog()
    app[ENTITIES_KEY] = {**CORE_ENTITIES, **(entities or {})}
    app.router.add_route("*", "/api/{tail:.*}", _api)
    app.router.add_route("*", "/api.php", _api)
    app.router.add_get("/_sim/requests", _sim_requests)
    app.router.add_delete("/_sim/requests", _sim_requests_clear)
    app.router.add_get("/_sim/faults", _sim_faults_get)
    app.router.add_post("/_sim/faults", _sim_faults_set)
    app.router.add_post("/_sim/orders", _sim_place_order)
    app.router.add_get("/_sim/notifications", _sim_notifications)
    return app


def _entity_of(request: web.Request) -> str:
    tail = request.match_info.get("tail") or request.query.get("_d", "")
    parts = [p for p in tail.split("/") if p]
    if parts and parts[0] in VERSIONS:
        parts = parts[1:]
    if len(parts) >= 3 and parts[0] == "stores":
        return parts[2]
    return parts[0] if parts else ""


@web.middleware
async def _log_and_faults(request: web.Request, handler: WebHandler) -> web.StreamResponse:
    if request.path.startswith("/_sim/"):
        return await handler(request)
    faults = request.app[FAULTS_KEY]
    entity = _entity_of(request)
    raw = await request.read()
    status = 0
    try:
        delay = faults.delay_seconds(request.method)
        if delay:
            await asyncio.sleep(delay)
        rule = faults.draw(entity, request.method)
        if rule is not None and rule.kind == "reset":
            status = -1
            if request.transport is not None:
                request.transport.abort()  # the client sees the connection drop, no response
            raise asyncio.CancelledError
        if rule is not None and rule.kind == "error":
            status = rule.status
            return ApiError(rule.status, "Injected fault").response()
        response = await handler(request)
        status = response.status
        if rule is not None and rule.kind == "reset_after":
            status = -2  # applied, but the client never hears of it
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
        if rule is not None and rule.kind == "slow_body" and isinstance(response, web.Response):
            return await _slow(request, response, rule.slow_body_ms / 1000.0)
        return response
    finally:
        request.app[LOG_KEY].entries.append(LoggedRequest(
            method=request.method, path=request.path, entity=entity, query=parse_query(list(request.query.items())),
            content_type=request.headers.get("Content-Type"), body=raw.decode("utf-8", "replace"), status=status,
            at=request.app[STATE_KEY].clock(),
        ))


async def _slow(request: web.Request, response: web.Response, pause: float) -> web.StreamResponse:
    body = response.body if isinstance(response.body, bytes) else b""
    stream = web.StreamResponse(status=response.status, headers={"Content-Type": "application/json"})
    stream.content_length = len(body)
    await stream.prepare(request)
    chunk = max(1, len(body) // 8)
    for start in range(0, len(body), chunk):
        await stream.write(body[start:start + chunk])
        await asyncio.sleep(pause)
    await stream.write_eof()
    return stream


async def _api(request: web.Request) -> web.Response:
    try:
        return await _dispatch(request)
    except ApiError as exc:
        return exc.response()


def _check_auth(request: web.Request, state: SimState) -> None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("basic "):
        raise ApiError(401)
    try:
        email, _, key = base64.b64decode(header[6:]).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise ApiError(401) from None
    if email != state.settings.email or key != state.settings.api_key:
        raise ApiError(401)


async def _dispatch(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    tail = request.match_info.get("tail")
    if tail is None:  # /api.php?_d=<entity>/<id>&ajax_custom=1
        tail = request.query.get("_d", "")
    parts = [p for p in tail.split("/") if p]
    version = CURRENT_VERSION
    if parts and parts[0] in VERSIONS:
        version, parts = parts[0], parts[1:]
    if parts == ["version"]:
        return json_response({"Version": version})
    _check_auth(request, state)
    if len(parts) >= 3 and parts[0] == "stores" and parts[2] in ("orders", "products"):
        # Ultimate: orders are created under their storefront; products can be listed per storefront.
        parts = parts[2:]
        if parts[0] == "orders" and request.method == "POST" and len(parts) == 1:
            call = await _call(request, state, version, parts)
            return _respond(orders.create(call))
    if not parts:
        raise ApiError(404, "The Entity  not found")
    entity = request.app[ENTITIES_KEY].get(parts[0])
    if entity is None and state.addon is not None:
        entity = ADDON_ENTITIES.get(parts[0])
    if entity is None:
        raise ApiError(404, f"The Entity {parts[0]} not found")
    call = await _call(request, state, version, parts)
    method = request.method
    if method == "POST" and request.headers.get("X-HTTP-Method-Override", "").upper() == "PUT":
        method = "PUT"
    if method == "POST" and call.body.get("_METHOD") == "PUT":
        method = "PUT"
    handler: Handler | None
    if method == "GET":
        handler = entity.index
    elif method == "POST":
        if call.id is not None:
            raise ApiError(405, "ID must not be defined")
        handler = entity.create
    elif method in ("PUT", "DELETE"):
        if call.id in (None, "", "0"):  # PHP's empty(): an id of 0 is no id
            raise ApiError(405, "Object ID undefined")
        handler = entity.update if method == "PUT" else entity.delete
    else:
        raise ApiError(405, "Method Not Allowed")
    if handler is None:
        raise ApiError(405, "Method Not Allowed")
    if method in entity.forbidden:
        raise ApiError(403)  # the privilege check comes before the parameters check
    if method in ("POST", "PUT") and not call.body:
        # CS-Cart's API core refuses a write without parameters before the entity runs: `PUT …/7 {}` is 405.
        raise ApiError(405, "Missing parameters")
    result = handler(call)
    if asyncio.iscoroutine(result):
        result = await result
    return _respond(result)  # type: ignore[arg-type]


async def _call(request: web.Request, state: SimState, version: str, parts: list[str]) -> ApiCall:
    body = decode_body(request.headers.get("Content-Type"), await request.read(), request.method) \
        if request.method in ("POST", "PUT") else {}
    body.pop("_METHOD", None) if request.method == "POST" and body.get("_METHOD") != "PUT" else None
    return ApiCall(
        method=request.method, version=version, entity=parts[0],
        id=parts[1] if len(parts) > 1 else None, child=parts[2] if len(parts) > 2 else None,
        child_id=parts[3] if len(parts) > 3 else None,
        params=parse_query([(k, v) for k, v in request.query.items() if k not in ("_d", "ajax_custom")]),
        body=body, state=state,
    )


def _respond(result: Result) -> web.Response:
    if result.status == 204:
        return web.Response(status=204)
    return json_response(result.data, status=result.status)


# --- /_sim control endpoints (no auth: test and demo plumbing, not part of CS-Cart) -------------------------------


async def _sim_requests(request: web.Request) -> web.Response:
    log = request.app[LOG_KEY]
    rows = log.where(method=request.query.get("method"), entity=request.query.get("entity"))
    return web.json_response([asdict(r) for r in rows])


async def _sim_requests_clear(request: web.Request) -> web.Response:
    request.app[LOG_KEY].clear()
    return web.Response(status=204)


async def _sim_faults_get(request: web.Request) -> web.Response:
    return web.json_response(request.app[FAULTS_KEY].as_dict())


async def _sim_faults_set(request: web.Request) -> web.Response:
    try:
        request.app[FAULTS_KEY].update(await request.json())
    except (ValueError, TypeError) as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response(request.app[FAULTS_KEY].as_dict())


async def _sim_place_order(request: web.Request) -> web.Response:
    """A shopper checks out: ``{"user_id", "lines": [{"product_id", "amount"}], "payment_id", "shipping_id",
    "status" (default O; N = online payment not finished), "notes", "timestamp", "direct_ship": {"recipient"}
    (the add-on's 直送 checkbox; needs the add-on), "shipping_cost", "coupon_codes": [...]}``; live promotions
    apply as CS-Cart's checkout would (sim/promotions.py)."""
    state = request.app[STATE_KEY]
    try:
        data = await request.json()
        lines = [(int(line["product_id"]), int(line.get("amount", 1))) for line in data["lines"]]
        order = state.place_order(
            user_id=int(data.get("user_id", 0)), lines=lines, payment_id=int(data.get("payment_id", 1)),
            shipping_id=int(data.get("shipping_id", 1)), status=str(data.get("status", "O")),
            notes=str(data.get("notes", "")), timestamp=data.get("timestamp"),
            customer={k: str(v) for k, v in (data.get("customer") or {}).items()},
            direct_ship={k: str(v) for k, v in data["direct_ship"].items()} if data.get("direct_ship") else None,
            shipping_cost=data.get("shipping_cost", 0), coupon_codes=tuple(data.get("coupon_codes") or ()),
        )
    except (KeyError, TypeError, ValueError) as exc:
        return web.json_response({"error": f"bad order: {exc}"}, status=400)
    return web.json_response({"order_id": order.order_id, "status": order.status}, status=201)


async def _sim_notifications(request: web.Request) -> web.Response:
    return web.json_response([asdict(n) for n in request.app[STATE_KEY].notifications])
