"""The drift check: a hand edit in CS-Cart is found, reported and written back; and the stock plan's invariants."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.domain.catalog import StockLevel
from bridge.rules.stock import StockRules
from bridge.store import Store, ledger
from bridge.sync.catalog import index as catalog_index
from bridge.sync.catalog.stock import ENTITY, TARGET, StockJob, _by_code
from tests.catalog.conftest import MISSING_CODE, CatalogWorld, sim_product_id


async def test_a_hand_edit_in_cscart_is_reported_and_repaired(world: CatalogWorld) -> None:
    world.deliver_stock()
    await world.run("stock")
    code = sorted({lv.product_code for lv in world.made.stock} - {MISSING_CODE})[3]
    product = world.sim.state.products[sim_product_id(code)]
    written = product.amount
    product.amount = written + 42  # someone edits the amount in CS-Cart's admin
    world.sim.requests.clear()

    dry = await world.run("drift", dry_run=True)
    assert dry.changed == 1 and world.product_writes() == [] and product.amount == written + 42

    result = await world.run("drift")
    assert result.changed == 1 and result.enqueued == 1
    assert any(code in note and str(written + 42) in note for note in result.notes)
    assert world.stock_writes() == {sim_product_id(code): written}
    assert product.amount == written
    store = await Store.open(world.settings.state_path)
    try:
        actions = [row[0] for row in await store.fetchall("SELECT action FROM audit_log")]
    finally:
        await store.close()
    assert "stock.drift" in actions

    world.sim.requests.clear()
    clean = await world.run("drift")
    assert clean.changed == 0 and world.product_writes() == []
    follow_up = await world.run("stock")  # the stock job agrees: nothing left to write
    assert follow_up.changed == 0


quantities = st.integers(min_value=0, max_value=5000)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.dictionaries(st.sampled_from([f"P{n:03d}" for n in range(30)]),
                         st.tuples(quantities, quantities, st.integers(0, 50)), min_size=1),
    previous=st.dictionaries(st.sampled_from([f"P{n:03d}" for n in range(30)]), st.integers(0, 5000)),
    safety=st.integers(0, 20),
)
async def test_stock_plan_never_negative_and_one_change_per_differing_sku(
    rows: dict[str, tuple[int, int, int]], previous: dict[str, int], safety: int
) -> None:
    levels = [StockLevel(code, "000001", Decimal(on_hand), Decimal(allocated)) for code, (on_hand, allocated, _)
              in rows.items()]
    unconfirmed = {code: Decimal(open_qty) for code, (_, _, open_qty) in rows.items()}
    rules = StockRules.model_validate({"safety_stock": {"default": safety}})
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(Path(tmp) / "state.sqlite3")
        try:
            ids = {code: n + 1 for n, code in enumerate(sorted(rows))}
            async with store.transaction() as tx:
                for code, product_id in ids.items():
                    await catalog_index.bind_created(tx, code, product_id)
                for code, amount in previous.items():
                    if code in ids:
                        value = {"product_id": ids[code], "amount": amount}
                        await ledger.record(tx, TARGET, ENTITY, code, ledger.canonical_json(value),
                                            ledger.value_hash(value))
                await _open_orders(tx, unconfirmed)
            job = StockJob.__new__(StockJob)
            index = catalog_index.CatalogIndex(product_ids=ids)
            async with store.transaction() as tx:
                computed = await job._compute(tx, _by_code(levels), index, rules, guarded=False)
        finally:
            await store.close()
    amounts = {change.key: change.new["amount"] for change in computed.plan.changes}
    assert all(amount >= 0 for amount in amounts.values())
    assert len(amounts) == len(computed.plan.changes), "one change per SKU"
    for code, (on_hand, allocated, open_qty) in rows.items():
        want = max(0, on_hand - allocated - open_qty - safety)
        if previous.get(code) == want:
            assert code not in amounts
        else:
            assert amounts[code] == want


async def _open_orders(tx, unconfirmed: dict[str, Decimal]) -> None:  # type: ignore[no-untyped-def]
    from bridge.domain.orders import Order, OrderLine, WorkflowState
    from bridge.store import orders as mirrored

    lines = tuple(OrderLine(product_code=code, name=code, quantity=qty, unit_price=Decimal(1))
                  for code, qty in unconfirmed.items() if qty)
    if lines:
        order = Order(order_id=1, status="O", placed_at=datetime.now(UTC), updated_at=None, user_id=1,
                      email="b@example.jp", total=Decimal(1), lines=lines)
        await mirrored.upsert(tx, order, initial_state=WorkflowState.RECEIVED)
