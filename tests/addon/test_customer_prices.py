"""``bridge sync customer_prices``: SMILE 得意先別単価 → the add-on's customer price table, through the batch API."""

from __future__ import annotations

import json

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from bridge.cli.sync_cmd import _run
from bridge.config import Settings
from bridge.cscart.simulator import Simulator, run_simulator
from bridge.domain.catalog import CustomerPrice
from bridge.rules.loader import load_rules
from bridge.smile.generator import layouts_for
from bridge.smile.writer import write_records
from bridge.store import Store, bindings
from bridge.sync.orders.credit import set_credit
from bridge.sync.orders.delivery import delivery_methods
from bridge.sync.catalog.customer_prices import surcharge_settings
from bridge.wiring import rule_files


def deliver(settings: Settings, number: int, records: list[CustomerPrice]) -> None:
    inbox = settings.smile.dirs(settings.data_dir).inbox
    target = inbox / f"customer_prices_{number:03d}.csv"
    write_records(target, "customer_prices", records, layout=layouts_for(settings.smile, None)["customer_prices"])
    target.with_name(target.name + ".done").touch()


async def setup(tmp_path: Path, sim: Simulator) -> Settings:
    settings = Settings(data_dir=tmp_path / "data", cscart=sim.client_settings(), log={"level": "WARNING"})
    settings.smile.dirs(settings.data_dir).create()
    store = await Store.open(settings.state_path)
    async with store.transaction() as tx:
        for user_id in (2, 3):
            await bindings.bind(tx, "cscart", "user", str(user_id), "smile", "customer", f"00000{user_id}")
        for product_id in (4, 5):
            code = sim.state.products[product_id].product_code
            await bindings.bind(tx, "cscart", "product", str(product_id), "smile", "product", code)
        await set_credit(tx, "000002", Decimal(100000), Decimal("5000"))  # SMILE's 売掛残, kept by the orders job
    await store.close()
    return settings


def price(customer: str, product: str, amount: str, quantity: int = 1, valid_from: date | None = None,
          valid_to: date | None = None) -> CustomerPrice:
    return CustomerPrice(customer, product, Decimal(amount), Decimal(quantity), valid_from, valid_to)


async def test_customer_prices_reach_the_addon_once_and_leave_when_smile_drops_them(tmp_path: Path) -> None:
    async with run_simulator(products=10, users=5, orders=0, addon=True) as sim:
        settings = await setup(tmp_path, sim)
        p4, p5 = sim.state.products[4].product_code, sim.state.products[5].product_code
        today = date.today()
        deliver(settings, 1, [
            price("000002", p4, "650"), price("000002", p4, "600", quantity=10, valid_from=today),
            price("000003", p5, "1200.5"), price("000003", p5, "999", valid_from=today - timedelta(days=9), valid_to=today - timedelta(days=2)),
            price("000009", p4, "1"),  # no CS-Cart customer bound to this code
        ])
        result = await _run(settings, "customer_prices", False, False)
        # 2 price pairs, the surcharge, delivery-date and mail settings, the exposure of both bound customers
        assert (result.read, result.changed, result.enqueued, result.failed) == (5, 2, 7, 1)
        # the customer mails' carriers (shipping.yaml tracking_urls) and the cancelled letter reach the add-on
        carriers = json.loads(sim.addon.params["mail_carriers"])
        assert carriers["yamato"] == {"name": "ヤマト運輸", "url": load_rules(
            settings.rules_dir, rule_files()).shipping.tracking_urls["yamato"]}
        assert json.loads(sim.addon.params["mail_statuses"]) == {"I": "cancelled"}
        # rules/shipping.yaml's お届け希望日 settings reach the add-on's checkout (issue 15 defect 4)
        methods = json.loads(sim.addon.params["delivery_methods"])
        assert sim.addon.params["delivery_source"] == "smile_bridge"
        assert methods == delivery_methods(load_rules(settings.rules_dir, rule_files()).shipping)
        assert methods["1"]["slots"] == ["指定なし", "午前中", "14時～16時", "16時～18時", "18時～20時", "19時～21時"]
        assert "3" not in methods  # ネコポス: a post-box service, no date or time
        assert [sim.state.users[u].extra["smile_credit_exposure"] for u in (2, 3)] == ["5000.00", "0.00"]
        # pricing.yaml's 直送 surcharge reaches the add-on's checkout settings
        pricing = load_rules(settings.rules_dir, rule_files()).pricing
        assert {k: sim.addon.params[k] for k in ("direct_ship_rate", "direct_ship_rounding", "direct_ship_unit")} \
            == surcharge_settings(pricing)["values"]
        assert Decimal(sim.addon.params["direct_ship_rate"]) == pricing.direct_ship.surcharge_percent
        assert any("000009/" in note for note in result.notes)
        assert sim.addon.customer_prices == {
            (2, 4): [{"min_quantity": 1, "price": "650", "valid_from": "", "valid_to": ""},
                     {"min_quantity": 10, "price": "600", "valid_from": today.isoformat(), "valid_to": ""}],
            (3, 5): [{"min_quantity": 1, "price": "1200.5", "valid_from": "", "valid_to": ""}],  # expired row gone
        }
        assert len(sim.requests.where(method="POST", entity="smile_bridge_batch")) == 1
        again = await _run(settings, "customer_prices", False, False)  # the same file (archived): nothing to do
        assert again.enqueued == 0 and len(sim.requests.where(entity="smile_bridge_batch")) == 1
        deliver(settings, 2, [price("000003", p5, "1100")])
        store = await Store.open(settings.state_path)
        async with store.transaction() as tx:
            await set_credit(tx, "000002", Decimal(100000), Decimal("7500.5"))
        await store.close()
        third = await _run(settings, "customer_prices", False, False)
        assert third.enqueued == 3  # two pairs changed (one deleted), one exposure
        assert sim.state.users[2].extra["smile_credit_exposure"] == "7500.50"
        assert sim.addon.customer_prices == {(3, 5): [{"min_quantity": 1, "price": "1100", "valid_from": "",
                                                       "valid_to": ""}]}


async def test_without_the_addon_nothing_is_written(tmp_path: Path) -> None:
    async with run_simulator(products=10, users=5, orders=0) as sim:
        settings = await setup(tmp_path, sim)
        deliver(settings, 1, [price("000002", sim.state.products[4].product_code, "650")])
        result = await _run(settings, "customer_prices", False, False)
        assert result.enqueued == 0 and any("not installed" in note for note in result.notes)
        assert sim.requests.where(method="POST") == []
