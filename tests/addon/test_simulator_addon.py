"""The simulator's smile_bridge add-on against the PHP add-on's contract: the same inputs through the real PHP
classes (``php tests/addon/protocol_cli.php``) and through the simulator give the same answers."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bridge.cscart import addon_protocol as proto
from bridge.cscart.addon_client import AddonClient
from bridge.cscart.addon_protocol import BatchResponse, EventPage, ResultCode
from bridge.cscart.client import CSCartClient, NotFoundError, basic_auth
from bridge.cscart.sim import addon_batch
from bridge.cscart.sim.seed import CORE_STATUSES
from bridge.cscart.sim.state import SimStatus
from bridge.cscart.simulator import (
    SimState,
    Simulator,
    install,
    run_simulator,
    seed_state,
    uninstall,
)

from .conftest import WakeUpHook, run_php_protocol


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with run_simulator(products=30, users=8, orders=5, addon=True) as simulator:
        yield simulator


async def call(sim: Simulator, method: str, path: str, body: Any = None, **params: Any) -> tuple[int, Any]:
    headers = {"Authorization": basic_auth(sim.email, sim.api_key)}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.request(method, f"{sim.url}/api/{path}", params=params or None,
                                   json=body if body is not None else None) as response:
            text = await response.text()
            return response.status, json.loads(text) if text else None


async def place(sim: Simulator, **extra: Any) -> int:
    body = {"user_id": 2, "lines": [{"product_id": 3, "amount": 2}], **extra}
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{sim.url}/_sim/orders", json=body) as response:
            assert response.status == 201, await response.text()
            return int((await response.json())["order_id"])


# ---- detection -----------------------------------------------------------------------------------------------


async def test_the_client_detects_the_addon_and_its_absence() -> None:
    async with run_simulator(products=5, users=2, orders=0) as plain:
        status, body = await call(plain, "GET", "smile_bridge_events", limit=1)
        assert status == 404 and body["message"] == "Not Found: The Entity smile_bridge_events not found"
        async with CSCartClient(plain.client_settings()) as client:
            assert await client.addon_installed() is False
            install(plain.state)
            assert await client.addon_installed() is False  # cached, like the statuses
            assert await client.addon_installed(refresh=True) is True
            uninstall(plain.state)
            with pytest.raises(NotFoundError):
                await AddonClient(client).events(None)
            assert await client.addon_installed() is False  # the 404 told the client at once


# ---- statuses ----------------------------------------------------------------------------------------------------


async def test_statuses_are_in_get_statuses_and_in_the_feed(sim: Simulator) -> None:
    status, listing = await call(sim, "GET", "statuses", type="O", items_per_page=100)
    by_letter = {row["status"]: row for row in listing["statuses"]}
    status, feed = await call(sim, "GET", "smile_bridge_events", limit=1)
    letters = EventPage.from_dict(feed).statuses
    # the seed already has 保留/出荷指示/出荷済/出荷通知済 (a store where the add-on was installed): adopted
    assert letters == {"hold": "A", "shipping_instructed": "E", "shipped": "G", "notified": "H"}
    assert {key: by_letter[letter]["description"] for key, letter in letters.items()} == {
        "hold": "保留", "shipping_instructed": "出荷指示", "shipped": "出荷済", "notified": "出荷通知済"}


@pytest.mark.parametrize("taken", ["", "H", "HJSW", "ABCEGHJKLMPQRSUW", "ABCDEFGHIJKLMOPQRSUVWXZ"])
def test_install_picks_the_letters_the_php_picker_picks(taken: str) -> None:
    state = SimState()
    core = [(letter, name, inventory) for letter, name, inventory in CORE_STATUSES]
    letters_in_use = [c[0] for c in core] + [ch for ch in taken if ch not in {c[0] for c in core}]
    for index, letter in enumerate(letters_in_use, start=1):
        state.statuses[letter] = SimStatus(index, letter, f"status {letter}", "D")
    keys = ["hold", "shipping_instructed", "shipped", "notified"]
    preferred = {"hold": "H", "shipping_instructed": "J", "shipped": "S", "notified": "W"}
    php = run_php_protocol({"letters": [{"taken": letters_in_use, "keys": keys, "preferred": preferred}]})["letters"][0]
    if isinstance(php, str):  # PHP refuses: no letters left
        assert "no free order status letter" in php
        with pytest.raises(Exception, match="no free order status letter"):
            install(state)
        return
    addon = install(state)
    assert addon.statuses == php
    for letter in php.values():
        assert state.statuses[letter].inventory == "D" and letter not in "NT"
    assert state.statuses[php["notified"]].params["notify"] == "Y"
    assert state.statuses[php["shipped"]].params["notify"] == "N"


# ---- events ------------------------------------------------------------------------------------------------------


async def test_hooks_write_events_the_feed_pages_them_and_python_parses_them(sim: Simulator) -> None:
    order_id = await place(sim)
    status, _ = await call(sim, "PUT", f"orders/{order_id}", {"status": "P"})
    status, _ = await call(sim, "PUT", "users/3", {"firstname": "花子", "company_id": 1})
    status, _ = await call(sim, "DELETE", "orders/1")
    status, raw = await call(sim, "GET", "smile_bridge_events", after_id=0, limit=3)
    first = EventPage.from_dict(raw)
    assert [(e.type.value, e.entity_id) for e in first.events] == [
        ("order.status_changed", order_id), ("order.placed", order_id), ("order.updated", order_id)]
    assert first.events[0].data == {"status_from": "N", "status_to": "O"}
    assert first.events[1].data["user_id"] == 2 and first.has_more and first.next_after_id == 3
    status, raw = await call(sim, "GET", "smile_bridge_events", after_id=first.next_after_id, limit=1000)
    rest = EventPage.from_dict(raw)
    assert [(e.type.value, e.entity_id) for e in rest.events] == [
        ("order.status_changed", order_id), ("user.updated", 3), ("order.deleted", 1)]
    assert rest.events[1].data == {"action": "update", "user_type": "C"} and rest.events[2].data == {}
    assert not rest.has_more and rest.after_id == 3
    status, one = await call(sim, "GET", "smile_bridge_events/2")
    assert status == 200 and proto.Event.from_dict(one).id == 2
    status, missing = await call(sim, "GET", "smile_bridge_events/99")
    assert status == 404 and "event 99 not found (purged or never written)" in missing["message"]
    for method in ("POST", "DELETE"):
        status, _ = await call(sim, method, "smile_bridge_events" if method == "POST" else "smile_bridge_events/1", {})
        assert status == 403


async def test_feed_parameters_are_checked_as_the_php_entity_checks_them(sim: Simulator) -> None:
    cases = [{}, {"after_id": "2"}, {"after_id": ""}, {"after_id": "-1"}, {"after_id": "x"}, {"limit": "0"},
             {"limit": "5"}, {"limit": "50000"}, {"limit": "1.5"}, {"after_id": "3", "limit": "1"}]
    php = run_php_protocol({"feed_params": [{"params": c, "acknowledged": 2} for c in cases]})["feed_params"]
    sim.addon.params["events.acknowledged_id"] = "2"
    for case, expected in zip(cases, php, strict=True):
        status, body = await call(sim, "GET", "smile_bridge_events", **case)
        if isinstance(expected, str):
            assert status == 400 and body["message"] == f"Bad Request: {expected}", case
        else:
            assert status == 200, case
            assert (body["params"]["after_id"], body["params"]["limit"]) == (expected["after_id"], expected["limit"])


async def test_acknowledgement_never_moves_back_is_capped_and_purges_by_age(sim: Simulator) -> None:
    for _ in range(3):
        await place(sim)
    newest = sim.addon.next_event_id - 1
    status, body = await call(sim, "PUT", "smile_bridge_events/4", {"event_id": 1})
    assert body == {"acknowledged_id": 4, "purged": 0}
    status, body = await call(sim, "PUT", "smile_bridge_events/2", {"event_id": 1})
    assert body["acknowledged_id"] == 4  # never back
    status, body = await call(sim, "PUT", "smile_bridge_events/9999", {"event_id": 1})
    assert body["acknowledged_id"] == newest  # capped at the newest event
    status, feed = await call(sim, "GET", "smile_bridge_events")
    assert feed["params"]["after_id"] == newest and feed["events"] == []  # default start: the acknowledged id
    status, body = await call(sim, "PUT", "smile_bridge_events/x1", {"event_id": 1})
    assert status == 400 and "must be a non-negative integer" in body["message"]
    for event in sim.addon.events[:5]:
        event.created_at -= 15 * 86400  # older than the 14-day retention
    status, body = await call(sim, "PUT", f"smile_bridge_events/{newest}", {"event_id": 1})
    assert body["purged"] == 5 and len(sim.addon.events) == newest - 5


# ---- the wake-up push --------------------------------------------------------------------------------------------


async def test_a_request_that_writes_events_sends_one_signed_wake_up(wake_up_hook: WakeUpHook) -> None:
    hook = wake_up_hook.hook
    async with run_simulator(products=5, users=3, orders=0, addon=True, daemon_url=wake_up_hook.url,
                             hmac_secret="s3cret") as sim:
        await place(sim)  # three events in one request
        await sim.addon.settle()
        assert sim.addon.wake_ups == [202] and hook.accepted == 1 and wake_up_hook.woken == [1]
        sim.addon.hmac_secret = "wrong"
        await call(sim, "PUT", "users/1", {"company_id": 1, "phone": "03"})
        await sim.addon.settle()
        assert sim.addon.wake_ups == [202, 401] and hook.refused == 1
        sim.addon.daemon_url = "http://127.0.0.1:9"  # nothing listens: the shop does not notice
        assert (await call(sim, "PUT", "users/1", {"company_id": 1, "phone": "04"}))[0] == 200
        await sim.addon.settle()
        assert isinstance(sim.addon.wake_ups[-1], str)


async def test_no_wake_up_is_sent_while_the_daemon_asked_for_a_pause(wake_up_hook: WakeUpHook) -> None:
    """As the PHP add-on: after the daemon's 429 (more wake-ups a minute than it takes) none is sent until its
    Retry-After has passed; the events still wait in the feed (the daemon reads them when it runs)."""
    hook = wake_up_hook.hook
    hook._max_per_minute = 1
    async with run_simulator(products=5, users=3, orders=0, addon=True, daemon_url=wake_up_hook.url,
                             hmac_secret="s3cret") as sim:
        for _ in range(4):
            await place(sim)
            await sim.addon.settle()
        assert sim.addon.wake_ups == [202, 429] and (hook.accepted, hook.refused) == (1, 1)
        paused_until = int(sim.addon.params["wake_up.paused_until"])
        assert sim.state.now() + 1 <= paused_until <= sim.state.now() + 61
        assert len(sim.addon.events) == 12  # every order's events are in the feed all the same
        sim.addon.params["wake_up.paused_until"] = str(sim.state.now() - 1)  # the pause is over
        await place(sim)
        await sim.addon.settle()
        assert sim.addon.wake_ups == [202, 429, 429]  # sent again (and refused: the daemon's minute is not over)


# ---- fields ------------------------------------------------------------------------------------------------------


async def test_fields_are_readable_in_lists_and_writable(sim: Simulator) -> None:
    status, users = await call(sim, "GET", "users", user_type="C", items_per_page=2)
    assert users["users"][0]["smile_price_rate"] is None and users["users"][0]["smile_price_rounding"] == "down"
    status, _ = await call(sim, "PUT", "users/2", {"company_id": 1, "smile_customer_code": "000123",
                                                   "smile_price_rate": "70"})
    status, found = await call(sim, "GET", "users", user_type="C", smile_customer_code="000123")
    assert [u["user_id"] for u in found["users"]] == ["2"] and found["users"][0]["smile_price_rate"] == "70.000"
    status, product = await call(sim, "GET", "products/4")
    assert product["smile_direct_ship_allowed"] == "N"
    await call(sim, "PUT", "products/4", {"smile_direct_ship_allowed": "Y"})
    status, listing = await call(sim, "GET", "products", pid="4", items_per_page=5)
    assert listing["products"][0]["smile_direct_ship_allowed"] == "Y"
    order_id = await place(sim, direct_ship={"recipient": "山田商店 様"})
    status, orders = await call(sim, "GET", "orders", smile_direct_ship="Y", items_per_page=10)
    assert [o["order_id"] for o in orders["orders"]] == [str(order_id)]
    row = orders["orders"][0]
    assert row["smile_direct_ship_recipient"] == "山田商店 様"
    subtotal = sim.state.orders[order_id].subtotal
    assert row["smile_direct_ship_surcharge"] == f"{subtotal // 10:.2f}"  # 10 %, rounded down to 1 yen
    status, detail = await call(sim, "GET", f"orders/{order_id}")
    assert detail["smile_ship_to_code"] == "" and detail["smile_direct_ship"] == "Y"


# ---- batch -------------------------------------------------------------------------------------------------------

BATCH_CASES: list[Any] = [
    {"kind": "stock", "id": "a", "product_id": 1, "amount": 3},
    {"kind": "stock", "id": 7, "product_id": "2", "amount": "-5"},
    {"kind": "stock", "product_id": 1, "amount": 8388608},
    {"kind": "stock", "product_id": 1, "amount": 1.5},
    {"kind": "stock", "product_id": 0, "amount": 1},
    {"kind": "stock", "product_id": 1},
    {"kind": "stock", "id": True, "product_id": 1, "amount": 1},
    {"kind": "stock", "id": "x" * 65, "product_id": 1, "amount": 1},
    {"kind": "prices", "product_id": 3, "price": 1200,
     "prices": [{"lower_limit": 1, "usergroup_id": 0, "price": 1200},
                {"lower_limit": 10, "usergroup_id": 0, "price": "1100.50"},
                {"lower_limit": 1, "usergroup_id": 3, "price": 5, "type": "P"}]},
    {"kind": "prices", "product_id": 3, "prices": [{"lower_limit": 10, "usergroup_id": 0, "price": 1}]},
    {"kind": "prices", "product_id": 3, "prices": []},
    {"kind": "prices", "product_id": 3, "price": 10, "prices": [{"lower_limit": 1, "usergroup_id": 0, "price": 11}]},
    {"kind": "prices", "product_id": 3, "prices": [{"lower_limit": 1, "usergroup_id": 0, "price": "1.005"}]},
    {"kind": "prices", "product_id": 3, "prices": [{"lower_limit": 1, "usergroup_id": 0, "price": 1},
                                                   {"lower_limit": 5, "usergroup_id": 0, "price": 101, "type": "P"}]},
    {"kind": "prices", "product_id": 3, "prices": [{"lower_limit": 1, "usergroup_id": 0, "price": 1},
                                                   {"lower_limit": 5, "usergroup_id": 0, "price": 1, "type": "X"}]},
    {"kind": "prices", "product_id": 3, "prices": [{"lower_limit": 1, "usergroup_id": 0, "price": 1},
                                                   {"lower_limit": 1, "usergroup_id": 0, "price": 2}]},
    {"kind": "prices", "product_id": 3, "prices": [{"lower_limit": 1, "usergroup_id": 0, "price": "1e3"}]},
    {"kind": "prices", "product_id": 3, "prices": [{"lower_limit": 1, "usergroup_id": 0, "price": -1}]},
    {"kind": "prices", "product_id": 3, "prices": ["x"]},
    {"kind": "customer_price", "id": 3, "user_id": 4, "product_id": 1, "rows": [{"price": "650"}]},
    {"kind": "customer_price", "user_id": 4, "product_id": 1,
     "rows": [{"min_quantity": 10, "price": 600, "valid_from": "2026-04-01", "valid_to": "2026-03-01"}]},
    {"kind": "customer_price", "user_id": 4, "product_id": 1,
     "rows": [{"price": 1, "valid_from": "2026-02-30"}]},
    {"kind": "customer_price", "user_id": 4, "product_id": 1,
     "rows": [{"price": 1}, {"min_quantity": "1", "price": 2}]},
    {"kind": "customer_price", "user_id": 4, "product_id": 1, "rows": []},
    {"kind": "customer_price", "user_id": 4, "product_id": 1, "rows": "none"},
    {"kind": "user_fields", "user_id": 4, "fields": {"smile_price_rate": "70", "smile_credit_limit": None,
                                                     "smile_customer_code": "000123",
                                                     "smile_price_unit": "0.010", "smile_credit_exposure": 12.5}},
    {"kind": "user_fields", "user_id": 4, "fields": {"smile_price_rate": "1000"}},
    {"kind": "user_fields", "user_id": 4, "fields": {"smile_price_rounding": "nearest"}},
    {"kind": "user_fields", "user_id": 4, "fields": {"smile_price_rate_base": "cost"}},
    {"kind": "user_fields", "user_id": 4, "fields": {"firstname": "x"}},
    {"kind": "user_fields", "user_id": 4, "fields": {}},
    {"kind": "user_fields", "user_id": 4, "fields": {"smile_customer_code": "x" * 33}},
    {"kind": "user_fields", "user_id": 4, "fields": {"smile_credit_limit": "-1"}},
    {"kind": "user_fields", "user_id": 4, "fields": {"smile_price_unit": "0"}},
    {"kind": "product_fields", "product_id": 2, "fields": {"smile_direct_ship_allowed": True}},
    {"kind": "product_fields", "product_id": 2, "fields": {"smile_direct_ship_allowed": "yes"}},
    {"kind": "order_fields", "order_id": 2, "fields": {"smile_ship_to_code": "0001", "smile_direct_ship": "Y",
                                                       "smile_direct_ship_recipient": "𠮷田商店"}},
    {"kind": "order_fields", "order_id": 2, "fields": {"smile_direct_ship_recipient": " 髙橋商店 "}},
    {"kind": "settings", "values": {"direct_ship_rate": "12.5", "direct_ship_rounding": "half_up",
                                    "direct_ship_unit": 10}},
    {"kind": "settings", "values": {"direct_ship_rate": "-1"}},
    {"kind": "settings", "values": {}},
    {"kind": "nope"},
    {"kind": None},
    "not an object",
    [1, 2],
    # the customer mails' settings (carriers with their tracking URLs, status letter → mail kind)
    {"id": "m1", "kind": "settings", "values": {"mail_carriers": {"yamato": {"name": "ヤマト運輸",
                                                                             "url": "https://t.example/a?id={no}"}}}},
    {"id": "m2", "kind": "settings", "values": {"mail_statuses": '{"I":"cancelled","J":""}'}},
    {"id": "m3", "kind": "settings", "values": {"mail_statuses": "not json"}},
    {"id": "m4", "kind": "settings", "values": {"mail_carriers": 5}},
    {"id": "m5", "kind": "settings", "values": {"mail_statuses": {}}},
    # order statuses (what the status-only PUT does)
    {"id": 7, "kind": "order_status", "order_id": 2, "status": "P", "notify_user": True},
    {"kind": "order_status", "order_id": "3", "status": "E", "notify_department": False, "notify_vendor": True},
    {"kind": "order_status", "order_id": 2, "status": "p"},
    {"kind": "order_status", "order_id": 2, "status": "PP"},
    {"kind": "order_status", "order_id": 2, "status": 5},
    {"kind": "order_status", "order_id": 2, "status": "P\n"},
    {"kind": "order_status", "order_id": 2, "status": "P", "notify_user": "Y"},
    {"kind": "order_status", "order_id": 2, "status": "P", "notify_user": None},
    {"kind": "order_status", "status": "P"},
    {"kind": "order_status", "order_id": 0, "status": "P"},
]


ORDER_STATUS_CASE = {"kind": "order_status", "order_id": 2, "status": "P", "notify_user": False}


def _random_cases(count: int) -> list[Any]:
    """Valid items with one field replaced by an odd value: the edges where two implementations drift."""
    rng = random.Random(8)
    odd = [None, "", "1", "-1", "0", "1.5", "1.0000001", "12345678901234567890", 0, -1, 2.25, True, [], {}, "Y", "N",
           "２", " 7 ", "7\n"]
    cases = []
    for _ in range(count):
        base = json.loads(json.dumps(rng.choice([c for c in BATCH_CASES[:2] + BATCH_CASES[8:9] + BATCH_CASES[19:20]
                                                 + BATCH_CASES[25:26] + BATCH_CASES[37:38]
                                                 + [ORDER_STATUS_CASE]])))
        key = rng.choice(sorted(base))
        if isinstance(base[key], dict):
            inner = rng.choice(sorted(base[key]))
            base[key][inner] = rng.choice(odd)
        elif isinstance(base[key], list) and base[key] and isinstance(base[key][0], dict):
            inner = rng.choice(sorted(base[key][0]))
            base[key][0][inner] = rng.choice(odd)
        elif key != "kind":
            base[key] = rng.choice(odd)
        cases.append(base)
    return cases


def test_the_simulators_batch_validation_is_the_php_validators() -> None:
    cases = BATCH_CASES + _random_cases(300)
    php = run_php_protocol({"batch_items": cases})["batch_items"]
    for index, (case, expected) in enumerate(zip(cases, php, strict=True)):
        try:
            normal = addon_batch.item(index, case)
            got = {"code": "ok", "id": normal["id"], "item": normal}
        except addon_batch.InvalidBatchItem as exc:
            got = {"code": "invalid", "id": addon_batch.client_id(case), "message": str(exc)}
        assert json.loads(json.dumps(got)) == expected, (index, case)


async def test_whole_batch_refusals_match_php_and_apply_nothing(sim: Simulator) -> None:
    bodies = [{}, {"items": []}, {"items": {}}, {"items": "x"}, {"items": [{"kind": "stock", "product_id": 1,
                                                                            "amount": 1}] * 501},
              {"items": [{"kind": "stock", "product_id": 1, "amount": 77}] * 500}]
    php = run_php_protocol({"batch_bodies": bodies})["batch_bodies"]
    assert php[-1] == 500
    for body, expected in zip(bodies[1:-1], php[1:-1], strict=True):
        status, answer = await call(sim, "POST", "smile_bridge_batch", body)
        assert status == 400 and answer["message"] == f"Bad Request: {expected}"
    # an empty body never reaches the entity: CS-Cart's API core answers 405 first
    status, answer = await call(sim, "POST", "smile_bridge_batch", {})
    assert status == 405 and answer["message"] == "Method Not Allowed: Missing parameters"
    assert sim.state.products[1].amount != 77
    status, answer = await call(sim, "POST", "smile_bridge_batch", bodies[-1])
    assert status == 200 and answer["counts"]["ok"] == 500 and sim.state.products[1].amount == 77
    assert (await call(sim, "GET", "smile_bridge_batch"))[0] == 405


async def test_batch_applies_each_item_with_per_item_results(sim: Simulator) -> None:
    sim.addon.refuse_products.add(5)
    before = sim.state.products[3].updated_timestamp
    items = [
        {"kind": "stock", "id": "s1", "product_id": 1, "amount": 42},
        {"kind": "stock", "id": "s2", "product_id": 999, "amount": 1},
        {"kind": "stock", "id": "s3", "product_id": 5, "amount": 1},
        BATCH_CASES[8], BATCH_CASES[9], BATCH_CASES[19], BATCH_CASES[25], BATCH_CASES[34],
        {"kind": "order_fields", "order_id": 2, "fields": {"smile_ship_to_code": "0001"}},
        {"kind": "customer_price", "user_id": 77, "product_id": 1, "rows": []},
        BATCH_CASES[38],
    ]
    events_before = len(sim.addon.events)
    status, raw = await call(sim, "POST", "smile_bridge_batch", {"items": items})
    response = BatchResponse.from_dict(raw, sent=len(items))
    assert [r.code for r in response.results] == [
        ResultCode.OK, ResultCode.NOT_FOUND, ResultCode.FAILED, ResultCode.OK, ResultCode.INVALID, ResultCode.OK,
        ResultCode.OK, ResultCode.OK, ResultCode.OK, ResultCode.NOT_FOUND, ResultCode.OK]
    assert response.results[1].message == "product 999 does not exist on this store"
    assert response.results[2].message == "items[2]: fn_update_product refused product 5 (see the store log)"
    assert response.results[9].message == "user 77 does not exist on this store"
    assert response.counts == {"ok": 7, "invalid": 1, "not_found": 2, "failed": 1}
    state = sim.state
    assert state.products[1].amount == 42
    product = state.products[3]
    assert product.price == "1200.00" and product.updated_timestamp >= before
    assert product.tiers == [(10, 0, "1100.50", "0"), (1, 3, "0.00", "5.00")]
    assert sim.addon.customer_prices[(4, 1)] == [{"min_quantity": 1, "price": "650", "valid_from": "",
                                                  "valid_to": ""}]
    assert state.users[4].extra["smile_price_rate"] == "70.000" and state.users[4].extra["smile_credit_limit"] is None
    assert state.users[4].extra["smile_credit_exposure"] == "12.50"
    assert state.products[2].extra == {"smile_direct_ship_allowed": "Y"}
    assert state.orders[2].extra["smile_ship_to_code"] == "0001"
    assert sim.addon.params["direct_ship_rate"] == "12.5"
    assert len(sim.addon.events) == events_before  # plain UPDATEs: no hooks, no events


async def test_uninstall_keeps_statuses_orders_use_and_orders_readable() -> None:
    state = seed_state(SimState(), products=5, users=3, orders=0)
    for letter in ("A", "E", "G", "H"):
        del state.statuses[letter]  # a store the add-on installs into for the first time
    addon = install(state)
    assert addon.statuses == {"hold": "H", "shipping_instructed": "J", "shipped": "S", "notified": "W"}
    async with run_simulator(state=state) as sim:
        order_id = await place(sim)
        status, _ = await call(sim, "PUT", f"orders/{order_id}", {"status": "S"})
        uninstall(state)
        status, detail = await call(sim, "GET", f"orders/{order_id}")
        assert status == 200 and detail["status"] == "S" and "smile_direct_ship" not in detail
        status, listing = await call(sim, "GET", "statuses", items_per_page=100)
        letters = {row["status"]: row["description"] for row in listing["statuses"]}
        assert letters["S"] == "出荷済" and not {"H", "J", "W"} & set(letters)
        assert (await call(sim, "GET", "smile_bridge_events"))[0] == 404
        status, user = await call(sim, "GET", "users/1")
        assert not any(key.startswith("smile_") for key in user)


def test_bridge_simulator_addon_serves_the_addon() -> None:
    import re
    import subprocess
    import sys
    import urllib.request

    process = subprocess.Popen([sys.executable, "-m", "bridge", "simulator", "--port", "0", "--products", "5",
                                "--users", "1", "--orders", "0", "--addon"], stdout=subprocess.PIPE, text=True,
                               env={"COLUMNS": "300", **__import__("os").environ})
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"(http://\S+?)/api/2\.1/", line)
        assert match and "add-on installed" in line, line
        request = urllib.request.Request(f"{match.group(1)}/api/smile_bridge_events?limit=1",
                                         headers={"Authorization": basic_auth("admin@example.jp", "sim-api-key")})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert EventPage.from_dict(json.loads(response.read())).statuses["hold"] == "A"
    finally:
        process.terminate()
        process.wait(timeout=10)
