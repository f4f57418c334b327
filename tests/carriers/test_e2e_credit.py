"""A credit hold from SMILE's 売掛残 to the end (issue 15 "must show"), with the SHIPPED rules files and the
example config's smile/orders/catalog sections: SMILE's 得意先マスター (as the customers job records it) puts a 掛売
customer near the 与信限度額 → the order is held → SMILE's next 得意先マスター shows the 入金 (売掛残 down) → the order
is released, exported in a 受注 file, labelled, shipped, mailed and 完了; a second order is held again and released
by a higher 与信限度額."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from bridge.domain.customers import Customer
from bridge.domain.orders import WorkflowState as S
from bridge.sync.orders.credit import record_credit_limits
from tests.carriers.e2e import Shipping, later, shipping_for
from tests.orders.shipped import ROOT, shipped_rules_dir

ON_ACCOUNT = 1  # 掛売 in the simulator's payment methods
USER, CODE = 3, "100003"  # a bound 掛売 customer of the harness


def example_sections() -> dict[str, Any]:
    """ops/config.example.yaml's smile, catalog and orders sections (its paths are relative to data_dir)."""
    example = YAML(typ="safe").load((ROOT / "ops" / "config.example.yaml").read_text(encoding="utf-8"))
    return {key: example[key] for key in ("smile", "catalog", "orders")}


async def smile_master(s: Shipping, limit: Decimal, receivable: Decimal, as_of: datetime) -> None:
    """SMILE's 得意先マスター for the customer, as the customers job records it (与信限度額, 売掛残 at the file date)."""
    async with s.orders.store.transaction() as tx:
        await record_credit_limits(tx, [Customer(code=CODE, name="得意先", credit_limit=limit, receivable=receivable)],
                                   as_of)


def exported(s: Shipping, order_id: int) -> list[dict[str, str]]:
    return [row for path in sorted(s.orders.outbox.glob("juchu_*_O*.csv"))
            for row in csv.DictReader(io.StringIO(path.read_bytes().decode("cp932"))) if row["受注№"] == str(order_id)]


async def reason(s: Shipping, order_id: int) -> str:
    return (await s.orders.history(order_id))[-1].reason


async def ship(s: Shipping, order_id: int, tracking: str) -> None:
    await s.run()  # the label file
    assert any(str(order_id) in path.read_bytes().decode("cp932", "replace") for path in s.label_files())
    s.drop(f"result_{order_id}.csv", f"order_no,delivery_no\n{order_id},{tracking}\n")
    await s.run()
    assert await s.state(order_id) is S.SHIPPED
    await s.at(later(s, days=1))
    assert await s.state(order_id) is S.NOTIFIED
    await s.run()
    assert await s.state(order_id) is S.COMPLETE


async def test_a_credit_hold_from_smiles_receivable_runs_to_shipped_and_complete(tmp_path: Path) -> None:
    async with shipping_for(tmp_path, rules_dir=shipped_rules_dir(tmp_path / "shipped"), **example_sections()) as s:
        yesterday = datetime.now(UTC) - timedelta(days=1)
        order_id = await s.orders.place(user_id=USER, payment_id=ON_ACCOUNT, lines=[(5, 1)])
        total = s.orders.sim.state.orders[order_id].total
        limit = Decimal(20_000)
        await smile_master(s, limit, limit - total + 1, yesterday)  # one yen too little room
        await s.orders.cycle()
        assert await s.state(order_id) is S.HOLD
        assert f"credit limit ¥{limit} exceeded: open ¥{limit - total + 1}" in await reason(s, order_id)
        assert exported(s, order_id) == []
        await s.orders.cycle()
        assert await s.state(order_id) is S.HOLD  # nothing changed: still held, no second history step

        paid_at = datetime.now(UTC) - timedelta(seconds=5)  # SMILE's file is dated before the export (the mirror
        # stamps to the second: an export in the file's own second would count as in SMILE's figure)
        await smile_master(s, limit, Decimal(5_000), paid_at)  # the customer paid: 売掛残 down
        await s.orders.cycle()
        assert await s.state(order_id) is S.SHIPPING_INSTRUCTED
        rows = exported(s, order_id)
        assert rows and {row["得意先ｺｰﾄﾞ"] for row in rows} == {CODE}
        assert sum(Decimal(row["金額"]) for row in rows) == total
        await ship(s, order_id, "389711074012")

        # the shipped order stays in the exposure until SMILE's 売掛残 has it (it was exported after the file's
        # date): with a limit one yen short a second order is held …
        second = await s.orders.place(user_id=USER, payment_id=ON_ACCOUNT, lines=[(5, 3)])
        second_total = s.orders.sim.state.orders[second].total
        needed = Decimal(5_000) + total + second_total
        await smile_master(s, needed - 1, Decimal(5_000), paid_at)
        await s.orders.cycle()
        assert await s.state(second) is S.HOLD
        assert f"open ¥{Decimal(5_000) + total} + this order ¥{second_total}" in await reason(s, second)
        # … until SMILE raises the 与信限度額
        await smile_master(s, needed, Decimal(5_000), paid_at)
        await s.orders.cycle()
        assert await s.state(second) is S.SHIPPING_INSTRUCTED and exported(s, second)
        await ship(s, second, "512547514334")
