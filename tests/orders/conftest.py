"""A real simulator, a real store, real rules files and the real orders job, wired as the daemon wires them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bridge import wiring
from bridge.config import Settings
from bridge.cscart.sim.seed import ORDER_FLOW_YAML as SIMULATOR_ORDER_FLOW
from bridge.cscart.simulator import FaultConfig, RequestLog, SimState, Simulator, make_app, seed_state
from bridge.dispatch import Dispatcher
from bridge.domain.time import Clock
from bridge.store import Store, bindings
from bridge.store import orders as mirror
from bridge.sync import JobContext, RunOptions
from bridge.sync.orders.credit import set_credit
from bridge.sync.orders.job import OrdersJob
from bridge.sync.orders.settings import OrdersSettings
from bridge.sync.registry import orders_job

ORDER_FLOW_YAML = SIMULATOR_ORDER_FLOW + """\
gating:
  cod: {max_total: 300000}
  direct_ship:
    payment_kinds: [on_account, prepaid]
    products: listed
    product_prefixes: ["1000000"]   # products 1–9 may ship direct
    excluded_prefectures: [沖縄県]
"""

PRICING_YAML = """\
version: 1
direct_ship:
  surcharge_percent: 10
  slip_line: {item_code: DS-01, item_name: 直送手数料, tax_class: "1"}
shipping_fee: {item_code: SF-01, item_name: 送料, tax_class: "0"}
payment_fee: {item_code: CF-01, item_name: 代引手数料, tax_class: "1"}
"""

ADDON_ORDER_COLUMNS = ("smile_direct_ship", "smile_direct_ship_surcharge", "smile_direct_ship_recipient",
                       "smile_ship_to_code", "smile_delivery_date", "smile_delivery_slot")


def addon_columns_middleware(columns: dict[int, dict[str, str]]) -> Any:
    """What the installed add-on adds to order rows (its get_orders hook): the smile_* columns per order."""

    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        response = await handler(request)
        if request.method != "GET" or "/orders" not in request.path or not isinstance(response, web.Response):
            return response
        try:
            data = json.loads(response.body)
        except (TypeError, ValueError):
            return response
        rows = data.get("orders") if isinstance(data, dict) else None
        for row in rows if isinstance(rows, list) else [data] if isinstance(data, dict) else []:
            if isinstance(row, dict) and "order_id" in row:
                extra = columns.get(int(row["order_id"]), {})
                row.update({key: extra.get(key, "N" if key == "smile_direct_ship" else "")
                            for key in ADDON_ORDER_COLUMNS})
                if extra.get("smile_direct_ship_surcharge") and "total" in row:  # the add-on adds it to the total
                    row["total"] = f"{Decimal(str(row['total'])) + Decimal(extra['smile_direct_ship_surcharge']):.2f}"
        return web.json_response(data, status=response.status)

    return middleware


class RecordingEvents:
    """``services.events``: keeps what the job publishes (the MQTT publisher's interface)."""

    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []

    async def publish(self, kind: str, payload: Mapping[str, Any]) -> None:
        self.published.append((kind, dict(payload)))

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [payload for published, payload in self.published if published == kind]


@dataclass
class Harness:
    sim: Simulator
    store: Store
    settings: Settings
    context: JobContext
    dispatcher: Dispatcher
    addon: dict[int, dict[str, str]]
    wired: wiring.Wiring

    @property
    def outbox(self) -> Path:
        return self.settings.data_dir / "smile" / "outbox"

    @property
    def inbox(self) -> Path:
        return self.settings.data_dir / "smile" / "inbox"

    orders: OrdersSettings = field(default_factory=lambda: OrdersSettings(initial_lookback_hours=24 * 365 * 20))

    def job(self) -> OrdersJob:
        return orders_job(self.context, settings=self.orders)  # binds the wake-up hook as the daemon does

    async def run(self, **options: Any) -> Any:
        return await self.job().run(RunOptions(**options))

    async def cycle(self) -> Any:
        """One orders run, then deliver the status writes it enqueued."""
        result = await self.run()
        await self.dispatcher.drain_all()
        return result

    async def place(self, user_id: int = 1, lines: list[tuple[int, int]] | None = None, *, payment_id: int = 1,
                    status: str = "O", timestamp: int | None = None, direct_ship: Mapping[str, str] | None = None,
                    customer: Mapping[str, str] | None = None, notes: str = "") -> int:
        """A shopper checks out through the simulator's storefront endpoint."""
        body: dict[str, Any] = {"user_id": user_id, "payment_id": payment_id, "shipping_id": 1, "status": status,
                                "lines": [{"product_id": p, "amount": a} for p, a in (lines or [(1, 2)])]}
        if timestamp is not None:
            body["timestamp"] = timestamp
        if notes:
            body["notes"] = notes
        if customer:
            body["customer"] = dict(customer)
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{self.sim.url}/_sim/orders", json=body) as response:
                assert response.status == 201, await response.text()
                order_id = int((await response.json())["order_id"])
        if direct_ship:
            self.addon[order_id] = {"smile_direct_ship": "Y", **direct_ship}
        return order_id

    async def set_status(self, order_id: int, letter: str) -> None:
        """Staff change the status in the CS-Cart admin."""
        self.sim.state.change_order_status(self.sim.state.orders[order_id], letter)

    def touch(self, order_id: int) -> None:
        """Staff save the order in the admin (CS-Cart bumps updated_at)."""
        self.sim.state.orders[order_id].updated_at = self.sim.state.now()

    @property
    def events(self) -> RecordingEvents:
        return self.context.services.events

    def status_writes(self, order_id: int) -> list[Any]:
        """CS-Cart's record of status changes of one order (with the notify flags the bridge sent)."""
        return [n for n in self.sim.state.notifications if n.order_id == order_id]

    async def flags(self, order_id: int) -> dict[str, str]:
        """Open staff flags of an order: kind → detail."""
        rows = await self.store.fetchall(
            "SELECT kind, detail FROM order_flags WHERE order_id = ? AND resolved_at IS NULL", (order_id,))
        return {row[0]: row[1] for row in rows}

    async def state(self, order_id: int) -> mirror.MirroredOrder:
        async with self.store.transaction() as tx:
            found = await mirror.get(tx, order_id)
        assert found is not None, f"order {order_id} is not mirrored"
        return found

    async def history(self, order_id: int) -> list[mirror.Transition]:
        async with self.store.transaction() as tx:
            return await mirror.history(tx, order_id)

    async def credit(self, code: str, limit: Decimal | None, receivable: Decimal = Decimal(0)) -> None:
        async with self.store.transaction() as tx:
            await set_credit(tx, code, limit, receivable)

    async def credit_file(self, code: str, limit: Decimal | None, receivable: Decimal, *, as_of: Any) -> None:
        """SMILE's 得意先マスター as the customers job records it: 与信限度額 and 売掛残 as of the file's date."""
        async with self.store.transaction() as tx:
            await set_credit(tx, code, limit, receivable, as_of)

    def files(self) -> list[Path]:
        return sorted(self.outbox.glob("juchu_*.csv"))

    def exported_ids(self) -> list[int]:
        """オーダー№ of every row in every 受注 file in the outbox (duplicates kept)."""
        ids = []
        for path in self.files():
            lines = path.read_bytes().decode("cp932").splitlines()[1:]
            orders = {(line.split(",")[1], line.split(",")[14]) for line in lines}
            ids += sorted(int(order_no) for _, order_no in orders)
        return ids


async def bind_catalog(store: Store, sim: Simulator, users: range = range(1, 20)) -> None:
    """SMILE knows every product and users 1–19 (100001…); user 20 has no 得意先コード yet."""
    async with store.transaction() as tx:
        for product in sim.state.products.values():
            await bindings.bind(tx, "cscart", "product", str(product.product_id), "smile", "product",
                                product.product_code)
        for user_id in users:
            await bindings.bind(tx, "cscart", "user", str(user_id), "smile", "customer", f"{100000 + user_id}")


def write_rules(directory: Path, order_flow: str = ORDER_FLOW_YAML, pricing: str = PRICING_YAML) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "order_flow.yaml").write_text(order_flow, encoding="utf-8")
    (directory / "pricing.yaml").write_text(pricing, encoding="utf-8")
    return directory


