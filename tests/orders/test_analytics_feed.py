"""The orders job feeds the analytics store as it runs (bridge/analytics/hooks.py): no re-read of CS-Cart."""

from __future__ import annotations

from bridge.analytics.store import AnalyticsStore
from tests.orders.conftest import Harness


async def test_orders_the_job_mirrors_reach_the_analytics_store_with_their_state(harness: Harness) -> None:
    await harness.credit("100001", None)
    order_id = await harness.place(user_id=1, lines=[(3, 2), (5, 1)])
    await harness.cycle()
    analytics = AnalyticsStore(harness.settings.analytics.path)
    with analytics.connect() as con:
        row = con.execute("SELECT state, customer_code, total FROM orders WHERE order_id = ?", [order_id]).fetchall()[0]
        lines = con.execute("SELECT product_code, quantity, amount FROM order_lines WHERE order_id = ? "
                            "ORDER BY line_no", [order_id]).fetchall()
        states = [r[0] for r in con.execute("SELECT state FROM order_states WHERE order_id = ? "
                                            "ORDER BY transition_id", [order_id]).fetchall()]
    mirrored = await harness.state(order_id)
    assert row[0] == mirrored.workflow_state.value == "shipping_instructed"
    assert row[1] == mirrored.order.customer_code and row[2] == mirrored.order.total
    assert [(c, q, a) for c, q, a in lines] == [(l.product_code, l.quantity, l.quantity * l.unit_price)
                                                for l in mirrored.order.lines]
    assert states == [t.to_state.value for t in await harness.history(order_id)]
