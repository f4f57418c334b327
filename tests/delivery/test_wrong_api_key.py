"""Issue 13 item 9: a wrong API key does not stop the daemon. It keeps running, is not ready (saying why), raises
the auth alert metric, and recovers by itself once the key is fixed (SIGHUP → settings read again)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
from pydantic import SecretStr

from bridge import metrics
from bridge.config import Settings
from bridge.daemon import Daemon
from tests.orders.conftest import addon_simulator, bind_catalog
from tests.orders.test_daemon import daemon_settings


async def readyz(daemon: Daemon) -> tuple[int, dict]:  # type: ignore[type-arg]
    assert daemon.http is not None
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://{daemon.http.host}:{daemon.http.port}/readyz") as response:
            return response.status, await response.json()


async def test_a_wrong_key_keeps_the_daemon_running_not_ready_and_a_fixed_key_recovers(tmp_path: Path) -> None:
    async with addon_simulator({}) as sim:
        good = daemon_settings(tmp_path, sim)
        wrong = good.model_copy(update={"cscart": good.cscart.model_copy(update={"api_key": SecretStr("wrong")})})
        current: dict[str, Settings] = {"settings": wrong}
        daemon = Daemon(wrong, reload_settings=lambda: current["settings"])
        await daemon.start()  # used to raise AuthError: systemd restarted it in a loop
        try:
            assert daemon.store is not None
            await bind_catalog(daemon.store, sim)
            coordinator = daemon.scheduler.coordinators["orders"]
            deadline = time.monotonic() + 30
            while coordinator.failures == 0 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            status, body = await readyz(daemon)
            assert status == 503
            assert "refuses the credentials" in body["checks"]["cscart_auth"], body
            assert metrics.REGISTRY.get_sample_value("bridge_cscart_auth_failing") == 1

            order_id = sim.state.place_order(user_id=1, lines=[(3, 1)]).order_id
            current["settings"] = good  # the operator fixes the key …
            await daemon.reload()  # … and sends SIGHUP
            deadline = time.monotonic() + 30
            while sim.state.orders[order_id].status != "E" and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert sim.state.orders[order_id].status == "E"  # working again, without a restart
            status, body = await readyz(daemon)
            assert body["checks"]["cscart_auth"] == "ok", body
            assert metrics.REGISTRY.get_sample_value("bridge_cscart_auth_failing") == 0
        finally:
            await daemon.shutdown()
