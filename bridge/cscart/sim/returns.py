"""Return requests (CS-Cart's ``rma`` add-on) on the simulated store, as the smile_bridge add-on shows them:
``create_return`` is what the storefront's 返品 form does (status R, requested), ``change_return_status`` what staff
do in Orders → Return requests (``fn_rma_update_details``: the add-on's hook writes ``return.status_changed``), and
``GET /api/smile_bridge_returns`` (``ReturnSerializer``) lists or shows them."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bridge.cscart.sim.api import ApiCall, ApiError, Result
from bridge.cscart.sim.state import SimState

MAX_LIMIT = 200
REASONS = {1: "Defective", 2: "Wrong item", 3: "Not as described"}  # rma's reason properties (ids → names)


@dataclass
class SimReturnItem:
    item_id: str
    product_id: int
    product: str
    amount: int
    price: str
    type: str = "A"  # A accepted, D declined
    reason: int = 0


@dataclass
class SimReturn:
    return_id: int
    order_id: int
    user_id: int
    status: str
    timestamp: int
    comment: str = ""
    items: list[SimReturnItem] = field(default_factory=list)


def _returns(state: SimState) -> dict[int, SimReturn]:
    addon = state.addon
    if addon is None:
        raise ApiError(404, "The Entity smile_bridge_returns not found")
    if not addon.rma:
        raise ApiError(404, "CS-Cart's rma add-on (returns) is not installed on this store")
    table: dict[int, SimReturn] = addon.returns
    return table


def create_return(state: SimState, order_id: int, items: list[tuple[str, int, int]], comment: str = "") -> SimReturn:
    """The storefront's return form: (item_id, amount, reason id) of the order's lines; status R."""
    table = _returns(state)
    order = state.orders[order_id]
    return_id = max(table, default=0) + 1
    lines = []
    for item_id, amount, reason in items:
        item = order.items[item_id]
        lines.append(SimReturnItem(item_id=item_id, product_id=item.product_id, product=item.product,
                                   amount=int(amount), price=f"{Decimal(item.price) - Decimal(item.discount):.2f}",
                                   reason=reason))
    table[return_id] = SimReturn(return_id, order_id, order.user_id, "R", state.now(), comment, lines)
    return table[return_id]


def decline_item(state: SimState, return_id: int, item_id: str) -> None:
    """Staff decline one product of the request (rma.decline_products): its type becomes D."""
    for item in _returns(state)[return_id].items:
        if item.item_id == item_id:
            item.type = "D"


def change_return_status(state: SimState, return_id: int, to: str) -> None:
    """``fn_rma_update_details``: the status changes and the add-on's hook writes its event."""
    ret = _returns(state)[return_id]
    before = ret.status
    if before == to:
        return
    ret.status = to
    assert state.addon is not None
    state.addon.record("return.status_changed", return_id,
                       {"order_id": ret.order_id, "status_from": before, "status_to": to})


def as_json(state: SimState, ret: SimReturn) -> dict[str, Any]:
    """``ReturnSerializer::toJson``."""
    order = state.orders.get(ret.order_id)
    codes = {item_id: item.product_code for item_id, item in (order.items.items() if order else [])}
    items = sorted(({"item_id": i.item_id, "product_id": i.product_id, "product_code": codes.get(i.item_id, ""),
                     "product": i.product, "amount": i.amount, "price": f"{Decimal(i.price):.2f}", "type": i.type,
                     "reason": REASONS.get(i.reason, "")} for i in ret.items),
                   key=lambda row: (row["type"], row["item_id"]))
    return {"return_id": ret.return_id, "order_id": ret.order_id, "user_id": ret.user_id, "status": ret.status,
            "timestamp": ret.timestamp, "action": 1, "comment": ret.comment, "items": items}


def _list_params(params: dict[str, Any]) -> tuple[list[str], int, int]:
    """``ReturnSerializer::listParams``."""
    statuses = []
    for letter in [part for part in str(params.get("statuses") or "").split(",") if part]:
        if not (len(letter) == 1 and "A" <= letter <= "Z"):
            raise ApiError(400, "statuses must be return status letters separated by commas, e.g. A,C")
        statuses.append(letter)
    since = str(params.get("since") or "0")
    if not (since.isascii() and since.isdigit()):
        raise ApiError(400, "since must be a unix time (seconds)")
    limit = str(params.get("limit") or MAX_LIMIT)
    if not (limit.isascii() and limit.isdigit()) or int(limit) < 1:
        raise ApiError(400, f"limit must be an integer from 1 to {MAX_LIMIT}")
    return statuses, int(since), min(int(limit), MAX_LIMIT)


def index(call: ApiCall) -> Result:
    table = _returns(call.state)
    if call.id is not None:
        ret = call.row(table, f"return {call.int_id()} not found")
        return Result(200, as_json(call.state, ret))
    statuses, since, limit = _list_params(call.params)
    rows = [r for r in sorted(table.values(), key=lambda r: -r.return_id)
            if r.timestamp >= since and (not statuses or r.status in statuses)][:limit]
    return Result(200, {"returns": [as_json(call.state, r) for r in rows],
                        "params": {"statuses": statuses, "since": since, "limit": limit}})


def refused(call: ApiCall) -> Result:
    _returns(call.state)
    raise ApiError(403)  # privilege false: returns are changed in CS-Cart (Orders → Return requests)