def make_settings(tmp_path: Path, sim: Simulator, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data", "rules_dir": write_rules(tmp_path / "rules"),
        "cscart": sim.client_settings(hmac_secret="s3cret").model_dump(),
    }
    values["cscart"]["api_key"] = sim.api_key
    values["cscart"]["hmac_secret"] = "s3cret"
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness_for(tmp_path) as built:
        yield built


@asynccontextmanager
async def addon_simulator(addon: dict[int, dict[str, str]], *, products: int = 50, users: int = 20,
                          seed: int = 7) -> AsyncIterator[Simulator]:
    """The simulator with the add-on's order columns (``addon[order_id]``) on every order it serves."""
    state = seed_state(SimState(), products=products, users=users, orders=0, seed=seed)
    log, faults = RequestLog(), FaultConfig(seed=seed)
    app = make_app(state, faults, log)
    app.middlewares.append(addon_columns_middleware(addon))
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield Simulator(url=f"http://{host}:{port}", state=state, requests=log, faults=faults, runner=runner)
    finally:
        await runner.cleanup()


def harness_for(tmp_path: Path, **settings: Any) -> Any:
    @asynccontextmanager
    async def build() -> AsyncIterator[Harness]:
        addon: dict[int, dict[str, str]] = {}
        async with addon_simulator(addon) as sim:
            store = await Store.open(tmp_path / "state.sqlite3")
            try:
                conf = make_settings(tmp_path, sim, **settings)
                wired = await wiring.build(conf, store)
                dispatcher = Dispatcher(store, wired.sinks, conf.dispatch, clock=Clock())
                context = JobContext(settings=conf, store=store, clock=Clock(), wake_dispatcher=dispatcher.wake,
                                     services=replace(wired.services, events=RecordingEvents()))
                await bind_catalog(store, sim)
                yield Harness(sim, store, conf, context, dispatcher, addon, wired)
                await wired.aclose()
            finally:
                await store.close()

    return build()


__all__ = ["Harness", "OrdersSettings", "RecordingEvents", "harness_for"]
