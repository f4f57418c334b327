"""Returns (返品) on a real store: CS-Cart's own rma add-on takes a return request (its rma.add_return controller)
and staff approve it (rma.update_details); the smile_bridge add-on writes the return.status_changed event, shows the
request over GET smile_bridge_returns with the order line's product code and the reason's name, and sends the
返品受付 mail (once per key) through the store's mailer, captured by an SMTP sink on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json

from bridge.cscart.addon_client import AddonClient
from bridge.cscart.addon_installer import StoreConsole
from bridge.cscart.addon_protocol import EventType
from bridge.rules.returns import ReturnRules
from bridge.sync.orders.returns import mail_values, plan_lines
from tests.cscart.backends import LiveBackend
from tests.live.conftest import LiveStore
from tests.live.smtp_sink import SmtpSink
from tests.live.test_mail import SET_MAILER

WRONG_ITEM_ORDERED = "12"  # one of rma's shipped reasons (Orders → Return requests → reasons)


async def _last_event_id(addon: AddonClient) -> int:
    after = 0
    while True:
        page = await addon.events(after_id=after, limit=1000)
        after = page.next_after_id
        if not page.has_more:
            return after


async def test_an_approved_return_is_an_event_a_return_request_and_one_mail(live_store: LiveStore,
                                                                             live: LiveBackend) -> None:
    console = StoreConsole(live_store.require_root(), web_user=live_store.web_user)

    def mailer(values: dict[str, object]) -> dict[str, object]:
        _, out = console.run(["php", "-r", SET_MAILER, "--", json.dumps(values)])
        assert "@@" in out, out
        return dict(json.loads(out.split("@@")[1]))

    # rma mails the customer and the shop too: every mail of the test goes to the sink
    async with SmtpSink() as sink:
        old = await asyncio.to_thread(mailer, {"root": {
            "mailer_send_method": "smtp", "mailer_smtp_host": f"127.0.0.1:{sink.port}", "mailer_smtp_auth": "N",
            "mailer_smtp_ecrypted_connection": "none"}, "vendor": []})
        try:
            await _return_flow(console, live, sink)
        finally:
            await asyncio.to_thread(mailer, old)


def _clean(output: str) -> None:
    assert "Error:" not in output and "[Error]" not in output, output


async def _return_flow(console: StoreConsole, live: LiveBackend, sink: SmtpSink) -> None:
    code, output = await asyncio.to_thread(console.dispatch, "addons.update_status", id="rma", status="A")
    assert code == 0, output
    _clean(output)
    addon = AddonClient(live.client)
    product_id = await live.create_product(amount=5, price=900)
    order_id = await live.place_order(product_id, 2)
    order = await live.order(order_id)
    [item_id] = list(order["products"])
    code, output = await asyncio.to_thread(console.dispatch, "rma.add_return", order_id=str(order_id), action="1",
                                           comment="live", **{
                                               f"returns[{item_id}][chosen]": "Y",
                                               f"returns[{item_id}][amount]": "1",
                                               f"returns[{item_id}][product_id]": str(product_id),
                                               f"returns[{item_id}][available_amount]": "2",
                                               f"returns[{item_id}][reason]": WRONG_ITEM_ORDERED})
    _clean(output)
    [request] = [r for r in await addon.returns(["R"], since=0) if r.order_id == order_id]
    [item] = request.items
    assert (item.product_code, item.amount, item.accepted, item.reason) == (
        order["products"][item_id]["product_code"], 1, True, "Wrong item ordered")
    assert item.price == 900

    last = await _last_event_id(addon)
    code, output = await asyncio.to_thread(console.dispatch, "rma.update_details", **{
        "change_return_status[return_id]": str(request.return_id), "change_return_status[order_id]": str(order_id),
        "change_return_status[status_from]": "R", "change_return_status[status_to]": "A",
        "change_return_status[action]": "1", "change_return_status[recalculate_order]": "D"})
    _clean(output)
    page = await addon.events(after_id=last, limit=1000)
    changed = [e for e in page.events if e.type is EventType.RETURN_STATUS_CHANGED and e.entity_id == request.return_id]
    assert [(e.entity, dict(e.data)) for e in changed] == [
        ("return", {"order_id": order_id, "status_from": "R", "status_to": "A"})]
    approved = await addon.return_request(request.return_id)
    assert approved.status == "A" and approved in await addon.returns(["A", "C"], since=request.timestamp)

    lines = plan_lines(approved, ReturnRules())
    key = f"live/{live.tag}/return/{request.return_id}"
    sink.messages.clear()
    assert await addon.send_mail(order_id, "returned", key, mail_values(approved, lines)) == "sent"
    assert await addon.send_mail(order_id, "returned", key, mail_values(approved, lines)) == "duplicate"
    for _ in range(100):
        if any("返品受付" in sink.text_of(m) for m in sink.messages):
            break
        await asyncio.sleep(0.1)
    mails = [m for m in sink.messages if "返品受付" in sink.text_of(m)]
    assert len(mails) == 1, [m.get("Subject") for m in sink.messages]
    text = sink.text_of(mails[0])
    assert f"返品番号：{request.return_id}" in text and item.product_code in text and "返品金額：900円" in text
    assert f"order-{live.tag}@example.jp" in str(mails[0]["To"])
