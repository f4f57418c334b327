"""Every add-on endpoint on a real store, and the signed wake-up push from the store to a daemon: the events feed
(hooks fired by REST writes, one event, the acknowledgement), each batch kind with the store's data read back."""

from __future__ import annotations

import asyncio
import json
import os
import time
from decimal import Decimal

from aiohttp import web

from bridge.cscart import addon_protocol as proto
from bridge.cscart.addon_client import AddonClient
from bridge.cscart.addon_installer import StoreConsole
from tests.cscart.backends import LiveBackend
from tests.live.conftest import LiveStore


async def feed_after(live: LiveBackend, after: int) -> list[dict]:
    _, page = await live.raw("GET", "smile_bridge_events", params={"after_id": after, "limit": 1000})
    return page["events"]


async def newest_event(live: LiveBackend) -> int:
    _, page = await live.raw("GET", "smile_bridge_events", params={"after_id": 0, "limit": 1})
    after = int(page["params"]["acknowledged_id"])
    while True:
        _, page = await live.raw("GET", "smile_bridge_events", params={"after_id": after, "limit": 1000})
        if not page["events"]:
            return after
        after = page["params"]["next_after_id"]


async def test_the_feed_carries_the_hooks_events_and_the_add_ons_letters(live_store: LiveStore,
                                                                         live: LiveBackend) -> None:
    start = await newest_event(live)
    user_id = await live.create_user()
    product_id = await live.create_product(amount=5)
    order_id = await live.place_order(product_id, 1)
    events = await feed_after(live, start)
    mine = [(e["type"], e["entity_id"]) for e in events if e["entity_id"] in (user_id, order_id)]
    assert ("user.updated", user_id) in mine
    assert [t for t, entity in mine if entity == order_id and t != "user.updated"][:3] == [
        "order.status_changed", "order.placed", "order.updated"]
    assert sum(1 for t, entity in mine if (t, entity) == ("user.updated", user_id)) == 1  # one per created user
    _, page = await live.raw("GET", "smile_bridge_events", params={"after_id": start, "limit": 1})
    parsed = proto.EventPage.from_dict(page)
    assert set(parsed.statuses) == {"hold", "shipping_instructed", "shipped", "notified"}
    if live_store.root is not None:
        report = StoreConsole(live_store.root, web_user=live_store.web_user).report()
        assert dict(parsed.statuses) == {key: report.params[f"status.{key}"] for key in parsed.statuses}
    status, one = await live.raw("GET", f"smile_bridge_events/{events[0]['id']}")
    assert status == 200 and one["id"] == events[0]["id"]
    status, _ = await live.raw("GET", "smile_bridge_events/999999999")
    assert status == 404
    newest = events[-1]["id"]
    assert await AddonClient(live.client).acknowledge(newest) == newest
    for method in ("POST", "DELETE"):
        status, body = await live.raw(method, "smile_bridge_events" + ("/1" if method == "DELETE" else ""),
                                      json_body={"x": 1} if method == "POST" else None)
        assert status == 403, body


async def test_every_batch_kind_is_applied_and_read_back(live: LiveBackend) -> None:
    product_id = await live.create_product(amount=5, price=1000)
    user_id = await live.create_user()
    order_id = await live.place_order(product_id, 1)
    addon = AddonClient(live.client)
    answer = await addon.batch([
        {"kind": "stock", "id": "s", "product_id": product_id, "amount": 37},
        {"kind": "prices", "id": "p", "product_id": product_id, "price": "1200",
         "prices": [{"lower_limit": 1, "usergroup_id": 0, "price": "1200"},
                    {"lower_limit": 10, "usergroup_id": 0, "price": "1100"}]},
        {"kind": "customer_price", "user_id": user_id, "product_id": product_id,
         "rows": [{"min_quantity": 1, "price": "900", "valid_from": None, "valid_to": None}]},
        {"kind": "user_fields", "user_id": user_id, "fields": {"smile_customer_code": "LIVE01",
                                                                "smile_price_rate": "70"}},
        {"kind": "product_fields", "product_id": product_id, "fields": {"smile_direct_ship_allowed": "Y"}},
        {"kind": "order_fields", "order_id": order_id, "fields": {"smile_ship_to_code": "0007"}},
        {"kind": "stock", "id": "missing", "product_id": 999999999, "amount": 1},
        {"kind": "stock", "id": "bad", "product_id": product_id, "amount": "lots"},
    ])
    assert [r.code for r in answer.results] == ["ok"] * 6 + ["not_found", "invalid"], answer.results
    _, product = await live.raw("GET", f"products/{product_id}")
    assert int(product["amount"]) == 37 and Decimal(product["price"]) == Decimal(1200)
    assert [(int(row["lower_limit"]), Decimal(row["price"])) for row in product["prices"]] == [
        (1, Decimal(1200)), (10, Decimal(1100))]
    assert product["smile_direct_ship_allowed"] == "Y"
    user = await live.client.get_user(user_id)
    assert user.smile_customer_code == "LIVE01"
    _, users = await live.raw("GET", "users", params={"user_type": "C", "smile_customer_code": "LIVE01"})
    assert [int(row["user_id"]) for row in users["users"]] == [user_id]
    _, orders = await live.raw("GET", "orders", params={"order_id": order_id, "items_per_page": 1})
    assert orders["orders"][0]["smile_ship_to_code"] == "0007"
    status, body = await live.raw("POST", "smile_bridge_batch", json_body={"items": []})
    assert status == 400 and "items" in body["message"]


