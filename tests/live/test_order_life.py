"""An order's life on a real store: the orders and shipping jobs run once each as ``bridge sync`` runs them, then
the same life through the daemon (``bridge run`` as a process, config derived from ops/config.example.yaml), with
the store's outgoing mail caught by an SMTP sink: placed → mirrored → 受注 file (SMILE outbox) → 出荷指示 → label
file → carrier result file → shipment with carrier and tracking → 出荷済 → 出荷通知 mail → 出荷通知済 → 完了."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bridge.cscart.addon_installer import StoreConsole
from tests.cscart.backends import LiveBackend
from tests.live.conftest import LiveStore
from tests.live.kit import EXAMPLE_CONFIG, first_category, live_settings, ok, run
from tests.live.order_kit import TRACKING, files_naming, place, rules_with_immediate_mail, status_of, world
from tests.live.smtp_sink import SmtpSink
from tests.live.test_mail import SET_MAILER


async def until(check: Callable[[], Awaitable[bool]], what: str, limit: float = 180.0) -> None:
    deadline = time.monotonic() + limit
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {limit:g} s")
        await asyncio.sleep(0.5)


def drop_result(data_dir: Path, name: str, order_id: int) -> Path:
    """Yamato's result file (お客様管理番号 = CS-Cart order id, 伝票番号), complete with NAME.done."""
    inbox = data_dir / "carriers" / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    path = inbox / name
    path.write_text(f"order_no,delivery_no\n{order_id},{TRACKING}\n", encoding="utf-8")
    path.with_name(name + ".done").touch()
    return path


async def test_orders_and_shipping_jobs_take_an_order_to_complete(live_store: LiveStore, live: LiveBackend,
                                                                 tmp_path: Path) -> None:
    rules = rules_with_immediate_mail(tmp_path / "rules")
    settings = live_settings(live_store, tmp_path, await first_category(live), rules_dir=rules,
                             smile={"stable_seconds": 0})
    w = await world(live, settings, tmp_path)
    report = StoreConsole(live_store.require_root(), web_user=live_store.web_user).report()
    letter = {key: report.params[f"status.{key}"] for key in ("shipping_instructed", "shipped", "notified")}
    order_id = await place(live, w)

    ok(await run(settings, "orders"))
    assert await status_of(live, order_id) == letter["shipping_instructed"]
    outbox = settings.smile.dirs(settings.data_dir).outbox
    slips = files_naming(outbox, str(order_id))
    assert slips, f"no 受注 file in {outbox} names order {order_id}: {sorted(outbox.iterdir())}"
    slip = slips[0].read_bytes().decode("cp932")
    assert w.customer_code in slip and w.product_code in slip, slip  # 得意先コード and 商品コード, bound by the jobs

    ok(await run(settings, "shipping"))
    labels = files_naming(settings.data_dir / "carriers" / "yamato", str(order_id))
    assert labels, "no B2 label file names the order"
    drop_result(settings.data_dir, "result_1.csv", order_id)
    ok(await run(settings, "shipping"))
    shipments = await live.client.list_shipments(order_id)
    assert [(s.get("carrier"), s.get("tracking_number")) for s in shipments] == [("yamato", TRACKING)], shipments
    for _ in range(3):  # 出荷済 → 出荷通知済 (mail) → 完了, each a move the job makes once CS-Cart took the last
        if await status_of(live, order_id) == "C":
            break
        ok(await run(settings, "shipping"))
    assert await status_of(live, order_id) == "C"
    assert list((settings.data_dir / "carriers" / "archive").rglob("result_1.csv"))
