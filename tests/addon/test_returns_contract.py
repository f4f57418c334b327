"""GET /api/smile_bridge_returns: the simulator's rma answers as the PHP add-on's ReturnSerializer does (query
checks and the request's JSON), and the daemon parses it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bridge.cscart.addon_protocol import ReturnRequest
from bridge.cscart.sim import returns as sim_returns
from bridge.cscart.sim.api import ApiError
from bridge.cscart.simulator import SimState, install, seed_state

from .conftest import run_php_protocol


def test_list_parameters_are_checked_as_php_checks_them() -> None:
    cases: list[dict[str, Any]] = [{}, {"statuses": "A,C"}, {"statuses": "A,,C", "since": "0", "limit": "5"},
                                   {"statuses": "a"}, {"statuses": "AB"}, {"since": "-1"}, {"since": "1.5"},
                                   {"limit": "0"}, {"limit": "500"}, {"limit": "x"}, {"since": ""}, {"limit": ""}]
    php = run_php_protocol({"return_params": cases})["return_params"]
    for params, expected in zip(cases, php, strict=True):
        try:
            statuses, since, limit = sim_returns._list_params(params)
            got: Any = {"statuses": statuses, "since": since, "limit": limit}
        except ApiError as exc:
            got = {"error": "; ".join(exc.details)}
        assert got == expected, params


def test_a_return_request_is_the_same_json_from_php_and_the_simulator_and_parses() -> None:
    state = seed_state(SimState(), products=5, users=2, orders=0, seed=3)
    install(state)
    order = state.place_order(user_id=1, lines=[(1, 3), (2, 1)])
    first, second = order.items.values()
    request = sim_returns.create_return(state, order.order_id, [(first.item_id, 2, 1), (second.item_id, 1, 9)],
                                        comment="箱つぶれ")
    sim_returns.decline_item(state, request.return_id, second.item_id)
    got = sim_returns.as_json(state, request)
    case = {
        "row": {"return_id": str(request.return_id), "order_id": str(order.order_id), "user_id": str(order.user_id),
                "status": "R", "timestamp": str(request.timestamp), "action": "1", "total_amount": "3",
                "comment": "箱つぶれ"},
        "products": [{"return_id": str(request.return_id), "item_id": i.item_id, "product_id": str(i.product_id),
                      "reason": str(i.reason), "amount": str(i.amount), "type": i.type, "price": i.price,
                      "product": i.product} for i in reversed(request.items)],
        "codes": {i.item_id: order.items[i.item_id].product_code for i in request.items},
        "reasons": {str(k): v for k, v in sim_returns.REASONS.items()},
    }
    [php] = run_php_protocol({"return_json": [case]})["return_json"]
    assert got == php
    parsed = ReturnRequest.from_dict(got)
    assert [(i.product_code, i.amount, i.accepted, i.reason) for i in parsed.accepted] == [
        (first.product_code, 2, True, "Defective")]
    assert parsed.items[-1].accepted is False and parsed.items[0].price == Decimal(first.price) - Decimal(
        first.discount)


def test_without_the_rma_add_on_the_entity_says_so() -> None:
    state = seed_state(SimState(), products=2, users=1, orders=0, seed=3)
    install(state).rma = False
    with pytest.raises(ApiError, match="rma add-on"):
        sim_returns.create_return(state, 1, [])
