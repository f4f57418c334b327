"""The orders job inside the real daemon: status letters checked at start-up (a missing letter stops the start with
a clear error), and the add-on's signed push to /hooks/cscart runs the job at once."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bridge.config import JobsSettings, Settings
from bridge.cscart.addon_protocol import SIGNATURE_HEADER, WAKE_UP_PATH, sign
from bridge.cscart.simulator import Simulator
from bridge.daemon import Daemon
from bridge.errors import ConfigError
from tests.foundation.fakes import running_daemon
from tests.orders.conftest import ORDER_FLOW_YAML, addon_simulator, bind_catalog, make_settings

SECRET = "s3cret"


def only_orders(interval: float = 3600.0) -> dict[str, Any]:
    """The orders job alone, with an interval so long that only start-up and pushes run it."""
    return {name: {"enabled": name == "orders", "interval": interval, "jitter": 0.0}
            for name in JobsSettings.model_fields}


def daemon_settings(tmp_path: Path, sim: Simulator, **overrides: Any) -> Settings:
    return make_settings(tmp_path, sim, http={"host": "127.0.0.1", "port": 0}, jobs=only_orders(),
                         dispatch={"idle_poll": 0.05}, **overrides)


async def until(check: Any, what: str, limit: float = 30.0) -> None:
    """Wait for a condition the daemon brings about in the background (bounded, so a bug fails, not hangs)."""
    deadline = time.monotonic() + limit
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {limit:g} s")
        await asyncio.sleep(0.02)


async def test_a_letter_cs_cart_lacks_stops_the_start_with_a_clear_error(tmp_path: Path) -> None:
    async with addon_simulator({}) as sim:
        settings = daemon_settings(tmp_path, sim)
        (settings.rules_dir / "order_flow.yaml").write_text(
            ORDER_FLOW_YAML.replace("letters: [E], description: 出荷指示", "letters: [J], description: 出荷指示"),
            encoding="utf-8")
        with pytest.raises(ConfigError) as raised:
            await Daemon(settings).start()
        message = str(raised.value)
        assert "order_flow.yaml states.shipping_instructed: CS-Cart has no status J" in message
        assert "install the smile_bridge add-on or fix the letter" in message
        assert "E 出荷指示" in message  # the letters CS-Cart does have are listed

        # A letter that belongs to another status is caught by its description.
        (settings.rules_dir / "order_flow.yaml").write_text(
            ORDER_FLOW_YAML.replace("letters: [A], description: 保留", "letters: [B], description: 保留"),
            encoding="utf-8")
        with pytest.raises(ConfigError, match="status B is 'Backordered' in CS-Cart, not '保留'"):
            await Daemon(settings).start()

        # Fixed rules: the same state folder starts (the failed starts released the lock and the store).
        (settings.rules_dir / "order_flow.yaml").write_text(ORDER_FLOW_YAML, encoding="utf-8")
        async with running_daemon(settings) as daemon:
            assert "orders" in daemon.scheduler.coordinators


async def test_cs_cart_not_answering_at_start_up_does_not_stop_the_daemon(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    async with addon_simulator({}) as sim:
        settings = daemon_settings(tmp_path, sim)
    unreachable = settings.model_copy(update={"cscart": settings.cscart.model_copy(
        update={"url": f"http://127.0.0.1:{closed_port}", "timeout": 1.0})})
    async with running_daemon(unreachable) as daemon:
        assert "orders" in daemon.scheduler.coordinators


async def test_a_signed_push_runs_the_orders_job_at_once(tmp_path: Path) -> None:
    addon: dict[int, dict[str, str]] = {}
    async with addon_simulator(addon) as sim:
        settings = daemon_settings(tmp_path, sim)
        async with running_daemon(settings) as daemon:
            coordinator = daemon.scheduler.coordinators["orders"]
            assert daemon.store is not None and daemon.http is not None
            await until(lambda: _async(coordinator.runs >= 1 and not coordinator.running), "the start-up run")
            await bind_catalog(daemon.store, sim)
            order_id = sim.state.place_order(user_id=1, lines=[(3, 1)]).order_id
            url = f"http://{daemon.http.host}:{daemon.http.port}{WAKE_UP_PATH}"
            body = json.dumps({"event": "order.placed", "order_id": order_id}).encode()
            async with aiohttp.ClientSession() as session:
                async with session.post(url, data=body, headers={SIGNATURE_HEADER: "t=1,v1=forged"}) as refused:
                    assert refused.status == 401
                assert coordinator.runs == 1  # a forged push runs nothing
                signature = sign(SECRET, body, int(time.time()))
                async with session.post(url, data=body, headers={SIGNATURE_HEADER: signature}) as accepted:
                    assert accepted.status == 202 and (await accepted.json()) == {"triggered": True}
            await until(lambda: _async(sim.state.orders[order_id].status == "E"), "出荷指示 in CS-Cart")
            assert coordinator.runs == 2
            files = list(settings.smile.dirs(settings.data_dir).outbox.glob("juchu_*.csv"))
            assert len(files) == 1


async def _async(value: bool) -> bool:
    return value
