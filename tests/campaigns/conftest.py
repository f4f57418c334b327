"""A campaigns test bench: the seeded simulator with the add-on, the shipped rules (campaigns.yaml replaced by the
test's), the real wiring, store and dispatcher, and a clock the test moves (the simulator's clock follows it)."""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import structlog

from bridge import wiring
from bridge.config import Settings
from bridge.cscart.settings import CSCartSettings
from bridge.cscart.simulator import Simulator, run_simulator
from bridge.dispatch import Dispatcher
from bridge.store import Store, bindings
from bridge.sync import JobContext, JobResult, RunOptions
from bridge.sync.campaigns.job import CampaignsJob
from bridge.sync.registry import campaigns_job
from tests.foundation.fakes import PinnedClock

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _logging_back_to_defaults() -> Iterator[None]:
    """A CLI test configures logging onto CliRunner's stream, which closes with it: later tests log elsewhere."""
    yield
    structlog.reset_defaults()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, logging.StreamHandler) and getattr(handler.stream, "closed", False):
            root.removeHandler(handler)
CATEGORY_0100, CATEGORY_0200 = 12, 13
LIVE_ENV = ("BRIDGE_LIVE_CSCART_URL", "BRIDGE_LIVE_CSCART_EMAIL", "BRIDGE_LIVE_CSCART_API_KEY")


def live_cscart_settings() -> CSCartSettings:
    """The real store of a ``-m live_cscart`` run (the test fails, naming what is missing, without one)."""
    missing = [name for name in LIVE_ENV if not os.environ.get(name)]
    if missing:
        pytest.fail(f"-m live_cscart needs {', '.join(missing)} (see docs/cscart.md, 'Live contract tests')")
    company_id = int(os.environ.get("BRIDGE_LIVE_CSCART_COMPANY_ID", "1"))
    return CSCartSettings(url=os.environ["BRIDGE_LIVE_CSCART_URL"], email=os.environ["BRIDGE_LIVE_CSCART_EMAIL"],
                          api_key=os.environ["BRIDGE_LIVE_CSCART_API_KEY"], company_id=company_id, timeout=60)


@pytest.fixture(scope="session")
def live_addon() -> None:
    """The smile_bridge add-on on the live store, installed here (``bridge addon install``) when the store lacks it:
    on a fresh store these tests run before the add-on install tests (tests/live) would have put it there. Needs
    ``BRIDGE_LIVE_CSCART_STORE_ROOT`` only when it has to install."""
    from bridge.cscart.addon_installer import StoreConsole
    from tests.live.conftest import bridge_addon, store_from_env

    store = store_from_env()
    if store.root is None:
        return  # the test then asks the store itself and fails with its own message if the add-on is missing
    if StoreConsole(store.root, web_user=store.web_user).report().addon is None:
        done = bridge_addon(store, "install")
        assert done.returncode == 0, f"bridge addon install failed: {done.stdout}{done.stderr}"


class Recorder:
    """An events publisher that keeps what was published (validated like the real one)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    async def publish(self, kind: str, payload: Any) -> None:
        from bridge.domain.time import Clock
        from bridge.events import build_event

        build_event(kind, payload, source="test", clock=Clock())
        self.events.append((kind, dict(payload)))

    def campaign(self) -> list[tuple[str, str]]:
        return [(p["campaign_id"], p["event"]) for kind, p in self.events if kind == "campaign_changed"]


@dataclass
class Bench:
    sim: Simulator
    settings: Settings
    store: Store
    context: JobContext
    dispatcher: Dispatcher
    clock: PinnedClock
    events: Recorder
    job: CampaignsJob

    def write_rules(self, text: str) -> None:
        (self.settings.rules_dir / "campaigns.yaml").write_text(text, encoding="utf-8")
        result = self.context.services.rules.reload()  # type: ignore[attr-defined]
        assert not result.problems, result

    async def run(self, *, dry_run: bool = False) -> JobResult:
        result = await self.job.run(RunOptions(dry_run=dry_run))
        if not dry_run:
            await self.dispatcher.drain_all()
        return result

    def promotion(self, campaign_id: str) -> Any:
        promotion_id, _ = self.sim.addon.managed_promotions[campaign_id]
        return self.sim.state.promotions[promotion_id]

    def place(self, user_id: int, lines: list[tuple[int, int]], **kw: Any) -> Any:
        return self.sim.state.place_order(user_id=user_id, lines=lines, **kw)

    def cli(self, *args: str) -> tuple[int, str]:
        """``bridge …`` through the real CLI (call it with ``asyncio.to_thread``: the simulator runs in this loop)."""
        from typer.testing import CliRunner

        from bridge.cli import app

        cscart = self.settings.cscart.model_dump(mode="json")
        cscart.update(api_key=self.sim.api_key)
        config = self.settings.data_dir.parent / "bridge.yaml"
        config.write_text(json.dumps({"data_dir": str(self.settings.data_dir),
                                      "rules_dir": str(self.settings.rules_dir),
                                      "state_file": str(self.settings.state_path), "cscart": cscart},
                                     ensure_ascii=False), encoding="utf-8")
        result = CliRunner().invoke(app, [*args, "--config", str(config)])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            import traceback

            return result.exit_code, result.output + "".join(traceback.format_exception(result.exception))
        return result.exit_code, result.output


@asynccontextmanager
async def bench(tmp_path: Path, campaigns_yaml: str, at: datetime, *, addon: bool = True) -> AsyncIterator[Bench]:
    rules_dir = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules_dir)
    (rules_dir / "campaigns.yaml").write_text(campaigns_yaml, encoding="utf-8")
    clock = PinnedClock(at)
    async with run_simulator(products=30, users=10, orders=0, addon=addon) as sim:
        sim.state.clock = clock.time
        for pid in range(1, 11):
            sim.state.products[pid].category_ids = (CATEGORY_0100,)
        for pid in range(11, 21):
            sim.state.products[pid].category_ids = (CATEGORY_0200,)
        settings = Settings(data_dir=tmp_path / "data", rules_dir=rules_dir, cscart=sim.client_settings(),
                            log={"level": "WARNING"})
        store = await Store.open(settings.state_path)
        async with store.transaction() as tx:
            for pid, product in sim.state.products.items():
                await bindings.bind(tx, "cscart", "product", str(pid), "smile", "product", product.product_code)
            for uid in sim.state.users:
                await bindings.bind(tx, "cscart", "user", str(uid), "smile", "customer", f"{uid:06d}")
        wired = await wiring.build(settings, store)
        events = Recorder()
        dispatcher = Dispatcher(store, wired.sinks, settings.dispatch, clock=clock)
        wired.services.events = events
        context = JobContext(settings=settings, store=store, clock=clock,
                             wake_dispatcher=dispatcher.wake, services=wired.services)
        try:
            yield Bench(sim, settings, store, context, dispatcher, clock, events, campaigns_job(context))
        finally:
            await wired.aclose()
            await store.close()
