"""The daemon's batch sink on the simulator with the add-on: the real dispatcher, a real sqlite outbox, real HTTP."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from bridge import wiring
from bridge.config import DispatchSettings, Settings
from bridge.cscart.batch_sink import AddonBatchSink
from bridge.cscart.client import CSCartClient
from bridge.cscart.sim.faults import FaultRule
from bridge.cscart.simulator import Simulator, run_simulator, uninstall
from bridge.cscart.sink import CSCartSink
from bridge.dispatch import Dispatcher
from bridge.store import Store
from bridge.store import outbox as ob
from bridge.sync import plan


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "state.sqlite3")
    yield opened
    await opened.close()


async def enqueue(store: Store, ops: Sequence[tuple[str, str, str, Any]]) -> None:
    async with store.transaction() as tx:
        await ob.enqueue(tx, (ob.NewOp("cscart", op, entity, key, payload) for op, entity, key, payload in ops),
                         time.time())


async def states(store: Store) -> dict[str, tuple[str, str | None]]:
    rows = await store.fetchall("SELECT key, state, last_error FROM outbox ORDER BY id")
    return {str(r[0]): (str(r[1]), r[2]) for r in rows}


def batch_calls(sim: Simulator) -> int:
    return len(sim.requests.where(method="POST", entity="smile_bridge_batch"))


async def test_a_100k_sku_first_sync_takes_at_most_200_batch_calls(store: Store) -> None:
    async with run_simulator(products=100_000, users=1, orders=0, addon=True) as sim:
        desired = {p.product_code: {"product_id": pid, "amount": (pid * 7) % 500 + 1}
                   for pid, p in sim.state.products.items()}
        async with store.transaction() as tx:  # what the stock job does on its first run: the ledger is empty
            first = await plan.diff(tx, "cscart", "product_stock", "product.stock", desired)
            assert len(first.changes) == 100_000
            await plan.enqueue(tx, first, time.time())
        async with CSCartClient(sim.client_settings()) as client:
            dispatcher = Dispatcher(store, {"cscart": AddonBatchSink(client)}, DispatchSettings())  # defaults
            stats = await dispatcher.drain_all()
        assert stats.done == 100_000 and stats.dead == stats.retried == 0
        assert batch_calls(sim) <= 200
        assert sim.requests.where(method="PUT", entity="products") == []
        assert all(p.amount == (pid * 7) % 500 + 1 for pid, p in sim.state.products.items())
        async with store.transaction() as tx:  # delivered values are in the ledger: the next run sends nothing
            again = await plan.diff(tx, "cscart", "product_stock", "product.stock", desired)
        assert again.changes == [] and again.unchanged == 100_000


async def test_per_item_results_become_per_op_outcomes(store: Store) -> None:
    async with run_simulator(products=20, users=5, orders=3, addon=True) as sim:
        sim.addon.refuse_products.add(6)
        await enqueue(store, [
            ("product.stock", "product_stock", "s-ok", {"product_id": 1, "amount": 11}),
            ("product.stock", "product_stock", "s-gone", {"product_id": 999, "amount": 1}),
            ("product.stock", "product_stock", "s-refused", {"product_id": 6, "amount": 1}),
            ("product.prices", "product_prices", "p-ok", {"product_id": 2, "price": 1000, "tiers": [
                {"usergroup_id": 3, "lower_limit": 1, "price": "900.5"},
                {"usergroup_id": 0, "lower_limit": 10, "price": 5, "percentage": True}]}),
            ("customer.price", "customer_price", "c-ok", {"user_id": 2, "product_id": 3, "rows": [
                {"min_quantity": 1, "price": "650", "valid_from": "2026-04-01", "valid_to": None}]}),
            ("customer.price", "customer_price", "c-bad", {"user_id": 2, "product_id": 4, "rows": [
                {"price": 1, "valid_from": "2026-05-01", "valid_to": "2026-04-01"}]}),
            ("user.update", "user", "u-addon", {"user_id": 3, "fields": {"smile_price_rate": "70",
                                                                         "smile_credit_limit": None}}),
            ("user.update", "user", "u-core", {"user_id": 4, "fields": {"phone": "03-1111", "smile_price_rate": "80"}}),
            ("order.fields", "order", "o-ok", {"order_id": 2, "fields": {"smile_ship_to_code": "0007"}}),
            ("addon.settings", "addon", "settings", {"values": {"direct_ship_rate": "12"}}),
            ("order.status", "order", "o-status", {"order_id": 1, "status": "P"}),
        ])
        async with CSCartClient(sim.client_settings()) as client:
            sink = AddonBatchSink(client)
            await Dispatcher(store, {"cscart": sink}, DispatchSettings()).dispatch_once()
        found = await states(store)
        assert {key: state for key, (state, _) in found.items()} == {
            "s-ok": "done", "s-gone": "dead", "s-refused": "pending", "p-ok": "done", "c-ok": "done",
            "c-bad": "dead", "u-addon": "done", "u-core": "done", "o-ok": "done", "settings": "done",
            "o-status": "done"}
        assert "product 999 does not exist on this store" in str(found["s-gone"][1])
        assert "items[2]: fn_update_product refused product 6" in str(found["s-refused"][1])
        assert "rows[0]: valid_from 2026-05-01 is after valid_to 2026-04-01" in str(found["c-bad"][1])
        assert batch_calls(sim) == 2  # the order status in a call of its own
        # only the op with core columns went through REST
        assert [(r.method, r.path) for r in sim.requests if r.entity in ("users", "orders")] == [
            ("PUT", "/api/2.1/users/4")]
        state = sim.state
        assert state.products[1].amount == 11 and state.orders[1].status == "P"
        assert state.products[2].tiers == [(10, 0, "0.00", "5.00"), (1, 3, "900.50", "0")]
        assert sim.addon.customer_prices[(2, 3)][0]["price"] == "650"
        assert state.users[3].extra["smile_price_rate"] == "70.000"
        assert state.users[4].extra["smile_price_rate"] == "80.000"
        assert state.orders[2].extra["smile_ship_to_code"] == "0007"
        assert sim.addon.params["direct_ship_rate"] == "12"


async def test_order_statuses_go_through_the_batch_with_per_order_outcomes_and_retries(store: Store) -> None:
    """出荷指示 write-backs: one batch call for many orders instead of a PUT and a GET each; a refusal is a dead
    letter with the REST path's hint, a lost call is retried whole, and CS-Cart's status history (the add-on's
    events) shows each change once."""
    async with run_simulator(products=10, users=3, orders=0, addon=True) as sim:
        for n in range(1, 8):
            sim.state.place_order(user_id=1 + n % 3, lines=[(2 + n % 5, 1)], payment_id=1)
        # order 8 was cancelled (stock back); its product is out of stock now: 出荷指示 needs stock, CS-Cart sets B
        sim.state.place_order(user_id=1, lines=[(1, 1)], payment_id=1, status="I")
        sim.state.products[1].amount = 0
        letter = sim.addon.statuses["shipping_instructed"]
        writes = [(str(n), {"order_id": n, "status": letter}) for n in range(1, 9)] + [
            ("999", {"order_id": 999, "status": letter}),
            ("6", {"order_id": 6, "status": "Q"}),  # after order 6's first write, in the same call
        ]
        async with store.transaction() as tx:  # as the orders job enqueues them: never coalesced
            await ob.enqueue(tx, [ob.NewOp("cscart", "order.status", "order", key, payload, track_ledger=False,
                                           coalescing=False) for key, payload in writes], time.time())
        sim.faults.rules.append(FaultRule(kind="error", entity="smile_bridge_batch", method="POST", status=503,
                                          times=1))  # the whole call lost: retried whole, nothing applied twice
        events_before = len(sim.addon.events)

        async def no_wait(_: float) -> None:
            return None

        async with CSCartClient(sim.client_settings()) as client:
            dispatcher = Dispatcher(store, {"cscart": AddonBatchSink(client)}, DispatchSettings(), sleep=no_wait)
            await dispatcher.drain_all()
        found = await states(store)
        # the lost call, the first writes, then order 6's second write (one key's ops go one at a time)
        assert batch_calls(sim) == 3 and sim.requests.where(entity="orders", method="PUT") == []
        assert sim.requests.where(entity="orders", method="GET") == []  # no re-read: the add-on read it back
        assert all(sim.state.orders[n].status == letter for n in range(1, 8))
        assert all(found[str(n)][0] == "done" for n in range(1, 8) if n != 6)
        assert sim.state.orders[8].status == "B"
        assert found["8"][0] == "dead" and "CS-Cart set Backordered (B) instead of" in str(found["8"][1])
        assert found["999"][0] == "dead" and "order 999 does not exist" in str(found["999"][1])
        dead = dict(await store.fetchall("SELECT key, hint FROM outbox WHERE state = 'dead' AND key = '8'"))
        assert "restock" in str(dead["8"])
        rows = await store.fetchall("SELECT state, last_error FROM outbox WHERE key = '6' ORDER BY id")
        assert [r[0] for r in rows] == ["done", "dead"] and "status Q does not exist" in rows[1][1]
        changes = [e for e in sim.addon.events[events_before:] if e.type == "order.status_changed"]
        assert sorted(e.entity_id for e in changes) == list(range(1, 9))  # once each (8: to B)


async def test_an_addon_without_the_order_status_kind_gets_the_rest_put(store: Store) -> None:
    async with run_simulator(products=5, users=2, orders=2, addon=True) as sim:
        sim.addon.batch_kinds = tuple(k for k in sim.addon.batch_kinds if k != "order_status")
        await enqueue(store, [("order.status", "order", "1", {"order_id": 1, "status": "P"}),
                              ("product.stock", "product_stock", "s", {"product_id": 1, "amount": 3})])
        async with CSCartClient(sim.client_settings()) as client:
            await Dispatcher(store, {"cscart": AddonBatchSink(client)}, DispatchSettings()).dispatch_once()
        assert {k: v[0] for k, v in (await states(store)).items()} == {"1": "done", "s": "done"}
        assert sim.state.orders[1].status == "P" and batch_calls(sim) == 1
        assert [r.method for r in sim.requests.where(entity="orders")] == ["PUT", "GET"]


async def test_without_the_addon_every_op_goes_through_rest_in_key_order(store: Store) -> None:
    async with run_simulator(products=10, users=3, orders=3) as sim:
        await enqueue(store, [
            ("product.stock", "product_stock", "a", {"product_id": 1, "amount": 5}),
            ("product.prices", "product_prices", "b", {"product_id": 2, "price": 700, "tiers": []}),
            ("customer.price", "customer_price", "c", {"user_id": 1, "product_id": 1, "rows": []}),
            ("order.status", "order", "o1", {"order_id": 1, "status": "Q"}),  # no such letter: permanent
            ("shipment.create", "order", "o1", {"order_id": 1, "shipping_id": 1, "carrier": "yamato",
                                                 "tracking_number": "1234"}),  # waits behind it
        ])
        async with CSCartClient(sim.client_settings()) as client:
            await Dispatcher(store, {"cscart": AddonBatchSink(client)}, DispatchSettings()).dispatch_once()
        rows = await store.fetchall("SELECT key, state, last_error FROM outbox ORDER BY id")
        assert [(r[0], r[1]) for r in rows] == [("a", "done"), ("b", "done"), ("c", "dead"), ("o1", "dead"),
                                                ("o1", "pending")]
        assert "needs the smile_bridge add-on" in rows[2][2] and "status 'Q' does not exist" in rows[3][2]
        assert batch_calls(sim) == 0 and sim.state.products[1].amount == 5 and sim.state.shipments == {}


async def test_an_uninstall_between_rounds_falls_back_to_rest(store: Store) -> None:
    async with run_simulator(products=10, users=3, orders=0, addon=True) as sim:
        async with CSCartClient(sim.client_settings()) as client:
            assert await client.addon_installed()
            uninstall(sim.state)
            await enqueue(store, [("product.stock", "product_stock", "a", {"product_id": 3, "amount": 9})])
            await Dispatcher(store, {"cscart": AddonBatchSink(client)}, DispatchSettings()).dispatch_once()
        assert (await states(store))["a"][0] == "done" and sim.state.products[3].amount == 9
        assert [r.status for r in sim.requests.where(entity="smile_bridge_batch")] == [404]


@pytest.mark.parametrize("installed", [True, False])
async def test_the_daemon_wires_the_batch_sink_only_when_the_addon_answers(
        tmp_path: Path, store: Store, installed: bool) -> None:
    async with run_simulator(products=3, users=1, orders=0, addon=installed) as sim:
        settings = Settings(data_dir=tmp_path / "data", rules_dir=Path(__file__).resolve().parents[2] / "rules",
                            cscart={**sim.client_settings().model_dump(), "api_key": sim.api_key})
        wired = await wiring.build(settings, store)
        try:
            sink = wired.sinks["cscart"]
            assert isinstance(sink, AddonBatchSink) is installed and isinstance(sink, CSCartSink)
        finally:
            await wired.aclose()
