"""The shipping job on the simulator: the orders Harness (real simulator, store, rules, orders job) plus
rules/shipping.yaml and a clock the test moves."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bridge.dispatch import Dispatcher
from bridge.domain.time import JST
from bridge.store import orders as mirror
from bridge.sync import JobContext, RunOptions
from bridge.sync.registry import shipping_job
from bridge.sync.shipping.job import ShippingJob
from tests.carriers.samples import SHIPPED_RULES
from tests.foundation.fakes import PinnedClock
from tests.orders.conftest import Harness, harness_for


@dataclass
class Shipping:
    orders: Harness
    clock: PinnedClock
    job: ShippingJob
    dispatcher: Dispatcher
    context: JobContext  # what the job was built from (tests that swap a service build it again)

    @property
    def data(self) -> Path:
        return self.orders.settings.data_dir

    @property
    def inbox(self) -> Path:
        return self.data / "carriers" / "inbox"

    def label_files(self, carrier: str = "yamato") -> list[Path]:
        folder = self.data / "carriers" / carrier
        return sorted(folder.glob("*.csv")) if folder.is_dir() else []

    async def instruct(self, *lines: tuple[int, int], shipping_id: int = 1, **options: Any) -> int:
        """An order placed in the storefront and taken to 出荷指示 by the real orders job."""
        order_id = await self.orders.place(lines=list(lines) or None, **options)
        self.orders.sim.state.orders[order_id].shipping_id = shipping_id  # the shopper's shipping method
        await self.orders.cycle()
        return order_id

    async def run(self, **options: Any) -> Any:
        result = await self.job.run(RunOptions(**options))
        await self.dispatcher.drain_all()
        return result

    async def at(self, moment: datetime) -> Any:
        self.clock.at = moment
        return await self.run()

    def drop(self, name: str, text: str, encoding: str = "utf-8") -> Path:
        """A result file delivered to the inbox, complete (NAME.done beside it)."""
        self.inbox.mkdir(parents=True, exist_ok=True)
        path = self.inbox / name
        path.write_bytes(text.encode(encoding))
        path.with_name(name + ".done").write_text("")
        return path

    async def state(self, order_id: int) -> mirror.WorkflowState:
        return (await self.orders.state(order_id)).workflow_state

    def customer_mails(self, order_id: int) -> list[Any]:
        return [n for n in self.orders.status_writes(order_id) if n.to_customer]

    def shipments(self, order_id: int) -> list[Any]:
        return [s for s in self.orders.sim.state.shipments.values() if s.order_id == order_id]


@asynccontextmanager
async def shipping_for(tmp_path: Path, shipping_yaml: str | None = None, **settings: Any) -> AsyncIterator[Shipping]:
    rules = tmp_path / "rules"
    rules.mkdir(parents=True, exist_ok=True)
    if shipping_yaml is None:
        shutil.copy(SHIPPED_RULES, rules / "shipping.yaml")
    else:
        (rules / "shipping.yaml").write_text(shipping_yaml, encoding="utf-8")
    async with harness_for(tmp_path, **settings) as harness:
        # The mirror stamps transitions with the wall clock, so the test's clock starts there and moves forward.
        clock = PinnedClock(datetime.now(JST))
        # Ops are due at the job clock's time: this dispatcher shares the clock, as the daemon's does.
        dispatcher = Dispatcher(harness.store, harness.wired.sinks, harness.settings.dispatch, clock=clock)
        ctx = JobContext(settings=harness.settings, store=harness.store, clock=clock,
                         wake_dispatcher=dispatcher.wake, services=harness.context.services)
        yield Shipping(harness, clock, shipping_job(ctx), dispatcher, ctx)


def later(shipping: Shipping, **delta: float) -> datetime:
    return shipping.clock.at + timedelta(**delta)


def past_wall_clock(shipping: Shipping, **delta: float) -> datetime:
    """``delta`` after whichever is later, the test clock or the wall clock: the mirror stamps workflow moves with
    the wall clock, which runs ahead of the test clock by however long the steps took on a loaded machine."""
    return max(shipping.clock.at, datetime.now(JST)) + timedelta(**delta)
