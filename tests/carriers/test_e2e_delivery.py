"""お届け希望日 and 時間帯 from checkout to SMILE, the label and the delay watch (issue 15 defect 4): the add-on's
order fields reach the 受注 file's 納期, the carrier label's date and slot code, and a requested date that passes
while the order is not shipped raises the delay flag."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bridge.carriers import yamato
from bridge.domain.orders import WorkflowState as S
from tests.carriers.e2e import later, shipping_for
from tests.orders.shipped import shipped_rules_dir


async def test_requested_date_and_slot_reach_smile_the_label_and_the_delay_watch(tmp_path: Path) -> None:
    async with shipping_for(tmp_path, rules_dir=shipped_rules_dir(tmp_path / "shipped")) as s:
        wanted = (s.clock.at + timedelta(days=6)).date()
        order_id = await s.orders.place(lines=[(1, 1)])
        s.orders.addon[order_id] = {"smile_delivery_date": wanted.isoformat(), "smile_delivery_slot": "14時～16時"}
        plain = await s.orders.place(lines=[(2, 1)])
        await s.orders.cycle()
        assert await s.state(order_id) is S.SHIPPING_INSTRUCTED
        mirrored = (await s.orders.state(order_id)).order
        assert (mirrored.delivery_date, mirrored.delivery_slot) == (wanted, "14時～16時")

        [juchu] = s.orders.files()
        lines = juchu.read_bytes().decode("cp932").splitlines()
        header = lines[0].split(",")
        dates = {row.split(",")[header.index("オーダー№")]: row.split(",")[header.index("納期")] for row in lines[1:]}
        assert dates == {str(order_id): wanted.strftime("%Y%m%d"), str(plain): ""}

        await s.run()
        [label] = s.label_files("yamato")
        rows = {row.split(",")[yamato.ORDER_NO - 1]: row.split(",") for row in
                label.read_bytes().decode("cp932").splitlines()[1:]}
        assert rows[str(order_id)][yamato.DELIVERY_DATE - 1] == wanted.strftime("%Y/%m/%d")
        assert rows[str(order_id)][yamato.TIME_SLOT - 1] == "1416"
        assert rows[str(plain)][yamato.DELIVERY_DATE - 1] == ""

        await s.at(later(s, days=1))
        assert "shipment_delayed" not in await s.orders.flags(order_id)
        await s.at(s.clock.at.replace(year=wanted.year, month=wanted.month, day=wanted.day) + timedelta(days=1))
        flags = await s.orders.flags(order_id)
        assert f"requested delivery date {wanted} has passed" in flags["shipment_delayed"]
