"""A faithful CS-Cart 4.20 simulator (REST API 2.1 with every quirk in docs/cscart.md) for tests, the demo and
benchmarks.

    async with run_simulator(products=1000, seed=1) as sim:
        sim.url, sim.state, sim.requests, sim.faults, sim.client_settings()

One module per entity group (products, orders, users, shipments, statuses, storefront); the state object holds the
data and the write side effects; ``entities=`` adds more endpoints (the add-on's ``smile_bridge_*``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web
from pydantic import SecretStr

from bridge.cscart.settings import CSCartSettings
from bridge.cscart.simulator.api import ApiCall, ApiError, Result
from bridge.cscart.simulator.app import Entity, LoggedRequest, RequestLog, make_app
from bridge.cscart.simulator.faults import FaultConfig, FaultRule
from bridge.cscart.simulator.seed import seed_state
from bridge.cscart.simulator.state import SimSettings, SimState

__all__ = [
    "ApiCall", "ApiError", "Entity", "FaultConfig", "FaultRule", "LoggedRequest", "RequestLog", "Result",
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
    def email(self) -> str:
        return self.state.settings.email

    @property
    def api_key(self) -> str:
        return self.state.settings.api_key

    def client_settings(self, **overrides: object) -> CSCartSettings:
        values: dict[str, object] = {"url": self.url, "email": self.email, "api_key": SecretStr(self.api_key),
                                     "company_id": self.state.settings.company_id, "timeout": 10.0}
        values.update(overrides)
        return CSCartSettings(**values)  # type: ignore[arg-type]


@asynccontextmanager
async def run_simulator(
    *, products: int = 200, users: int = 20, orders: int = 20, seed: int = 1, host: str = "127.0.0.1",
    port: int = 0, settings: SimSettings | None = None, faults: FaultConfig | None = None,
    entities: Mapping[str, Entity] | None = None, state: SimState | None = None,
) -> AsyncIterator[Simulator]:
    """Start a seeded simulator on ``host:port`` (0 = a free port) and stop it on exit."""
    if state is None:
        state = seed_state(SimState(settings=settings or SimSettings()), products=products, users=users,
                           orders=orders, seed=seed)
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
        await runner.cleanup()
