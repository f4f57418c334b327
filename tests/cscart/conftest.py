"""Fixtures of the CS-Cart edge tests: a simulator on a free 127.0.0.1 port, a client against it, and the contract
``backend`` that runs the same test against the simulator or, with ``-m live_cscart``, against a real store."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from bridge.cscart.client import CSCartClient
from bridge.cscart.simulator import Simulator, run_simulator
from tests.cscart.backends import Backend, LiveBackend, SimBackend

LIVE_ENV = ("BRIDGE_LIVE_CSCART_URL", "BRIDGE_LIVE_CSCART_EMAIL", "BRIDGE_LIVE_CSCART_API_KEY")


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with run_simulator(products=300, users=20, orders=40, seed=7) as running:
        yield running


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[CSCartClient]:
    async with CSCartClient(sim.client_settings()) as opened:
        yield opened


@pytest.fixture(params=["sim", pytest.param("live", marks=pytest.mark.live_cscart)])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    """The contract target. Live runs only create, change and delete records they made themselves."""
    if request.param == "sim":
        async with run_simulator(products=60, users=5, orders=10, seed=11) as running:
            chosen: Backend = SimBackend(running)
            async with chosen:
                yield chosen
        return
    missing = [name for name in LIVE_ENV if not os.environ.get(name)]
    if missing:
        pytest.fail(f"-m live_cscart needs {', '.join(missing)} (see docs/cscart.md, 'Live contract tests')")
    _ensure_live_addon()
    chosen = LiveBackend(os.environ["BRIDGE_LIVE_CSCART_URL"], os.environ["BRIDGE_LIVE_CSCART_EMAIL"],
                         os.environ["BRIDGE_LIVE_CSCART_API_KEY"],
                         company_id=int(os.environ.get("BRIDGE_LIVE_CSCART_COMPANY_ID", "1")))
    async with chosen:
        yield chosen


_addon_checked: list[bool] = []


def _ensure_live_addon() -> None:
    """A fresh store lacks the add-on: with BRIDGE_LIVE_CSCART_STORE_ROOT the live run installs it (once), as an
    operator would, with ``bridge addon install``; without it the store must have the add-on already."""
    root = os.environ.get("BRIDGE_LIVE_CSCART_STORE_ROOT")
    if _addon_checked or not root:
        return
    from pathlib import Path

    from bridge.cscart.addon_installer import StoreConsole, install

    console = StoreConsole(Path(root), web_user=os.environ.get("BRIDGE_LIVE_CSCART_WEB_USER", "www-data"))
    if console.report().addon is None:
        install(console)
    _addon_checked.append(True)
