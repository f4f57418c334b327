"""Hand work in CS-Cart (issue 15 defect 5), end to end with the shipped rules files: staff set 出荷済 themselves
(with a shipment and its tracking number, the way CS-Cart's admin does it) and the customer still gets the shipping
mail and the order reaches 完了; without a tracking number the order is flagged for staff and no mail goes out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bridge.domain.orders import WorkflowState as S
from tests.carriers.e2e import Shipping, later, shipping_for
from tests.orders.shipped import shipped_rules_dir

SHIPPED_LETTER, NOTIFIED_LETTER = "G", "H"  # the simulator's add-on letters for 出荷済 / 出荷通知済


def _shipping_mails(s: Shipping, order_id: int) -> list[Any]:
    """The 出荷通知 mails (the shipped rules also mail 正式受注確認 with 出荷指示)."""
    return [mail for mail in s.customer_mails(order_id) if mail.status == NOTIFIED_LETTER]


async def test_hand_set_shipped_with_a_tracking_number_mails_and_completes(tmp_path: Path) -> None:
    async with shipping_for(tmp_path, rules_dir=shipped_rules_dir(tmp_path / "shipped")) as s:
        order_id = await s.instruct((1, 1))
        bare = await s.instruct((2, 1))
        assert await s.state(order_id) is S.SHIPPING_INSTRUCTED
        client = s.orders.context.services.require_cscart()
        # staff: a shipment with its 伝票番号 and the order status 出荷済, in the CS-Cart admin
        await client.create_shipment(order_id, shipping_id=1, carrier="yamato", tracking_number="389711074012",
                                     order_status=SHIPPED_LETTER)
        await s.orders.set_status(bare, SHIPPED_LETTER)  # … and one without any shipment
        await s.orders.cycle()
        assert await s.state(order_id) is S.SHIPPED
        assert "389711074012" in (await s.orders.history(order_id))[-1].reason
        assert await s.state(bare) is S.SHIPPING_INSTRUCTED
        assert "no CS-Cart shipment with a tracking number" in (await s.orders.flags(bare))["shipped_by_hand"]
        assert _shipping_mails(s, order_id) == []

        await s.at(later(s, days=1))  # the next notification time: the normal shipping mail
        assert await s.state(order_id) is S.NOTIFIED
        assert len(_shipping_mails(s, order_id)) == 1
        await s.run()
        assert await s.state(order_id) is S.COMPLETE
        assert _shipping_mails(s, bare) == [] and await s.state(bare) is S.SHIPPING_INSTRUCTED

        # staff add the missing shipment later (CS-Cart need not touch the order): the flag closes, the mail follows
        await client.create_shipment(bare, shipping_id=1, carrier="yamato", tracking_number="512547514334")
        await s.orders.cycle()
        assert await s.state(bare) is S.SHIPPED
        assert "shipped_by_hand" not in await s.orders.flags(bare)
        await s.at(later(s, days=1))
        assert await s.state(bare) is S.NOTIFIED and len(_shipping_mails(s, bare)) == 1
