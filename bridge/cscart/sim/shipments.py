"""``/shipments``: create with carrier/tracking, quantities capped at what is unshipped, ``order_status`` side effect,
PUT restricted to a whitelist."""

from __future__ import annotations

from bridge.cscart.sim.api import ApiCall, ApiError, Result, envelope, page_params, paginate
from bridge.cscart.sim.state import SimShipment, mysql_utf8

PUT_FIELDS = {"tracking_number", "comments", "status", "timestamp"}


def row(call: ApiCall, shipment: SimShipment) -> dict[str, object]:
    state = call.state
    order = state.orders.get(shipment.order_id)
    return {
        "shipment_id": str(shipment.shipment_id), "shipment_timestamp": str(shipment.timestamp),
        "comments": shipment.comments, "status": shipment.status, "order_id": str(shipment.order_id),
        "order_timestamp": str(order.timestamp if order else 0), "tracking_number": shipment.tracking_number,
        "carrier": shipment.carrier, "shipping_id": str(shipment.shipping_id),
        "shipping": state.shippings.get(shipment.shipping_id, ""), "user_id": str(order.user_id if order else 0),
        "products": {k: str(v) for k, v in shipment.products.items()},
        "carrier_info": {"name": shipment.carrier, "tracking_url": ""},
    }


def index(call: ApiCall) -> Result:
    state = call.state
    if call.id is not None:
        shipment = call.row(state.shipments, f"The shipment {call.id} not found")
        return Result(200, row(call, shipment))
    shipments = list(state.shipments.values())
    if (order_id := call.params.get("order_id")) not in (None, ""):
        shipments = [s for s in shipments if s.order_id == int(order_id)]
    page, size = page_params(call)
    echo = {**call.params, "page": page, "items_per_page": size}
    return Result(200, envelope("shipments", [row(call, s) for s in paginate(shipments, page, size)], echo,
                                len(shipments)))


def create(call: ApiCall) -> Result:
    state = call.state
    body = call.body
    try:
        order_id = int(body.get("order_id") or 0)
        shipping_id = int(body.get("shipping_id") or 0)
    except ValueError:
        raise ApiError(400, "order_id and shipping_id must be numbers") from None
    order = state.orders.get(order_id)
    if order is None:
        raise ApiError(400, "The order_id field is required")
    if not shipping_id:
        raise ApiError(400, "The shipping_id field is required")
    if not body.get("carrier") and not body.get("tracking_number"):
        raise ApiError(400, "The carrier or tracking_number field is required")
    wanted = body.get("products")
    shipped: dict[str, int] = {}
    for item in order.items.values():
        left = item.amount - item.shipped
        quantity = left if not wanted else min(left, int(wanted.get(item.item_id, 0) or 0))
        if quantity > 0:
            shipped[item.item_id] = quantity
            item.shipped += quantity
    if not shipped:
        raise ApiError(400, "There are no products to ship")
    shipment = SimShipment(
        shipment_id=state.new_id("shipment", state.shipments), order_id=order_id, shipping_id=shipping_id,
        tracking_number=mysql_utf8(str(body.get("tracking_number", ""))),
        carrier=mysql_utf8(str(body.get("carrier", ""))), status=str(body.get("status") or "P"),
        timestamp=int(body["timestamp"]) if body.get("timestamp") else state.now(),
        comments=mysql_utf8(str(body.get("comments", ""))), products=shipped,
    )
    state.shipments[shipment.shipment_id] = shipment
    order.shipment_ids.append(shipment.shipment_id)
    if body.get("order_status"):
        state.change_order_status(order, str(body["order_status"]), notify=body)
    return Result(201, {"shipment_id": shipment.shipment_id})


def update(call: ApiCall) -> Result:
    shipment = call.row(call.state.shipments, f"The shipment {call.id} not found")
    extra = set(call.body) - PUT_FIELDS
    if extra:
        raise ApiError(400, f"Fields cannot be updated: {', '.join(sorted(extra))}")
    for key in ("tracking_number", "comments", "status"):
        if key in call.body:
            setattr(shipment, key, mysql_utf8(str(call.body[key])))
    if "timestamp" in call.body:
        shipment.timestamp = int(call.body["timestamp"])
    return Result(200, {"shipment_id": shipment.shipment_id})


def delete(call: ApiCall) -> Result:
    if call.state.shipments.pop(call.int_id(), None) is None:
        raise ApiError(404, f"The shipment {call.id} not found")
    return Result(204)
