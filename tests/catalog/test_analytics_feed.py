"""The stock, products and customers jobs feed the analytics store with what they read (bridge/analytics/hooks.py)."""

from __future__ import annotations

from decimal import Decimal

from bridge.analytics.store import AnalyticsStore
from bridge.smile.reader import read_file
from tests.catalog.conftest import CatalogWorld


async def test_smile_files_the_jobs_apply_reach_the_analytics_store(world: CatalogWorld) -> None:
    world.deliver("products")
    world.deliver("customers")
    world.deliver_stock()
    for job in ("products", "customers", "stock"):
        await world.run(job)
    analytics = AnalyticsStore(world.settings.analytics.path)
    products = read_file(world.made.paths["products"], "products").records
    levels = read_file(world.master_stock, "stock").records
    with analytics.connect() as con:
        costs = dict(con.execute("SELECT product_code, cost_price FROM products").fetchall())
        stock = con.execute("SELECT product_code, warehouse_code, on_hand FROM stock_changes").fetchall()
        customers = con.execute("SELECT count(*) FROM customers").fetchall()[0][0]
    assert costs == {p.code: p.cost_price for p in products} and all(c > 0 for c in costs.values())
    assert sorted(stock) == sorted((lv.product_code, lv.warehouse_code, lv.on_hand) for lv in levels)
    assert customers == len(world.made.customers)
    # the same file again changes nothing: stock is stored as changes only
    code = levels[0].product_code
    world.deliver_stock({code: int(levels[0].on_hand) + 7})
    await world.run("stock")
    with analytics.connect() as con:
        rows = con.execute("SELECT on_hand FROM stock_changes WHERE product_code = ? ORDER BY day",
                           [code]).fetchall()
        total = con.execute("SELECT count(*) FROM stock_changes").fetchall()[0][0]
    assert rows[-1][0] == levels[0].on_hand + Decimal(7)
    assert total == len(levels) or total == len(levels) + 1  # same JST day: the day's row is replaced
