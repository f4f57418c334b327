"""SMILE's read-back binds CS-Cart order ids to 伝票№ / 処理連番; late orders raise an alert; ``bridge orders resend``
re-exports only an order the read-back shows absent; ``bridge orders show`` prints the whole history."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bridge import metrics
from bridge.cli import app
from bridge.domain.orders import WorkflowState as S
from bridge.smile.records import SalesSlipLine
from bridge.smile.writer import write_records
from bridge.store import bindings
from bridge.store import orders as mirror
from bridge.sync import RunOptions
from bridge.sync.orders.settings import OrdersSettings
from bridge.sync.registry import orders_job
from tests.foundation.fakes import PinnedClock
from tests.orders.conftest import Harness, harness_for


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness_for(tmp_path, smile={"stable_seconds": 0.0}) as built:
        yield built


def write_readback(harness: Harness, name: str, orders: dict[int, tuple[str, str]], file_type: str = "order_lines"
                   ) -> Path:
    """SMILE's 受注明細 export: one line per order, オーダー№ = CS-Cart order id."""
    records = [SalesSlipLine(slip_date=date(2026, 11, 24), slip_no=slip, serial=serial, line_no=1,
                             customer_code="100001", product_code="10000003", order_ref=str(order_id))
               for order_id, (slip, serial) in orders.items()]
    records.append(SalesSlipLine(slip_date=date(2026, 11, 24), slip_no="9999", serial="99999", line_no=1,
                                 customer_code="100001", order_ref="TEL-0001"))  # typed in SMILE by hand
    harness.inbox.mkdir(parents=True, exist_ok=True)
    return write_records(harness.inbox / name, file_type, records, layout=harness.settings.smile.layout(file_type))


def cli(harness: Harness, *args: str) -> tuple[int, str]:
    config = harness.settings.data_dir.parent / "bridge.yaml"
    config.write_text(json.dumps({"data_dir": str(harness.settings.data_dir),
                                  "state_file": str(harness.settings.data_dir.parent / "state.sqlite3"),
                                  "rules_dir": str(harness.settings.rules_dir)}), encoding="utf-8")
    result = CliRunner().invoke(app, [*args, "--config", str(config)])
    return result.exit_code, result.output


async def test_the_read_back_binds_slip_numbers_and_ends_the_unconfirmed_quantity(harness: Harness) -> None:
    first = await harness.place(user_id=1, lines=[(3, 2)])
    second = await harness.place(user_id=2, lines=[(3, 5)])
    await harness.cycle()
    async with harness.store.transaction() as tx:
        assert (await mirror.unconfirmed_quantities(tx))["10000003"] == 7  # what the stock job subtracts
    write_readback(harness, "order_lines_20261124.csv", {first: ("1001", "50001")})
    result = await harness.cycle()
    assert any("1 order(s) confirmed by SMILE from order_lines_20261124.csv" in n for n in result.notes)
    confirmed = await harness.state(first)
    assert (confirmed.smile_slip_no, confirmed.smile_serial) == ("1001", "50001") and confirmed.confirmed_at
    async with harness.store.transaction() as tx:
        assert await bindings.lookup(tx, "cscart", "order", str(first), "smile", "slip") == "1001"
        assert (await mirror.unconfirmed_quantities(tx))["10000003"] == 5
    assert (await harness.state(second)).smile_slip_no is None
    assert list(harness.inbox.glob("order_lines*")) == []  # archived


async def test_orders_smile_has_not_confirmed_in_time_raise_an_alert_until_read_back(harness: Harness) -> None:
    order_id = await harness.place(user_id=3)
    await harness.cycle()
    later = replace(harness.context, clock=PinnedClock(datetime.now().astimezone() + timedelta(hours=25)))
    result = await orders_job(later, settings=harness.orders).run(RunOptions())
    assert "1 exported order(s) not confirmed by SMILE in time" in result.notes
    assert "not confirmed this order within 24 h" in (await harness.flags(order_id))["unconfirmed"]
    assert harness.events.of("order_flagged")[-1]["flag"] == "unconfirmed"
    assert metrics.ORDERS_UNCONFIRMED._value.get() == 1
    write_readback(harness, "sales_lines_1.csv", {order_id: ("2002", "60002")}, file_type="sales_lines")
    result = await orders_job(later, settings=harness.orders).run(RunOptions())
    assert await harness.flags(order_id) == {}
    assert metrics.ORDERS_UNCONFIRMED._value.get() == 0


