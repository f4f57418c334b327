"""The shipping job inside the real daemon, next to the orders job: an order placed in the storefront reaches 完了
through the label file, a result file dropped into the inbox and one customer mail, with nothing run by hand."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from bridge.config import JobsSettings, Settings
from tests.carriers.samples import SHIPPED_RULES
from tests.foundation.fakes import running_daemon
from tests.orders.conftest import addon_simulator, bind_catalog, make_settings


async def until(check: Callable[[], bool | Awaitable[bool]], what: str, limit: float = 30.0) -> None:
    """Wait for what the daemon does in the background (bounded: a bug fails the test instead of hanging it)."""
    deadline = time.monotonic() + limit
    while True:
        value = check()
        if await value if isinstance(value, Awaitable) else value:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {limit:g} s")
        await asyncio.sleep(0.05)


async def test_daemon_runs_labels_results_and_the_mail_on_its_own(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "shipping.yaml").write_text(SHIPPED_RULES.read_text(encoding="utf-8").replace(
        'notification:\n  mode: times\n  times: ["12:00", "17:00"]', "notification:\n  mode: immediate"),
        encoding="utf-8")
    async with addon_simulator({}) as sim:

        def settings_with(*running: str) -> Settings:
            jobs = {name: {"enabled": name in running, "interval": 0.2, "jitter": 0.0}
                    for name in JobsSettings.model_fields}
            return make_settings(tmp_path, sim, http={"host": "127.0.0.1", "port": 0}, jobs=jobs,
                                 dispatch={"idle_poll": 0.05}, smile={"stable_seconds": 0.0})

        async with aiohttp.ClientSession() as session:
            body = {"user_id": 1, "payment_id": 1, "shipping_id": 1, "status": "O",
                    "lines": [{"product_id": 1, "amount": 1}]}
            async with session.post(f"{sim.url}/_sim/orders", json=body) as response:
                order_id = int((await response.json())["order_id"])
        order = sim.state.orders[order_id]
        # The label schedule (10:00 and 15:00) catches up once at start-up; the order reaches 出荷指示 before it.
        async with running_daemon(settings_with("orders")) as daemon:
            assert daemon.store is not None
            await bind_catalog(daemon.store, sim)
            await until(lambda: order.status == "E", "出荷指示 in CS-Cart")
        settings = settings_with("orders", "shipping")
        async with running_daemon(settings):
            labels = settings.data_dir / "carriers" / "yamato"
            await until(lambda: any(labels.glob("b2_*.csv")), "the B2 label file")
            inbox = settings.data_dir / "carriers" / "inbox"
            inbox.mkdir(parents=True, exist_ok=True)
            (inbox / "result.csv").write_text(f"order_no,delivery_no\n{order_id},389711074012\n", encoding="utf-8")
            await until(lambda: order.status == "C", "完了 in CS-Cart")
        mails = [n for n in sim.state.notifications if n.order_id == order_id and n.to_customer]
        assert [n.status for n in mails] == ["H"]  # 出荷通知済, once
        assert [s.tracking_number for s in sim.state.shipments.values()] == ["389711074012"]


