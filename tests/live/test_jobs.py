"""The daemon's catalog jobs once against a real store, as ``bridge sync JOB`` runs them, with the shipped rules:
products (the missing ones are created; names in every store language), stock and prices; the store's data is read
back over REST afterwards. The products are made for the test (codes unique to the run) and deleted at the end."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

from bridge.smile.generator import generate
from tests.cscart.backends import LiveBackend
from tests.live.conftest import LiveStore
from tests.live.kit import deliver, first_category, live_settings, run


async def test_products_stock_and_prices_jobs_on_a_real_store(live_store: LiveStore, live: LiveBackend,
                                                              tmp_path: Path) -> None:
    settings = live_settings(live_store, tmp_path, await first_category(live))
    made = generate(tmp_path / "smile_export", products=4, customers=1, seed=random.randrange(10_000))
    prefix = f"L{live.tag[:6].upper()}"
    products = [p._replace(code=f"{prefix}{p.code}", name=f"{p.name} {live.tag}") for p in made.products]
    stock = [s._replace(product_code=f"{prefix}{s.product_code}") for s in made.stock]
    created: list[int] = []
    try:
        deliver(settings, "products", products, 1)
        result = await run(settings, "products")
        assert result.failed == 0, result.notes
        by_code = {}
        for product in products:
            _, found = await live.raw("GET", "products", params={"pcode": product.code, "items_per_page": 10})
            rows = [row for row in found["products"] if row["product_code"] == product.code]
            assert len(rows) == 1, (product.code, found["products"])
            by_code[product.code] = int(rows[0]["product_id"])
        created = list(by_code.values())
        for product in products:
            for lang in ("en", "ja"):  # the Japanese description row is the one a Japanese store shows
                _, row = await live.raw("GET", f"products/{by_code[product.code]}", params={"lang_code": lang})
                assert row["product"] == product.name, (lang, row["product"])

        deliver(settings, "stock", stock, 2)
        result = await run(settings, "stock")
        assert result.failed == 0, result.notes
        levels = {s.product_code: max(0, int(s.on_hand - s.allocated)) for s in stock}
        assert levels, "the generated 在庫 file has no rows"
        for code, product_id in by_code.items():
            if code in levels:  # the generator leaves some products without a 在庫 row, as SMILE exports do
                assert await live.amount(product_id) == levels[code], code

        renamed = [p._replace(name=f"改名 {live.tag} {i}") for i, p in enumerate(products)]
        deliver(settings, "products", renamed, 3)
        await run(settings, "products")
        for product in renamed:
            _, row = await live.raw("GET", f"products/{by_code[product.code]}", params={"lang_code": "ja"})
            assert row["product"] == product.name

        result = await run(settings, "prices")
        assert result.failed == 0, result.notes
        for product in products:
            _, row = await live.raw("GET", f"products/{by_code[product.code]}")
            # 標準売上単価, or the new one once its 新単価実施日 has come (rules/pricing.yaml decides the rest)
            allowed = {price for price in (product.standard_price, product.new_standard_price) if price is not None}
            if allowed:
                assert Decimal(row["price"]) in allowed, (product.code, row["price"], allowed)
    finally:
        for product_id in created:
            await live.raw("DELETE", f"products/{product_id}")
