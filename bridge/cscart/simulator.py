"""A faithful CS-Cart 4.20 simulator (REST API 2.1 with every quirk in docs/cscart.md) for tests, the demo and
benchmarks.

    async with run_simulator(products=1000, seed=1) as sim:
        sim.url, sim.state, sim.requests, sim.faults, sim.client_settings()

One module per entity group (products, orders, users, shipments, statuses, storefront); the state object holds the
data and the write side effects; ``entities=`` adds more endpoints. ``addon=True`` installs the ``smile_bridge``
add-on (sim/addon.py: its statuses, columns, event feed, wake-up push and batch API); ``sim.addon`` is then its
state (set ``sim.addon.daemon_url`` / ``hmac_secret`` to receive wake-ups).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web
from pydantic import SecretStr

from bridge.cscart.settings import CSCartSettings
from bridge.cscart.sim.addon import AddonState, install, uninstall
from bridge.cscart.sim.api import ApiCall, ApiError, Result
from bridge.cscart.sim.app import Entity, LoggedRequest, RequestLog, make_app
from bridge.cscart.sim.faults import FaultConfig, FaultRule
from bridge.cscart.sim.seed import seed_state
from bridge.cscart.sim.state import SimSettings, SimState

__all__ = [
    "AddonState", "install", "uninstall", "ApiCall", "ApiError", "Entity", "FaultConfig", "FaultRule", "LoggedRequest", "RequestLog", "Result",
    "SimSettings", "SimState", "Simulator", "make_app", "run_simulator", "seed_state",
]


@dataclass
class Simulator:
    url: str
    state: SimState
    requests: RequestLog
    faults: FaultConfig
    runner: web.AppRunner

    @property
    def addon(self) -> AddonState:
        """The installed add-on's state (tables, settings, wake-ups sent); fails when it is not installed."""
        if self.state.addon is None:
            raise LookupError("the smile_bridge add-on is not installed on this simulator (run_simulator(addon=True))")
        return self.state.addon  # type: ignore[no-any-return]

    @property
    def email(self) -> str:
        return self.state.settings.email

    @property
    def api_key(self) -> str:
        return self.state.settings.api_key

    def client_settings(self, **overrides: object) -> CSCartSettings:
        values: dict[str, object] = {"url": self.url, "email": self.email, "api_key": SecretStr(self.api_key),
                                     "company_id": self.state.settings.company_id, "timeout": 10.0}
        values.update(overrides)
        return CSCartSettings(**values)


@asynccontextmanager
async def run_simulator(
    *, products: int = 200, users: int = 20, orders: int = 20, seed: int = 1, host: str = "127.0.0.1",
    port: int = 0, settings: SimSettings | None = None, faults: FaultConfig | None = None,
    entities: Mapping[str, Entity] | None = None, state: SimState | None = None, addon: bool = False,
    daemon_url: str = "", hmac_secret: str = "",
) -> AsyncIterator[Simulator]:
    """Start a seeded simulator on ``host:port`` (0 = a free port) and stop it on exit; ``addon=True`` installs the
    smile_bridge add-on, waking ``daemon_url`` with ``hmac_secret`` when both are given."""
    if state is None:
        state = seed_state(SimState(settings=settings or SimSettings()), products=products, users=users,
                           orders=orders, seed=seed)
    if addon:
        install(state, daemon_url=daemon_url, hmac_secret=hmac_secret)
    log = RequestLog()
    faults = faults if faults is not None else FaultConfig(seed=seed)
    runner = web.AppRunner(make_app(state, faults, log, entities), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0]
    try:
        yield Simulator(url=f"http://{bound[0]}:{bound[1]}", state=state, requests=log, faults=faults, runner=runner)
    finally:
        if state.addon is not None:
            await state.addon.settle()
        await runner.cleanup()
