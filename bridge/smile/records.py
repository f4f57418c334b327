"""Records the SMILE edge reads that have no counterpart in ``bridge.domain`` yet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from bridge.domain.catalog import MISC_PRODUCT_CODE
from bridge.domain.customers import MISC_CUSTOMER_CODE


@dataclass(frozen=True, slots=True)
class QuantityPrice:
    """数量別単価 (assumed layout): a unit price from ``min_quantity`` pieces up, for every customer."""

    product_code: str
    price: Decimal
    min_quantity: Decimal = Decimal(1)
    valid_from: date | None = None
    valid_to: date | None = None


@dataclass(frozen=True, slots=True)
class SalesSlipLine:
    """One line of the 売上明細 / 受注明細 export: how the bridge learns the 伝票番号 and 処理連番 SMILE issued."""

    slip_date: date  # 伝票日付
    slip_no: str  # 伝票番号
    serial: str  # 処理連番: SMILE's row identity
    line_no: int  # 行
    customer_code: str  # 得意先コード
    product_code: str = ""  # 商品コード
    product_name: str = ""  # 商品名
    line_type: str = "0"  # 明細区分: 0 通常, 1 消費税
    quantity: Decimal | None = None  # 数量
    unit_price: Decimal | None = None  # 単価
    amount: Decimal | None = None  # 金額
    remarks: str = ""  # 備考
    order_no: str = ""  # 受注番号
    order_line: int | None = None  # 受注行
    order_ref: str = ""  # オーダー番号: where the bridge puts the CS-Cart order id
    modified_on: date | None = None  # 操作日付

    @property
    def is_tax_line(self) -> bool:
        return self.line_type == "1"

    @property
    def is_misc_customer(self) -> bool:
        return self.customer_code == MISC_CUSTOMER_CODE

    @property
    def is_misc_product(self) -> bool:
        return self.product_code == MISC_PRODUCT_CODE