async def test_the_store_wakes_the_daemon_with_a_signed_push(live_store: LiveStore, live: LiveBackend) -> None:
    root = live_store.require_root()
    received: list[tuple[int, proto.WakeUp]] = []
    secret = f"live-{os.getpid()}"

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        stamp = proto.verify(secret, request.headers.get(proto.SIGNATURE_HEADER), body, int(time.time()))
        received.append((stamp, proto.WakeUp.from_body(body)))
        return web.Response(status=202)

    app = web.Application()
    app.router.add_post(proto.WAKE_UP_PATH, hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    console = StoreConsole(root, web_user=live_store.web_user)

    def settings(url: str, key: str) -> None:
        code = ("define('AREA', 'A'); define('ACCOUNT_TYPE', 'admin'); require getcwd() . '/init.php';"
                "\\Tygh\\Settings::instance()->updateValue('daemon_url', $argv[1], 'smile_bridge');"
                "\\Tygh\\Settings::instance()->updateValue('hmac_secret', $argv[2], 'smile_bridge'); echo 'set';")
        _, output = console.run(["php", "-r", code, "--", url, key])
        assert output.endswith("set"), output

    try:
        await asyncio.to_thread(settings, f"http://127.0.0.1:{port}", secret)
        product_id = await live.create_product(amount=5)
        order_id = await live.place_order(product_id, 1)
        for _ in range(50):
            if received:
                break
            await asyncio.sleep(0.1)
        assert received, "no wake-up within 5 s of the order"
        stamp, wake = received[-1]
        assert abs(stamp - time.time()) < 60 and wake.last_event_id > 0
        events = await feed_after(live, wake.last_event_id - 20)
        assert order_id in {e["entity_id"] for e in events if e["id"] <= wake.last_event_id}
    finally:
        await asyncio.to_thread(settings, "", "")
        await runner.cleanup()
    json.dumps([w.last_event_id for _, w in received])


async def test_batch_order_status_does_what_the_status_only_put_does(live: LiveBackend) -> None:
    """The ``order_status`` kind on a real store: the letter applied through fn_change_order_status and read back,
    an unknown letter refused (never stored), a stale order id not_found, the kind advertised by the feed."""
    _, page = await live.raw("GET", "smile_bridge_events", params={"limit": 1})
    assert "order_status" in page["params"]["batch_kinds"]
    letter = page["params"]["statuses"]["shipping_instructed"]
    statuses = await live.client.statuses(refresh=True)
    unknown = next(c for c in "QXZVUTRKJ" if c not in statuses)
    product_id = await live.create_product(amount=5, price=1000)
    order_id = await live.place_order(product_id, 1)
    answer = await AddonClient(live.client).batch([
        {"kind": "order_status", "id": "ok", "order_id": order_id, "status": letter},
        {"kind": "order_status", "id": "again", "order_id": order_id, "status": letter},  # a retry: ok
        {"kind": "order_status", "id": "unknown", "order_id": order_id, "status": unknown},
        {"kind": "order_status", "id": "gone", "order_id": 999999999, "status": letter},
    ])
    assert [r.code for r in answer.results] == ["ok", "ok", "invalid", "not_found"], answer.results
    assert f"status {unknown} does not exist" in answer.results[2].message
    order = await live.client.get_order(order_id)
    assert order.status == letter
