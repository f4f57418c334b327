"""The events the jobs cause reach a real mosquitto from the code paths that cause them: the real stock, products and
orders jobs, against the CS-Cart simulator, wired as the daemon wires them (``services.events`` from the wiring).

The daemon's own events (job_failed, job_recovered, dead_letter, sync_requested) are covered in test_mqtt.py.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any

from bridge import metrics, wiring
from bridge.config import MqttSettings, Settings
from bridge.cscart.simulator import run_simulator
from bridge.dispatch import Dispatcher
from bridge.domain.time import Clock
from bridge.events import MqttEvents
from bridge.smile.generator import generate, rewrite_stock
from bridge.smile.records import SalesSlipLine
from bridge.smile.writer import write_records
from bridge.store import Store
from bridge.sync import JobContext, JobResult, RunOptions, registered_jobs
from tests.ops.conftest import Broker
from tests.ops.test_mqtt import WAIT, listener, next_event
from tests.orders.conftest import harness_for


def mqtt_settings(broker: Broker) -> dict[str, Any]:
    return {"host": "127.0.0.1", "port": broker.port, "client_id": "bridge-jobs", "reconnect_initial": 0.05,
            "reconnect_max": 0.2}


@asynccontextmanager
async def running(events: Any) -> AsyncIterator[MqttEvents]:
    """The wiring's MQTT publisher, connected (in the daemon this is one of the wiring's background tasks)."""
    assert isinstance(events, MqttEvents), "mqtt.host is set: the wiring must provide the MQTT publisher"
    task = asyncio.create_task(events.run())
    try:
        await asyncio.wait_for(events.connected.wait(), WAIT)
        yield events
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@asynccontextmanager
async def catalog_jobs(tmp_path: Path, broker: Broker) -> AsyncIterator[tuple[Settings, Callable[[str], Awaitable[JobResult]], Any]]:
    """Generated SMILE files, a simulator whose product codes match them, and a factory for the real jobs."""
    made = generate(tmp_path / "smile_export", products=40, customers=3, seed=5)
    async with run_simulator(products=41, users=3, orders=0, seed=5) as sim:
        settings = Settings(data_dir=tmp_path / "data", cscart=sim.client_settings(), http={"port": 0},
                            log={"level": "WARNING", "format": "json"}, mqtt=mqtt_settings(broker))
        store = await Store.open(settings.state_path)
        wired = await wiring.build(settings, store)
        dispatcher = Dispatcher(store, wired.sinks, settings.dispatch, clock=Clock())
        context = JobContext(settings=settings, store=store, clock=Clock(), wake_dispatcher=dispatcher.wake,
                             services=wired.services)

        async def run(name: str) -> JobResult:
            """``bridge sync NAME``: one run, then deliver what it enqueued (the ledger learns what CS-Cart has)."""
            result = await registered_jobs()[name].factory(context).run(RunOptions())
            await dispatcher.drain_all()
            return result

        try:
            async with running(wired.services.events):
                yield settings, run, made
        finally:
            await wired.aclose()
            await store.close()


def deliver(inbox: Path, name: str, content: bytes | Path) -> Path:
    """A file in the SMILE inbox with its NAME.done sentinel, as SMILE's export job leaves it."""
    inbox.mkdir(parents=True, exist_ok=True)
    target = inbox / name
    if isinstance(content, Path):
        shutil.copy(content, target)
    else:
        target.write_bytes(content)
    target.with_name(name + ".done").touch()
    return target


async def test_stock_job_publishes_file_quarantined_and_stock_guard_tripped(tmp_path: Path, broker: Broker) -> None:
    async with catalog_jobs(tmp_path, broker) as (settings, run, made), listener(broker) as sub:
        inbox = settings.smile.dirs(settings.data_dir).inbox

        deliver(inbox, "stock_001.csv", b"\x82\xa0 not a SMILE stock file\r\n1,2\r\n")
        await run("stock")
        quarantined = await next_event(sub, "file_quarantined")
        assert quarantined["file"] == "stock_001.csv" and quarantined["layout"] == "stock"
        assert "problem(s)" in quarantined["reason"] and quarantined["reason"].endswith(".error.txt")
        assert quarantined["source"] == "bridge-jobs"

        deliver(inbox, "stock_002.csv", made.paths["stock"])
        first = await run("stock")
        assert first.changed > 0, first.notes
        codes = sorted(level.product_code for level in made.stock)
        rewrite_stock(made.paths["stock"], dict.fromkeys(codes, 0))  # a broken export: everything zero
        deliver(inbox, "stock_003.csv", made.paths["stock"])
        held = await run("stock")
        assert held.enqueued == 0 and (inbox / "stock_003.csv").exists()
        tripped = await next_event(sub, "stock_guard_tripped")
        # the simulator lacks one code (10000000), so the guard counts the 39 products both sides know
        assert tripped["file"] == "stock_003.csv" and tripped["total"] == len(codes) - 1
        assert tripped["changed"] == held.changed > 0
        assert set(tripped["threshold"]) == {"zero_share", "min_row_ratio"}


