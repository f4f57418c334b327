"""The cscart sink through the real dispatcher and store, against the simulator."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from bridge.config import DispatchSettings, Settings
from bridge.cscart.client import CSCartClient
from bridge.cscart.simulator import Simulator
from bridge.cscart.sink import CSCartSink
from bridge.dispatch import Dispatcher
from bridge.store import Store
from bridge.store import outbox as ob
from bridge.wiring import build


async def _run(store: Store, client: CSCartClient, ops: list[ob.NewOp]) -> dict[str, str]:
    async with store.transaction() as tx:
        await ob.enqueue(tx, ops, 0.0)
    settings = DispatchSettings(retry=dict(short_attempts=1, max_attempts=1))  # type: ignore[arg-type]
    await Dispatcher(store, {"cscart": CSCartSink(client)}, settings).drain_all()
    rows = await store.fetchall("SELECT key, state FROM outbox")
    return {row["key"]: row["state"] for row in rows}


async def test_ops_become_cscart_writes(store: Store, sim: Simulator, client: CSCartClient) -> None:
    order = next(o for o in sim.state.orders.values() if o.status == "P")
    item_id = next(iter(order.items))
    states = await _run(store, client, [
        ob.NewOp("cscart", "product.stock", "product", "p1", {"product_id": 1, "amount": 77}),
        ob.NewOp("cscart", "product.prices", "product", "p2", {"product_id": 2, "price": "1500", "tiers": [
            {"usergroup_id": 3, "lower_limit": 1, "price": 1300}]}),
        ob.NewOp("cscart", "product.update", "product", "p3", {"product_id": 3, "fields": {"status": "H"}}),
        ob.NewOp("cscart", "user.update", "user", "u1", {"user_id": 1, "fields": {"lastname": "\U00020BB7田"}}),
        ob.NewOp("cscart", "usergroup.link", "user", "u2", {"user_id": 2, "usergroup_id": 8, "status": "A"}),
        ob.NewOp("cscart", "order.status", "order", "o1", {"order_id": order.order_id, "status": "E"}),
        ob.NewOp("cscart", "shipment.create", "order", "o1", {  # same key: delivered after the status
            "order_id": order.order_id, "shipping_id": 1, "carrier": "yamato", "tracking_number": "400000000001",
            "products": {item_id: 1}, "order_status": "G"}),
    ])
    assert set(states.values()) == {"done"} and len(states) == 6, states
    s = sim.state
    assert s.products[1].amount == 77
    assert (s.products[2].price, s.products[2].tiers) == ("1500.00", [(1, 3, "1300.00", "0")])
    assert s.products[3].status == "H"
    assert (s.users[1].lastname, s.users[1].company_id) == ("吉田", 1)
    assert s.users[2].usergroups[8] == "A"
    assert order.status == "G" and len(order.shipment_ids) == 1


async def test_shipment_retry_does_not_create_a_second_one(store: Store, sim: Simulator,
                                                           client: CSCartClient) -> None:
    order = next(o for o in sim.state.orders.values() if o.status == "P")
    payload = {"order_id": order.order_id, "shipping_id": 1, "carrier": "sagawa", "tracking_number": "5000001",
               "products": {next(iter(order.items)): 1}}
    await CSCartSink(client).deliver(_op("shipment.create", payload))
    await CSCartSink(client).deliver(_op("shipment.create", payload))
    assert len(order.shipment_ids) == 1


async def test_bad_payloads_and_backorders_are_dead_letters(store: Store, sim: Simulator,
                                                            client: CSCartClient) -> None:
    product = sim.state.products[9]
    product.amount = 0
    cancelled = sim.state.place_order(user_id=1, lines=[(9, 1)], status="I")
    states = await _run(store, client, [
        ob.NewOp("cscart", "product.stock", "product", "no-amount", {"product_id": 1}),
        ob.NewOp("cscart", "product.fly", "product", "unknown-op", {"product_id": 1}),
        ob.NewOp("cscart", "order.status", "order", "backorder", {"order_id": cancelled.order_id, "status": "P"}),
        ob.NewOp("cscart", "user.update", "user", "emoji", {"user_id": 1, "fields": {"firstname": "\U0001F600"}}),
    ])
    assert states == {"no-amount": "dead", "unknown-op": "dead", "backorder": "dead", "emoji": "dead"}
    errors = {row["key"]: row["last_error"] for row in await store.fetchall("SELECT key, last_error FROM outbox")}
    assert "'amount' is required" in errors["no-amount"]
    assert "Backordered" in errors["backorder"] and cancelled.status == "B"
    assert "firstname" in errors["emoji"]


async def test_wiring_adds_client_and_sink_when_a_url_is_set(store: Store, sim: Simulator, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, cscart=dict(url=sim.url, email=sim.email,  # type: ignore[arg-type]
                                                       api_key=SecretStr(sim.api_key)))
    wiring = await build(settings, store)
    try:
        assert isinstance(wiring.sinks["cscart"], CSCartSink)
        assert (await wiring.services.require_cscart().get_product(1)).product_id == 1
    finally:
        await wiring.aclose()
    assert "cscart" not in (await build(Settings(data_dir=tmp_path), store)).sinks


def _op(name: str, payload: dict) -> ob.OutboxOp:
    import json

    return ob.OutboxOp(id=1, target="cscart", op=name, entity="x", key="k", payload_json=json.dumps(payload),
                       payload_hash="", idempotency_key="i", track_ledger=False, state="in_flight", attempts=0,
                       next_attempt_at=0.0, payload=payload)