async def test_the_confirmation_window_is_a_setting(tmp_path: Path) -> None:
    async with harness_for(tmp_path, orders={"confirm_within_hours": 2}) as harness:
        harness.orders = OrdersSettings(initial_lookback_hours=24 * 365 * 20, confirm_within_hours=2)
        order_id = await harness.place(user_id=3)
        await harness.cycle()
        later = replace(harness.context, clock=PinnedClock(datetime.now().astimezone() + timedelta(hours=3)))
        await orders_job(later, settings=harness.orders).run(RunOptions())
        assert "within 2 h" in (await harness.flags(order_id))["unconfirmed"]
        assert harness.settings.orders.confirm_within_hours == 2


async def test_resend_only_when_the_read_back_shows_the_order_absent(harness: Harness) -> None:
    absent = await harness.place(user_id=4, lines=[(3, 1)])
    present = await harness.place(user_id=5, lines=[(4, 1)])
    held = await harness.place(user_id=6, payment_id=2)
    await harness.cycle()
    write_readback(harness, "order_lines_1.csv", {present: ("3003", "70003")})
    await harness.cycle()

    code, out = await asyncio.to_thread(cli, harness, "orders", "resend", str(present))
    assert code == 1 and "is in SMILE as 伝票№ 3003 / 処理連番 70003" in out and "would duplicate it" in out
    code, out = await asyncio.to_thread(cli, harness, "orders", "resend", str(held))
    assert code == 1 and "was never sent to SMILE" in out
    code, out = await asyncio.to_thread(cli, harness, "orders", "resend", "999999")
    assert code == 1 and "not in the mirror" in out
    assert len(harness.files()) == 1

    code, out = await asyncio.to_thread(cli, harness, "orders", "resend", str(absent))
    assert code == 0, out
    assert f"order {absent} resent" in out
    assert len(harness.files()) == 2
    assert sorted(harness.exported_ids()) == sorted([absent, present, absent])  # the new file holds only it
    live = await harness.store.fetchall("SELECT batch_id FROM order_exports WHERE order_id = ? AND superseded_at "
                                        "IS NULL", (absent,))
    assert len(live) == 1
    await harness.cycle()
    assert len(harness.files()) == 2  # the job does not send it a third time


async def test_show_prints_the_full_history_and_list_filters(harness: Harness) -> None:
    order_id = await harness.place(user_id=7, payment_id=2)
    await harness.cycle()
    await harness.set_status(order_id, "P")
    await harness.cycle()
    write_readback(harness, "order_lines_2.csv", {order_id: ("4004", "80004")})
    await harness.cycle()
    await harness.set_status(order_id, "I")
    await harness.cycle()

    code, out = await asyncio.to_thread(cli, harness, "orders", "show", str(order_id))
    assert code == 0, out
    for expected in ("(new) → received: order mirrored from CS-Cart", "received → hold: waiting for payment (先入金)",
                     "hold → shipping_instructed: 受注 batch O000001", "SMILE: 伝票№ 4004, 処理連番 80004",
                     "shipping_instructed → cancelled: cancelled in CS-Cart after export",
                     "flag: cancelled_after_export", "export: batch O000001"):
        assert expected in out, (expected, out)

    code, out = await asyncio.to_thread(cli, harness, "orders", "list", "--flagged", "--json")
    assert code == 0 and json.loads(out.splitlines()[0])["order_id"] == order_id
    code, out = await asyncio.to_thread(cli, harness, "orders", "list", "--state", "hold", "--json")
    assert code == 0 and out.strip() == ""
    code, out = await asyncio.to_thread(cli, harness, "orders", "show", "424242")
    assert code == 1 and "not in the mirror" in out
    assert (await harness.state(order_id)).workflow_state is S.CANCELLED
