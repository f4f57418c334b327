"""Issue 13 item 7: a product the catalog job has not bound *yet* (its run delayed by faults) makes the order wait in
受注 (no 保留, no mail); once bound it goes straight to 出荷指示. A product still unbound after a catalog run that
succeeded since the order was placed is held as unknown, as before."""

from __future__ import annotations

from datetime import timedelta

from bridge.domain.orders import WorkflowState as S
from bridge.domain.time import iso, utcnow
from bridge.store import Store, bindings
from tests.orders.conftest import Harness, harness  # noqa: F401 - a fixture


async def catalog_succeeded(store: Store, seconds_ago: float) -> None:
    async with store.transaction() as tx:
        await tx.execute("INSERT INTO job_state (job, last_success_at, runs, failures) VALUES ('stock', ?, 1, 0) "
                         "ON CONFLICT (job) DO UPDATE SET last_success_at = excluded.last_success_at",
                         (iso(utcnow() - timedelta(seconds=seconds_ago)),))


async def test_an_order_waits_for_a_late_binding_instead_of_a_hold_and_mail(harness: Harness) -> None:  # noqa: F811
    await catalog_succeeded(harness.store, seconds_ago=600)  # the stock job last bound 10 min ago, then faults
    async with harness.store.transaction() as tx:
        await tx.execute("DELETE FROM bindings WHERE id_a = '11' AND entity_a = 'product'")
    order_id = await harness.place(user_id=10, lines=[(11, 1), (3, 1)])
    for _ in range(2):
        await harness.cycle()
        assert (await harness.state(order_id)).workflow_state is S.RECEIVED
    assert harness.status_writes(order_id) == [] or all(w.status == "O" for w in harness.status_writes(order_id))
    async with harness.store.transaction() as tx:  # the catalog job gets through and binds it
        await bindings.bind(tx, "cscart", "product", "11", "smile", "product", "10000011")
    await catalog_succeeded(harness.store, seconds_ago=0)
    await harness.cycle()
    assert (await harness.state(order_id)).workflow_state is S.SHIPPING_INSTRUCTED
    assert [w.status for w in harness.status_writes(order_id) if w.status != "O"] == ["E"]  # no 保留 on the way


async def test_still_unbound_after_a_catalog_run_since_the_order_is_held(harness: Harness) -> None:  # noqa: F811
    await catalog_succeeded(harness.store, seconds_ago=600)
    async with harness.store.transaction() as tx:
        await tx.execute("DELETE FROM bindings WHERE id_a = '11' AND entity_a = 'product'")
    order_id = await harness.place(user_id=10, lines=[(11, 1)])
    await harness.cycle()
    assert (await harness.state(order_id)).workflow_state is S.RECEIVED
    await catalog_succeeded(harness.store, seconds_ago=-5)  # a catalog run after the order, product still unknown
    await harness.cycle()
    assert (await harness.state(order_id)).workflow_state is S.HOLD
    assert "unknown product code(s) 10000011" in (await harness.history(order_id))[-1].reason