async def test_products_job_publishes_file_quarantined(tmp_path: Path, broker: Broker) -> None:
    async with catalog_jobs(tmp_path, broker) as (settings, run, _made), listener(broker) as sub:
        deliver(settings.smile.dirs(settings.data_dir).inbox, "products_001.csv", b"only,three,columns\r\n")
        await run("products")
        event = await next_event(sub, "file_quarantined")
        assert event["file"] == "products_001.csv" and event["layout"] == "products"
        assert (settings.smile.dirs(settings.data_dir).error / "products_001.csv.error.txt").exists()


async def test_orders_job_publishes_state_changes_and_read_back_quarantine(tmp_path: Path, broker: Broker) -> None:
    async with harness_for(tmp_path, mqtt=mqtt_settings(broker)) as harness, \
            running(harness.wired.services.events) as mqtt, listener(broker) as sub:
        harness.context.services.events = mqtt  # the orders tests record events instead; here they go to MQTT
        await harness.credit("100001", None)
        order_id = await harness.place(user_id=1, lines=[(3, 2)])
        await harness.cycle()
        changes = []
        while not changes or changes[-1]["to_state"] != "shipping_instructed":
            changes.append(await next_event(sub, "order_state_changed", order_id=order_id))
        assert all(change["reason"] for change in changes)
        # one event per move in the mirror's history (an order's first state, when it appears, is not a move)
        moves = [(step.from_state.value, step.to_state.value) for step in await harness.history(order_id)
                 if step.from_state is not None]
        assert [(change["from_state"], change["to_state"]) for change in changes] == moves

        quarantined, processed = sample("quarantined"), sample("processed")
        deliver(harness.inbox, "order_lines_001.csv", b"not,a,read-back\r\n")
        await harness.cycle()
        event = await next_event(sub, "file_quarantined")
        assert event["file"] == "order_lines_001.csv" and event["layout"] == "order_lines"
        assert event["reason"].endswith("order_lines_001.csv.error.txt")
        assert sample("quarantined") == quarantined + 1

        # SMILE imported the order: its 受注明細 export confirms it (and counts as a processed SMILE file)
        line = SalesSlipLine(slip_date=date(2026, 11, 24), slip_no="000123", serial="55", line_no=1,
                             customer_code="100001", order_ref=str(order_id))
        harness.inbox.mkdir(parents=True, exist_ok=True)
        write_records(harness.inbox / "order_lines_002.csv", "order_lines", [line],
                      layout=harness.settings.smile.layout("order_lines"))
        (harness.inbox / "order_lines_002.csv.done").touch()
        await harness.cycle()
        assert (await harness.state(order_id)).smile_slip_no == "000123"
        assert sample("processed") == processed + 1 and sample("quarantined") == quarantined + 1


def sample(which: str) -> float:
    name = f"bridge_smile_files_{which}_total"
    return metrics.REGISTRY.get_sample_value(name, {"layout": "order_lines"}) or 0.0



async def test_shipping_job_publishes_result_file_quarantine_and_state_changes(tmp_path: Path, broker: Broker) -> None:
    from bridge.sync.registry import shipping_job
    from tests.carriers.e2e import shipping_for

    async with shipping_for(tmp_path) as shipping, \
            running(MqttEvents(MqttSettings(**mqtt_settings(broker)))) as mqtt, listener(broker) as sub:
        shipping.orders.context.services.events = mqtt  # the services the shipping job shares with orders
        shipping.job = shipping_job(shipping.context)  # built again with them, as the daemon builds it at start
        order_id = await shipping.instruct((1, 1))
        await shipping.run()
        shipping.drop("result_bad.csv", "order_no,delivery_no,delivery_date\n999999,389711074012,\n")
        await shipping.run()
        event = await next_event(sub, "file_quarantined", file="result_bad.csv")
        assert event["layout"] == "carrier_result" and event["reason"].endswith("result_bad.csv.error.txt")

        shipping.drop("result_ok.csv", f"order_no,delivery_no,delivery_date\n{order_id},389711074012,\n")
        await shipping.run()
        shipped = await next_event(sub, "order_state_changed", order_id=order_id, to_state="shipped")
        assert shipped["from_state"] == "shipping_instructed"
