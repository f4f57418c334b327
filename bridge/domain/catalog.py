"""Products, stock and prices as the bridge understands them, independent of either system's format."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

MISC_PRODUCT_CODE = "99999999"  # SMILE 諸口 (hand-typed) product


class Product(NamedTuple):
    """One SMILE 商品マスター row, normalised.

    A named tuple, like ``StockLevel``: immutable, fields by name, ``_replace`` and ``_fields``; a 100k-row master
    is built as tuples at C speed (``bridge.smile.schema.assemble``), several times cheaper than slotted objects.
    """

    code: str  # 商品コード: the join key with CS-Cart product_code
    name: str  # 商品名
    name_kana: str = ""  # 商品名索引
    unit: str = ""  # 単位
    case_quantity: Decimal | None = None  # 入数
    stock_managed: bool = True  # 在庫管理区分
    standard_price: Decimal | None = None  # 標準売上単価
    rank_prices: tuple[Decimal | None, ...] = (None, None, None, None, None)  # ランク1–5売上単価
    list_price: Decimal | None = None  # 上代単価
    new_price_date: date | None = None  # 新単価実施日
    new_standard_price: Decimal | None = None  # 新標準売上単価
    new_rank_prices: tuple[Decimal | None, ...] = (None, None, None, None, None)  # 新ランク1–5売上単価
    new_list_price: Decimal | None = None  # 新上代単価
    jan: str = ""  # ＪＡＮ
    tax_class: str = ""  # 消費税率区分 / 税分類
    displayed: bool = True  # マスター検索表示区分
    valid_from: date | None = None  # 有効期間開始日
    valid_to: date | None = None  # 有効期間終了日
    category_code: str = ""  # 商品分類コード
    maker_name: str = ""  # メーカー名
    modified_on: date | None = None  # 操作日付
    cost_price: Decimal | None = None  # 原価 (粗利算出用単価 / 標準仕入単価): the campaigns report's cost of goods

    @property
    def is_misc(self) -> bool:
        return self.code == MISC_PRODUCT_CODE

    def active_on(self, day: date) -> bool:
        if self.valid_from and day < self.valid_from:
            return False
        return not (self.valid_to and day > self.valid_to)


class StockLevel(NamedTuple):
    """One 在庫 row: a product in one warehouse (a named tuple, see ``Product``)."""

    product_code: str
    warehouse_code: str
    on_hand: Decimal  # 現在庫数量
    allocated: Decimal = Decimal(0)  # 受注残 / 引当数量
    on_order: Decimal = Decimal(0)  # 発注残数量
    expected_on: date | None = None  # 入荷予定日
    available: Decimal | None = None  # 有効在庫数量 when SMILE gives it
    as_of: datetime | None = None  # 操作日付 / 集計日時


@dataclass(frozen=True, slots=True, order=True)
class PriceTier:
    """One CS-Cart price row: ``usergroup_id`` 0 is everyone, ``lower_limit`` 1 is the unit price."""

    usergroup_id: int
    lower_limit: int
    price: Decimal
    percentage: bool = False  # CS-Cart type "P": price is a percentage discount


@dataclass(frozen=True, slots=True)
class TierSet:
    """The complete price tiers of one product. CS-Cart replaces all tiers on every write, so it is written whole."""

    product_code: str
    base_price: Decimal
    tiers: tuple[PriceTier, ...] = field(default_factory=tuple)

    def rows(self) -> list[PriceTier]:
        """Base row first (CS-Cart discards ``prices[0]`` and rebuilds it from ``price``), the rest sorted."""
        base = PriceTier(usergroup_id=0, lower_limit=1, price=self.base_price)
        others = sorted(t for t in self.tiers if (t.usergroup_id, t.lower_limit) != (0, 1))
        return [base, *others]


@dataclass(frozen=True, slots=True)
class CustomerPrice:
    """得意先別単価 / 数量別単価 (assumed layout): a customer-specific price, applied by the add-on at checkout."""

    customer_code: str
    product_code: str
    price: Decimal
    min_quantity: Decimal = Decimal(1)
    valid_from: date | None = None
    valid_to: date | None = None
