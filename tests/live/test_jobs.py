"""The daemon's catalog jobs once against a real store, as ``bridge sync JOB`` runs them, with the shipped rules:
products (the missing ones are created; names in every store language), stock and prices; the store's data is read
back over REST afterwards. The products are made for the test (codes unique to the run) and deleted at the end."""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from pydantic import SecretStr

from bridge.config import Settings
from bridge.smile.generator import FILE_NAMES, generate, layouts_for
from bridge.smile.writer import write_records
from tests.cscart.backends import LiveBackend
from tests.live.conftest import LiveStore

ROOT = Path(__file__).resolve().parents[2]


def settings_for(store: LiveStore, tmp_path: Path, category_id: int) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", rules_dir=ROOT / "rules", http={"port": 0},
        log={"level": "WARNING", "format": "json"}, dispatch={"idle_poll": 0.05},
        cscart={"url": store.url, "email": store.email, "api_key": SecretStr(store.api_key),
                "company_id": store.company_id, "timeout": 120},
        catalog={"new_product_category_ids": [category_id]},
    )


def deliver(settings: Settings, file_type: str, records: list, number: int) -> None:
    dirs = settings.smile.dirs(settings.data_dir)
    dirs.create()
    stem, _, suffix = FILE_NAMES[file_type].partition(".")
    target = dirs.inbox / f"{stem}_{number:03d}.{suffix}"
    write_records(target, file_type, records, layout=layouts_for(settings.smile, None)[file_type])
    target.with_name(target.name + ".done").touch()


async def run(settings: Settings, job: str) -> object:
    from bridge.cli.sync_cmd import _run

    return await _run(settings, job, False, False)


async def test_products_stock_and_prices_jobs_on_a_real_store(live_store: LiveStore, live: LiveBackend,
                                                              tmp_path: Path) -> None:
    _, categories = await live.raw("GET", "categories", params={"items_per_page": 1})
    settings = settings_for(live_store, tmp_path, int(categories["categories"][0]["category_id"]))
    made = generate(tmp_path / "smile_export", products=4, customers=1, seed=random.randrange(10_000))
    prefix = f"L{live.tag[:6].upper()}"
    products = [replace(p, code=f"{prefix}{p.code}", name=f"{p.name} {live.tag}") for p in made.products]
    stock = [replace(s, product_code=f"{prefix}{s.product_code}") for s in made.stock]
    created: list[int] = []
    try:
        deliver(settings, "products", products, 1)
        result = await run(settings, "products")
        assert getattr(result, "failed") == 0, getattr(result, "notes")
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
        assert getattr(result, "failed") == 0, getattr(result, "notes")
        levels = {s.product_code: max(0, int(s.on_hand - s.allocated)) for s in stock}
        assert levels, "the generated 在庫 file has no rows"
        for code, product_id in by_code.items():
            if code in levels:  # the generator leaves some products without a 在庫 row, as SMILE exports do
                assert await live.amount(product_id) == levels[code], code

        renamed = [replace(p, name=f"改名 {live.tag} {i}") for i, p in enumerate(products)]
        deliver(settings, "products", renamed, 3)
        await run(settings, "products")
        for product in renamed:
            _, row = await live.raw("GET", f"products/{by_code[product.code]}", params={"lang_code": "ja"})
            assert row["product"] == product.name

        result = await run(settings, "prices")
        assert getattr(result, "failed") == 0, getattr(result, "notes")
        for product in products:
            _, row = await live.raw("GET", f"products/{by_code[product.code]}")
            # 標準売上単価, or the new one once its 新単価実施日 has come (rules/pricing.yaml decides the rest)
            allowed = {price for price in (product.standard_price, product.new_standard_price) if price is not None}
            if allowed:
                assert Decimal(row["price"]) in allowed, (product.code, row["price"], allowed)
    finally:
        for product_id in created:
            await live.raw("DELETE", f"products/{product_id}")
