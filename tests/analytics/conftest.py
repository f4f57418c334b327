"""One seeded shop history (state store → analytics store through the jobs' feed), shared by the report tests."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from bridge.analytics import synthetic
from bridge.analytics.store import AnalyticsStore
from bridge.store import Store

START, END = date(2025, 10, 1), date(2026, 11, 30)


@dataclass
class Shop:
    seeded: synthetic.Seeded
    analytics: AnalyticsStore
    state_path: Path


def _build(folder: Path) -> Shop:
    rng = random.Random(19)
    products = synthetic._products(rng, 40)
    products[-1] = type(products[-1])(code=products[-1].code, name=products[-1].name, category_code="C99",
                                      standard_price=products[-1].standard_price, cost_price=None)
    customers = synthetic._customers(rng, 25)
    seeded = synthetic.build_orders(rng, products, customers, 900, START, END, lines_per_order=3)
    seeded.returns = synthetic.returns_for(random.Random(1915), seeded, share=0.08)
    seeded.stock = synthetic.stock_history(rng, products, date(2026, 9, 1), END, change_share=0.2, every=1)

    async def write() -> None:
        store = await Store.open(folder / "state.sqlite3")
        try:
            await synthetic.write_state(store, seeded)
        finally:
            await store.close()

    asyncio.run(write())
    analytics = AnalyticsStore(folder / "analytics.duckdb")
    synthetic.feed_all(folder / "state.sqlite3", analytics, seeded, START)
    return Shop(seeded, analytics, folder / "state.sqlite3")


@pytest.fixture(scope="session")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    return _build(tmp_path_factory.mktemp("shop"))
