"""``/orders``: incremental listing, full detail keyed by item_id, the status-only fast path that validates nothing,
and order creation (``POST /stores/:cid/orders`` in Ultimate)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bridge.cscart.sim import promotions
from bridge.cscart.sim.api import ApiCall, ApiError, Result, as_list, envelope, flag, page_params, paginate
from bridge.cscart.sim.state import SimItem, SimOrder, SimState, item_id_for, money, mysql_utf8

FAST_PATH_KEYS = {"status", "notify_user", "notify_department", "notify_vendor"}
ADDRESS_KEYS = tuple(f"{side}_{name}" for side in "bs" for name in
                     ("firstname", "lastname", "address", "address_2", "city", "state", "country", "zipcode",
                      "phone"))


def list_row(order: SimOrder) -> dict[str, str]:
    return {
        "order_id": str(order.order_id), "issuer_id": "", "user_id": str(order.user_id), "is_parent_order": "N",
        "parent_order_id": "0", "company_id": str(order.company_id), "company": order.company,
        "timestamp": str(order.timestamp), "firstname": order.firstname, "lastname": order.lastname,
        "email": order.email, "phone": order.phone, "status": order.status, "total": money(order.total),
        "storefront_id": "1", "issuer_name": "", "issuer_email": "", "invoice_id": "", "credit_memo_id": "",
        "points": "0", **order.extra,  # the add-on's columns (its get_orders hook; the detail selects orders.*)
    }


def detail(state: SimState, order: SimOrder) -> dict[str, Any]:
    data: dict[str, Any] = list_row(order)
    products = {
        item.item_id: {
            "item_id": item.item_id, "order_id": str(order.order_id), "product_id": str(item.product_id),
            "product_code": item.product_code, "price": money(Decimal(item.price) - Decimal(item.discount)),
            "amount": str(item.amount), "product": item.product, "base_price": item.price,
            "original_price": item.price, "discount": item.discount,
            "subtotal": money((Decimal(item.price) - Decimal(item.discount)) * item.amount), "tax_value": "0",
            "shipped_amount": str(item.shipped), "shipment_amount": str(item.amount - item.shipped),
            "extra": {"product_options": [], **({"exclude_from_calculate": True, "is_free_promotion_product": "Y",
                                                 "saved_options_key": f"{item.promotion_id}_{item.product_id}"}
                                                if item.promotion_id is not None else {})},
        }
        for item in order.items.values()
    }
    data.update({
        "updated_at": str(order.updated_at), "subtotal": money(order.subtotal - order.discount),
        "discount": money(order.discount), "subtotal_discount": order.subtotal_discount,
        "display_subtotal": money(order.subtotal - order.discount), "payment_surcharge": order.payment_surcharge,
        "shipping_cost": order.shipping_cost, "display_shipping_cost": order.shipping_cost,
        "shipping_ids": str(order.shipping_id),
        "shipping": [{"shipping_id": str(order.shipping_id),
                      "shipping": state.shippings.get(order.shipping_id, ""), "group_key": 0,
                      "rate": order.shipping_cost}],
        "need_shipping": True, "shipment_ids": [str(s) for s in order.shipment_ids],
        "payment_id": str(order.payment_id),
        "payment_method": {"payment_id": str(order.payment_id), "payment": state.payments.get(order.payment_id, "")},
        "payment_info": [], "taxes": [], "tax_subtotal": "0", "tax_exempt": "N", **promotions.order_fields(state, order),
        "notes": order.notes, "details": order.details, "lang_code": "ja", "fields": [],
        "products": products, "profile_id": "1", "ip_address": "127.0.0.1",
    })
    for key in ADDRESS_KEYS:
        data[key] = order.address.get(key, "")
    data["b_state_descr"] = data["b_state"]
    data["s_state_descr"] = data["s_state"]
    return data


def _selected(state: SimState, params: dict[str, Any]) -> list[SimOrder]:
    ids = {int(i) for i in as_list(params.get("order_id"))}
    # order_id given: those rows only, as CS-Cart's WHERE order_id IN (…) reads them through the primary key (the
    # other filters below still apply); not every order of the store scanned per request
    orders = [state.orders[i] for i in sorted(ids) if i in state.orders] if ids else list(state.orders.values())
    if (fro := params.get("updated_at_from")) not in (None, ""):
        orders = [o for o in orders if o.updated_at >= int(fro)]
    if (to := params.get("updated_at_to")) not in (None, ""):
        orders = [o for o in orders if o.updated_at <= int(to)]
    period = str(params.get("period") or "")
    if period == "C":  # time_from/time_to count only together with a period other than A
        if (tf := params.get("time_from")) not in (None, ""):
            orders = [o for o in orders if o.timestamp >= int(tf)]
        if (tt := params.get("time_to")) not in (None, ""):
            orders = [o for o in orders if o.timestamp <= int(tt)]
    statuses = as_list(params.get("status"))
    if statuses:
        orders = [o for o in orders if o.status in statuses]
    elif not flag(params, "include_incompleted", False):
        orders = [o for o in orders if o.status != "N"]
    if (user := params.get("user_id")) not in (None, ""):
        orders = [o for o in orders if o.user_id == int(user)]
    if email := params.get("email"):
        orders = [o for o in orders if str(email) in o.email]  # LIKE %x%
    if state.addon is not None and params.get("smile_direct_ship") in ("Y", "N"):  # the add-on's filter
        orders = [o for o in orders if o.extra.get("smile_direct_ship") == params["smile_direct_ship"]]
    sort_by = str(params.get("sort_by") or "date")
    descending = str(params.get("sort_order") or "desc").lower() == "desc"
    keys = {"order_id": lambda o: o.order_id, "status": lambda o: (o.status, o.order_id),
            "total": lambda o: (o.total, o.order_id), "email": lambda o: (o.email, o.order_id),
            "customer": lambda o: (o.lastname, o.firstname, o.order_id)}
    orders.sort(key=keys.get(sort_by, lambda o: (o.timestamp, o.order_id)), reverse=descending)
    return orders


def index(call: ApiCall) -> Result:
    state = call.state
    if call.id is not None:
        order = call.row(state.orders)  # {"message": "Not Found", "status": 404}
        return Result(200, detail(state, order))
    try:
        orders = _selected(state, call.params)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    page, size = page_params(call)
    full = flag(call.params, "get_orders_data", False)
    rows = [detail(state, o) if full else list_row(o) for o in paginate(orders, page, size)]
    echo = {**call.params, "page": page, "items_per_page": size or 0,
            "sort_by": call.params.get("sort_by") or "date", "sort_order": call.params.get("sort_order") or "desc"}
    return Result(200, envelope("orders", rows, echo, len(orders)))


def update(call: ApiCall) -> Result:
    state = call.state
    body = call.body
    if "status" in body and set(body) <= FAST_PATH_KEYS:
        # The fast path: fn_change_order_status only. Unknown ids answer 200 and unknown letters are stored.
        order_id = _int_or_none(call.id)
        order = state.orders.get(order_id) if order_id is not None else None
        if order is not None:
            state.change_order_status(order, str(body["status"]), notify=body)
        return Result(200, {"order_id": call.id})
    order = call.row(state.orders, f"The order {call.id} not found")
    _recalculate(state, order, body)
    return Result(200, {"order_id": order.order_id})


def _recalculate(state: SimState, order: SimOrder, body: dict[str, Any]) -> None:
    """Any other key: the cart is rebuilt from the body, so products not in the body are removed."""
    known = False
    for key in ("notes", "details"):
        if key in body:
            setattr(order, key, mysql_utf8(str(body[key])))
            known = True
    for key in ADDRESS_KEYS:
        if key in body:
            order.address[key] = mysql_utf8(str(body[key]))
            known = True
    if "products" in body or known:
        order.items = _items(state, order.order_id, body.get("products") or {})
        order.updated_at = state.now()
        if state.addon is not None:  # fn_update_order's update_order hook
            state.addon.record("order.updated", order.order_id, {"status": order.status})
    if "status" in body:
        state.change_order_status(order, str(body["status"]), notify=body)


def _items(state: SimState, order_id: int, products: Any) -> dict[str, SimItem]:
    rows = list(products.values()) if isinstance(products, dict) else list(products)
    items: dict[str, SimItem] = {}
    for index, row in enumerate(rows):
        product_id = int(row.get("product_id", 0)) if isinstance(row, dict) else 0
        product = state.products.get(product_id)
        if product is None:
            raise ApiError(400, f"Product {product_id} does not exist")
        item_id = item_id_for(order_id, product_id, index)
        items[item_id] = SimItem(item_id=item_id, product_id=product_id, product_code=product.product_code,
                                 product=product.product, price=product.price, amount=int(row.get("amount", 1)))
    return items


def create(call: ApiCall) -> Result:
    """``POST /stores/:cid/orders`` (Ultimate): ``products`` is ``{product_id: {"product_id", "amount"}}``."""
    state = call.state
    body = call.body
    products = body.get("products")
    if not products:
        raise ApiError(400, "The products field is required")
    rows = list(products.values()) if isinstance(products, dict) else list(products)
    try:
        lines = [(int(row["product_id"]), int(row.get("amount", 1))) for row in rows]
        user_id = int(body.get("user_id") or 0)
        payment_id = int(body.get("payment_id") or 0)
        shipping_id = int(body.get("shipping_id") or (body.get("shipping_ids") or [0])[0])
    except (KeyError, TypeError, ValueError) as exc:
        raise ApiError(400, f"Invalid order data: {exc}") from None
    if payment_id not in state.payments:
        raise ApiError(400, "The payment_id field is required")
    if shipping_id not in state.shippings:
        raise ApiError(400, "The shipping_id field is required")
    customer = {k: str(v) for k, v in (body.get("user_data") or {}).items()}
    coupons = body.get("coupon_codes") or []
    try:
        order = state.place_order(user_id=user_id, lines=lines, payment_id=payment_id, shipping_id=shipping_id,
                                  notes=str(body.get("notes", "")), customer=customer,
                                  shipping_cost=state.shipping_rates.get(shipping_id, 0),
                                  coupon_codes=tuple(str(c).strip().lower() for c in
                                                     (coupons if isinstance(coupons, list) else [coupons])))
    except KeyError as exc:
        raise ApiError(400, str(exc.args[0])) from None
    return Result(201, {"order_id": order.order_id, "order_data": detail(state, order)})


def delete(call: ApiCall) -> Result:
    if call.state.orders.pop(call.int_id(), None) is None:
        raise ApiError(404, f"The order {call.id} not found")
    if call.state.addon is not None:  # the delete_order hook
        call.state.addon.record("order.deleted", call.int_id(), {})
    return Result(204)


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None
