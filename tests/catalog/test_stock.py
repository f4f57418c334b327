"""The stock job end to end: generated SMILE 在庫 files in the inbox → the job → the outbox → the simulator."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from bridge import metrics
from bridge.domain.orders import Order, OrderLine, WorkflowState
from bridge.smile.reader import read_file
from bridge.store import Store
from bridge.store import orders as mirrored
from tests.catalog.conftest import MISSING_CODE, CatalogWorld, sim_product_id


def expected_amounts(world: CatalogWorld) -> dict[str, int]:
    """What CS-Cart must show: on-hand − allocated per code (one warehouse, no orders, no safety stock), ≥ 0."""
    levels = read_file(world.master_stock, "stock").records
    return {lv.product_code: max(0, int(lv.on_hand - lv.allocated)) for lv in levels}


def guard_value(name: str) -> float:
    return metrics.REGISTRY.get_sample_value(name) or 0.0


async def test_first_sync_binds_by_exact_code_and_writes_every_sku(world: CatalogWorld) -> None:
    world.deliver_stock()
    result = await world.run("stock")
    expected = expected_amounts(world)
    writes = world.stock_writes()
    in_cscart = {code: amount for code, amount in expected.items() if code != MISSING_CODE}
    assert writes == {sim_product_id(code): amount for code, amount in in_cscart.items()}
    assert all(world.cscart_amount(code) == amount for code, amount in in_cscart.items())
    assert result.read == len(expected) and result.enqueued == len(in_cscart)
    assert any(MISSING_CODE in note and "not in CS-Cart" in note for note in result.notes)
    bound = await world.bound("product")
    assert len(bound) == len(in_cscart) and all(bound[str(sim_product_id(c))] == c for c in in_cscart)
    assert not list(world.dirs.inbox.iterdir()), "the applied file and its sentinel leave the inbox"
    assert list(world.dirs.archive.rglob("stock_001.csv"))


async def test_only_changed_skus_are_written_and_an_identical_cycle_writes_nothing(world: CatalogWorld) -> None:
    world.deliver_stock()
    await world.run("stock")
    world.sim.requests.clear()
    before = expected_amounts(world)
    on_hand = {lv.product_code: int(lv.on_hand) for lv in read_file(world.master_stock, "stock").records}
    stocked = sorted(c for c, amount in before.items() if amount > 0 and c != MISSING_CODE)
    changes = {stocked[1]: on_hand[stocked[1]] + 10, stocked[4]: 0, stocked[7]: on_hand[stocked[7]] + 500}
    world.deliver_stock(changes)
    result = await world.run("stock")
    after = expected_amounts(world)
    assert all(after[code] != before[code] for code in changes)
    assert world.stock_writes() == {sim_product_id(code): after[code] for code in changes}
    assert result.changed == 3 and result.enqueued == 3
    assert not world.sim.requests.where(method="GET", entity="products"), "all codes bound: no listing"

    world.sim.requests.clear()
    world.deliver_stock()  # the same content again, under a new name
    again = await world.run("stock")
    assert world.product_writes() == [] and again.enqueued == 0
    idle = await world.run("stock")  # no new file: the last one is recomputed, nothing differs
    assert world.product_writes() == [] and idle.changed == 0 and idle.read > 0
    assert any("duplicate" in note for note in again.notes)


async def test_dry_run_prints_the_plan_and_writes_nothing(world: CatalogWorld) -> None:
    delivered = world.deliver_stock()
    result = await world.run("stock", dry_run=True)
    assert world.product_writes() == []
    assert result.changed > 0 and result.enqueued == 0 and result.plan
    assert delivered.exists() and delivered.with_name(delivered.name + ".done").exists(), "the file stays"
    store = await Store.open(world.settings.state_path)
    try:
        assert (await store.fetchone("SELECT COUNT(*) FROM outbox"))[0] == 0
        assert (await store.fetchone("SELECT COUNT(*) FROM bindings"))[0] == 0
        assert (await store.fetchone("SELECT COUNT(*) FROM smile_files"))[0] == 0
    finally:
        await store.close()
    real = await world.run("stock")
    assert real.changed == result.changed


async def test_guard_holds_a_file_that_zeroes_many_skus_until_forced(world: CatalogWorld) -> None:
    world.deliver_stock()
    await world.run("stock")
    world.sim.requests.clear()
    stocked = sorted(code for code, amount in expected_amounts(world).items() if amount > 0 and code != MISSING_CODE)
    zeroed = {code: 0 for code in stocked[: len(stocked) // 2]}
    tripped_before = guard_value("bridge_stock_guard_tripped_total")
    held_file = world.deliver_stock(zeroed)

    held = await world.run("stock")
    assert world.product_writes() == [] and held.enqueued == 0
    assert held_file.exists(), "a held file stays in the inbox"
    assert any("mass-change guard" in note for note in held.notes)
    assert any("--force" in note for note in held.notes)
    assert guard_value("bridge_stock_guard_holding") == 1
    again = await world.run("stock")
    assert again.enqueued == 0 and held_file.exists()
    assert guard_value("bridge_stock_guard_tripped_total") == tripped_before + 1, "one alert per held file"

    forced = await world.run("stock", force=True)
    assert world.stock_writes() == {sim_product_id(code): 0 for code in zeroed}
    assert forced.enqueued == len(zeroed) and not held_file.exists()
    assert guard_value("bridge_stock_guard_holding") == 0
    store = await Store.open(world.settings.state_path)
    try:
        actions = [row[0] for row in await store.fetchall("SELECT action FROM audit_log ORDER BY id")]
    finally:
        await store.close()
    assert actions.count("stock.guard_tripped") == 1 and "stock.applied" in actions


async def test_guard_holds_a_file_with_far_fewer_rows(world: CatalogWorld) -> None:
    world.deliver_stock()
    await world.run("stock")
    world.sim.requests.clear()
    rows = len(expected_amounts(world))
    short = world.deliver_stock(drop=rows // 5)
    held = await world.run("stock")
    assert held.enqueued == 0 and short.exists()
    assert any("rows" in note and "previous" in note for note in held.notes)


async def test_a_broken_file_goes_to_error_with_its_report_and_nothing_is_applied(world: CatalogWorld) -> None:
    world.deliver_stock()
    await world.run("stock")
    world.sim.requests.clear()
    broken = world.dirs.inbox / "stock_bad.csv"
    text = world.master_stock.read_bytes().decode("cp932").splitlines()
    first_code = text[1].split(",")[2]
    text[1] = text[1].replace(",", ",x", 4)  # shifts 現在庫数量 to a non-number on data line 1
    broken.write_bytes(("\r\n".join(text) + "\r\n").encode("cp932"))
    broken.with_name(broken.name + ".done").touch()
    result = await world.run("stock")
    assert world.product_writes() == [] and result.failed >= 1
    report = world.dirs.error / "stock_bad.csv.error.txt"
    assert report.exists() and "stock_bad.csv" in report.read_text(encoding="utf-8")
    assert first_code


async def test_unconfirmed_cscart_orders_come_off_the_amount(world: CatalogWorld) -> None:
    world.deliver_stock()
    await world.run("stock")
    world.sim.requests.clear()
    code, amount = next((c, a) for c, a in sorted(expected_amounts(world).items()) if a > 5 and c != MISSING_CODE)
    order = Order(order_id=900001, status="O", placed_at=datetime.now(UTC), updated_at=None, user_id=1,
                  email="buyer@example.jp", total=Decimal(300),
                  lines=(OrderLine(product_code=code, name="test", quantity=Decimal(3), unit_price=Decimal(100)),))
    store = await Store.open(world.settings.state_path)
    try:
        async with store.transaction() as tx:
            await mirrored.upsert(tx, order, initial_state=WorkflowState.RECEIVED)
    finally:
        await store.close()
    await world.run("stock")  # no new file: the archived one is recomputed with the open order
    assert world.stock_writes() == {sim_product_id(code): amount - 3}


async def test_mapped_warehouses_send_one_amount_per_cscart_warehouse(tmp_path, world: CatalogWorld) -> None:  # type: ignore[no-untyped-def]
    import shutil as sh
    from pathlib import Path

    from bridge.smile.generator import generate
    from tests.catalog.conftest import world_settings

    rules = tmp_path / "mapped_rules"
    sh.copytree(Path(__file__).resolve().parents[2] / "rules", rules)
    (rules / "stock.yaml").write_text(
        'version: 1\nsafety_stock: {default: 1}\nwarehouses: {mode: map, map: {"000001": 7, "000002": 9}}\n',
        encoding="utf-8")
    world.made = generate(tmp_path / "two_warehouses", products=12, warehouses=2, seed=4)
    world.settings = world_settings(world.root, world.sim, rules_dir=rules)
    world.deliver_stock()
    await world.run("stock")
    levels = read_file(world.master_stock, "stock").records
    bodies = {pid: body for pid, body in world.product_writes() if "warehouses" in body}
    code = next(c for c in sorted({lv.product_code for lv in levels}) if c != MISSING_CODE)
    per = {lv.warehouse_code: max(0, int(lv.on_hand - lv.allocated)) for lv in levels if lv.product_code == code}
    first = max(0, per["000001"] - 1)  # safety stock comes off the first warehouse of the map first
    second = per["000002"] - max(0, 1 - per["000001"])
    body = bodies[sim_product_id(code)]
    assert body["warehouses"] == {"7": first, "9": max(0, second)}
    assert body["amount"] == first + max(0, second), "the total as amount, which CS-Cart's admin shows"
