"""The customer mails: the simulator builds the same ``{{ smile.* }}`` values as the PHP add-on (random orders,
shipments, carriers, methods and values through ``SmileBridge\\MailContext`` and ``bridge.cscart.sim.mail``), checks
the same request bodies, and records the mails a status change or ``POST /api/smile_bridge_mails`` sends."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

from bridge.cscart.sim import mail as sim_mail
from bridge.cscart.simulator import run_simulator

from .conftest import run_php_protocol
from .test_simulator_addon import call, place

NAMES = ["緑茶", "急須 <大>", "Tea & Co", "ほうじ茶", "湯呑み"]


def _case(rng: random.Random) -> dict[str, Any]:
    now = rng.randint(1_780_000_000, 1_800_000_000)
    products = {}
    for _ in range(rng.randint(0, 4)):
        item_id = str(rng.choice([rng.randint(1, 99), rng.randint(1_000_000_000, 4_000_000_000)]))
        products[item_id] = {"product_code": f"P-{rng.randint(1, 999)}", "product": rng.choice(NAMES),
                             "amount": str(rng.randint(1, 30)),
                             "price": rng.choice(["900.00", "1234.50", "318", "0.49", "2118.5"])}
    shipments = [{"shipment_id": rng.randint(1, 50), "carrier": rng.choice(["yamato", "sagawa", "japanpost", "seino", ""]),
                  "tracking_number": rng.choice(["4000-1234-5678", "123456789012", "", "AB 12/3"]),
                  "shipment_timestamp": rng.choice([0, now - rng.randint(0, 5 * 86400)]),
                  "comments": rng.choice(["", "担当営業所 品川（031） TEL 03-0000-0000", "a\r\nb  "])}
                 for _ in range(rng.randint(0, 3))]
    method = rng.choice([None, {"lead_business_days": rng.randint(0, 3), "transit_days": rng.randint(0, 3),
                                "cutoff": rng.choice(["12:00", "9:30", "", "bad"]),
                                "closed_weekdays": rng.choice([[6, 7], [7], []]),
                                "holidays": ["2026-12-30", "2026-12-31"]}])
    values: dict[str, Any] = {}
    if rng.random() < 0.5:
        values["ship_date"] = rng.choice(["2026-12-07", "tomorrow", ""])
    if rng.random() < 0.5:
        values["reason"] = rng.choice(["入荷待ち", "  台風  ", 12])
    if rng.random() < 0.3:
        values["new_date"] = "2026-12-12"
    if rng.random() < 0.3:
        values["return"] = rng.choice([{"return_id": 5, "amount": "900.4", "items": [
            {"code": "P-1", "name": "緑茶", "quantity": 2}, "junk"]}, "junk"])
    return {
        "kind": rng.choice([*sim_mail.KINDS, "invoice"] if rng.random() < 0.1 else list(sim_mail.KINDS)),
        "order": {"order_id": str(rng.randint(1, 9999)), "timestamp": str(now - 86400), "firstname": "太郎 ",
                  "lastname": rng.choice(["山田", ""]), "company": rng.choice(["", "株式会社サンプル "]),
                  "email": "taro@example.jp", "total": rng.choice(["2118.00", "1000000.5", "0"]),
                  "smile_delivery_date": rng.choice(["", "2026-12-10", "12/10"]),
                  "smile_delivery_slot": rng.choice(["", "14時～16時"]), "products": products},
        "shipments": shipments,
        "carriers": rng.choice([{}, {"yamato": {"name": "クロネコ", "url": "https://t.example/{no}?x=1"}}]),
        "method": method, "values": values, "now": now,
    }


def _python(case: dict[str, Any]) -> dict[str, Any]:
    try:
        return sim_mail.mail_context(case["kind"], case["order"], case["shipments"], case["carriers"], case["method"],
                                     case["values"], datetime.fromtimestamp(case["now"], UTC))
    except ValueError as exc:
        return {"error": str(exc)}


def test_the_simulators_mail_values_are_the_php_add_ons() -> None:
    rng = random.Random(15)
    cases = [_case(rng) for _ in range(300)]
    php = run_php_protocol({"mail_context": cases})["mail_context"]
    for case, expected in zip(cases, php, strict=True):
        got = json.loads(json.dumps(_python(case), ensure_ascii=False))
        assert got == expected, json.dumps(case, ensure_ascii=False)


def test_mail_requests_are_checked_as_php_checks_them() -> None:
    bodies: list[Any] = [
        {"order_id": 12, "kind": "delay", "key": "orders/mail/12/delay", "values": {"reason": "x"}},
        {"order_id": "12", "kind": "returned", "key": "k", "values": []},
        {"order_id": 0, "kind": "delay", "key": "k"}, {"order_id": "1x", "kind": "delay", "key": "k"},
        {"order_id": 1, "kind": "invoice", "key": "k"}, {"order_id": 1, "kind": "delay", "key": "with space"},
        {"order_id": 1, "kind": "delay", "key": "x" * 129}, {"order_id": 1, "kind": "delay", "key": "k", "values": 3},
        {"order_id": 1, "kind": "delay", "key": "k", "values": {"colour": 1}}, "text", [1],
    ]
    php = run_php_protocol({"mail_request": bodies})["mail_request"]
    for body, expected in zip(bodies, php, strict=True):
        try:
            order_id, kind, key, values = sim_mail.parse_request(body)
            got: Any = [order_id, kind, key, values or []]
        except ValueError as exc:
            got = {"error": str(exc)}
        assert got == expected, body


async def test_status_mails_and_the_mails_endpoint_record_the_context() -> None:
    async with run_simulator(products=10, users=4, orders=0, addon=True) as sim:
        addon = sim.state.addon
        assert addon is not None
        order_id = await place(sim)
        letters = addon.statuses
        status, _ = await call(sim, "PUT", f"orders/{order_id}", {"status": letters["shipping_instructed"],
                                                                  "notify_user": True})
        assert status == 200
        status, _ = await call(sim, "POST", "shipments", {
            "order_id": order_id, "shipping_id": 1, "carrier": "sagawa", "tracking_number": "123456789012",
            "comments": "担当営業所 東京（01） TEL 03-1111-2222", "order_status": letters["shipped"]})
        assert status == 201
        status, _ = await call(sim, "PUT", f"orders/{order_id}", {"status": letters["notified"], "notify_user": False})
        assert not [m for m in addon.mails if m.kind == "shipping_notice"]  # no notify_user, no mail
        await call(sim, "PUT", f"orders/{order_id}", {"status": letters["shipped"]})
        await call(sim, "PUT", f"orders/{order_id}", {"status": letters["notified"], "notify_user": True})
        kinds = [m.kind for m in addon.mails]
        assert kinds == ["order_confirmed", "shipping_notice"]
        notice = addon.mails[-1].context
        assert notice["shipments"] == [{
            "carrier": "sagawa", "carrier_name": "佐川急便", "tracking_number": "123456789012",
            "tracking_url": "https://k2k.sagawa-exp.co.jp/p/web/okurijosearch.do?okurijoNo=123456789012",
            "shipped_on": notice["shipments"][0]["shipped_on"], "memo": "担当営業所 東京（01） TEL 03-1111-2222"}]
        assert notice["order_id"] == order_id and notice["title"] == "出荷通知"

        body = {"order_id": order_id, "kind": "delay", "key": f"orders/mail/{order_id}/delay",
                "values": {"reason": "入荷待ち", "new_date": "2026-12-12"}}
        assert await call(sim, "POST", "smile_bridge_mails", body) == (200, {"status": "sent", "message": ""})
        status, again = await call(sim, "POST", "smile_bridge_mails", body)
        assert status == 200 and again["status"] == "duplicate"
        delay = [m for m in addon.mails if m.kind == "delay"]
        assert len(delay) == 1 and delay[0].context["reason"] == "入荷待ち"
        assert delay[0].context["new_date"] == "2026-12-12"
        status, error = await call(sim, "POST", "smile_bridge_mails", {**body, "order_id": 999999, "key": "other"})
        assert status == 404 and "order 999999 does not exist" in error["message"]
        addon.disabled_mails.add("returned")
        status, error = await call(sim, "POST", "smile_bridge_mails", {**body, "kind": "returned", "key": "r"})
        assert status == 409 and "smile_bridge_returned" in error["message"]
        status, error = await call(sim, "POST", "smile_bridge_mails", {**body, "kind": "bill"})
        assert status == 400 and error["message"].startswith("Bad Request: kind:")
