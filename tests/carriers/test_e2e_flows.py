"""Whole flows on the simulator with the SHIPPED rules files (issue 15 "must show"): a 直送 order with its +10 %
from checkout to 完了, and a 先入金 order with its 入金確認 mail, each to the shipping mail and 完了."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

from bridge.domain.orders import WorkflowState as S
from bridge.rules.pricing import direct_ship_surcharge
from bridge.sync.orders.rules import order_rules
from tests.carriers.e2e import Shipping, later, shipping_for
from tests.orders.shipped import shipped_rules_dir

ON_ACCOUNT, PREPAID = 1, 2
LETTERS = {"hold": "A", "instructed": "E", "shipped": "G", "notified": "H", "complete": "C"}  # simulator's add-on


def _slip(s: Shipping, order_id: int) -> list[dict[str, str]]:
    rows = []
    for path in sorted(s.orders.outbox.glob("juchu_*_O*.csv")):
        rows += [r for r in csv.DictReader(io.StringIO(path.read_bytes().decode("cp932"))) if
                 r["オーダー№"] == str(order_id)]
    return rows


async def _ship_and_mail(s: Shipping, order_id: int, tracking: str) -> None:
    await s.run()  # label file
    s.drop(f"result_{order_id}.csv", f"order_no,delivery_no\n{order_id},{tracking}\n")
    await s.run()
    assert await s.state(order_id) is S.SHIPPED
    await s.at(later(s, days=1))  # the next notification time (rules/shipping.yaml: 12:00, 17:00)
    assert await s.state(order_id) is S.NOTIFIED
    await s.run()
    assert await s.state(order_id) is S.COMPLETE


async def test_direct_ship_order_with_its_surcharge_from_checkout_to_complete(tmp_path: Path) -> None:
    async with shipping_for(tmp_path, rules_dir=shipped_rules_dir(tmp_path / "shipped")) as s:
        s.orders.sim.state.products[3].extra = {"smile_direct_ship_allowed": "Y"}  # 直送可 in CS-Cart
        order_id = await s.orders.place(user_id=5, lines=[(3, 2)], direct_ship={"smile_ship_to_code": ""},
                                        customer={"s_lastname": "田中", "s_firstname": "一郎", "s_state": "大阪府"})
        subtotal = s.orders.sim.state.orders[order_id].subtotal
        surcharge = direct_ship_surcharge(subtotal, order_rules(s.orders.context.services.rules.current).pricing)
        assert surcharge == (subtotal / 10).to_integral_value(rounding="ROUND_DOWN")  # +10 %, rounded down
        s.orders.addon[order_id]["smile_direct_ship_surcharge"] = f"{surcharge}.00"
        await s.orders.cycle()
        assert await s.state(order_id) is S.SHIPPING_INSTRUCTED
        slip = _slip(s, order_id)
        assert [(r["商品名"], r["金額"]) for r in slip][-1] == ("直送手数料", str(surcharge))
        assert sum(Decimal(r["金額"]) for r in slip) == subtotal + surcharge
        assert {r["納品先名"] for r in slip} == {"田中 一郎"}
        await _ship_and_mail(s, order_id, "389711074012")
        # 正式受注確認 with 出荷指示, 出荷通知 with 出荷通知済 (the shipped order_flow.yaml notifications)
        assert [mail.status for mail in s.customer_mails(order_id)] == [LETTERS["instructed"], LETTERS["notified"]]


async def test_prepaid_order_waits_for_the_payment_mails_it_and_completes(tmp_path: Path) -> None:
    async with shipping_for(tmp_path, rules_dir=shipped_rules_dir(tmp_path / "shipped")) as s:
        order_id = await s.orders.place(user_id=6, payment_id=PREPAID, lines=[(4, 1)])
        await s.orders.cycle()
        assert await s.state(order_id) is S.HOLD
        assert s.customer_mails(order_id) == []
        await s.orders.set_status(order_id, "P")  # 入金確認 by staff
        await s.orders.cycle()
        assert await s.state(order_id) is S.SHIPPING_INSTRUCTED
        # 正式受注確認 with 出荷指示; no add-on on this store, so CS-Cart's status mail is also the payment's
        [paid_mail] = s.customer_mails(order_id)
        assert paid_mail.status == LETTERS["instructed"]
        await _ship_and_mail(s, order_id, "512547514334")
        assert [mail.status for mail in s.customer_mails(order_id)] == [LETTERS["instructed"], LETTERS["notified"]]
