"""The customer mails end to end with the SHIPPED rules and the simulator's smile_bridge add-on (its mail templates
and ``POST /api/smile_bridge_mails``): a 先入金 order gets 正式受注確認 and 入金確認 when it is released, 出荷通知 with
the carrier's name, the tracking number and URL when it ships; a late order gets 遅延のお知らせ once; nothing is
mailed twice."""

from __future__ import annotations

from pathlib import Path

from bridge.cscart.addon_client import AddonClient
from bridge.cscart.sim.addon import install
from bridge.domain.orders import WorkflowState as S
from bridge.sync.orders.delivery import delivery_settings
from bridge.sync.orders.mails import mail_settings
from tests.carriers.e2e import Shipping, later, shipping_for
from tests.orders.shipped import shipped_rules_dir

PREPAID = 2


async def _with_addon(s: Shipping) -> None:
    """The add-on installed on the simulated store (adopting the seed's 保留/出荷指示/出荷済/出荷通知済 letters), and the
    daemon's client told so (its detection is cached)."""
    install(s.orders.sim.state)
    ctx = s.orders.context
    assert await ctx.services.require_cscart().addon_installed(refresh=True)
    # what the customer_prices job pushes (its addon.settings op; this harness's sink is the plain REST one): the checkout's delivery methods and the mails' carriers and statuses
    values = {**delivery_settings(ctx.services.shipping, "smile_bridge")["values"],
              **mail_settings(ctx.services.shipping, ctx.services.rules.current.order_flow)["values"]}
    response = await AddonClient(ctx.services.require_cscart()).batch([{"id": "settings", "kind": "settings",
                                                                         "values": values}])
    assert response.counts == {"ok": 1, "invalid": 0, "not_found": 0, "failed": 0}, response
    assert s.orders.sim.state.addon is not None and "mail_carriers" in s.orders.sim.state.addon.params


def _mails(s: Shipping, order_id: int) -> list[tuple[str, dict[str, object]]]:
    addon = s.orders.sim.state.addon
    assert addon is not None
    return [(mail.kind, mail.context) for mail in addon.mails if mail.order_id == order_id]


async def test_prepaid_order_gets_confirmation_payment_and_shipping_mails_once(tmp_path: Path) -> None:
    async with shipping_for(tmp_path, rules_dir=shipped_rules_dir(tmp_path / "shipped")) as s:
        await _with_addon(s)
        order_id = await s.orders.place(user_id=6, payment_id=PREPAID, lines=[(4, 2)],
                                        customer={"lastname": "佐藤", "firstname": "花子"})
        await s.orders.cycle()
        assert await s.state(order_id) is S.HOLD
        assert _mails(s, order_id) == []
        await s.orders.set_status(order_id, "P")  # 入金確認 by staff
        await s.orders.cycle()
        assert await s.state(order_id) is S.SHIPPING_INSTRUCTED
        mails = _mails(s, order_id)
        assert [kind for kind, _ in mails] == ["order_confirmed", "payment_received"]
        confirmed = mails[0][1]
        assert confirmed["title"] == "正式受注確認" and confirmed["order_id"] == order_id
        assert confirmed["ship_date"]  # the shipping method's first ship day (delivery_methods pushed or not)
        assert [item["quantity"] for item in confirmed["items"]] == [2]  # type: ignore[index]

        await s.run()  # label file
        s.drop(f"result_{order_id}.csv", f"order_no,delivery_no\n{order_id},389711074012\n")
        await s.run()
        await s.at(later(s, days=1))  # the next notification time
        assert await s.state(order_id) is S.NOTIFIED
        await s.run()
        assert await s.state(order_id) is S.COMPLETE
        await s.orders.cycle()
        await s.run()
        kinds = [kind for kind, _ in _mails(s, order_id)]
        assert kinds == ["order_confirmed", "payment_received", "shipping_notice"]
        notice = _mails(s, order_id)[-1][1]
        [shipment] = notice["shipments"]  # type: ignore[misc]
        assert shipment["carrier_name"] == "ヤマト運輸" and shipment["tracking_number"] == "389711074012"
        assert shipment["tracking_url"] == \
            "https://jizen.kuronekoyamato.co.jp/jizen/servlet/crjz.b.NQ0010?id=389711074012"
        assert "お問い合わせ番号 3897-1107-4012" in shipment["memo"]


async def test_a_late_order_gets_one_delay_mail(tmp_path: Path) -> None:
    async with shipping_for(tmp_path, rules_dir=shipped_rules_dir(tmp_path / "shipped")) as s:
        await _with_addon(s)
        order_id = await s.instruct((1, 1))
        await s.run()
        assert [kind for kind, _ in _mails(s, order_id)] == ["order_confirmed"]
        await s.at(later(s, days=10))  # still 出荷指示 after more than 2 business days
        await s.run()
        await s.at(later(s, days=1))
        assert [kind for kind, _ in _mails(s, order_id)] == ["order_confirmed", "delay"]
