"""Customers (得意先) and ship-to addresses (納品先)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from bridge.domain.money import Rounding

MISC_CUSTOMER_CODE = "999999"  # SMILE 諸口 (hand-typed) customer


@dataclass(frozen=True, slots=True)
class Address:
    name: str = ""
    name_kana: str = ""
    postcode: str = ""  # 7 digits, no dash
    prefecture: str = ""
    city: str = ""
    street: str = ""
    building: str = ""
    phone: str = ""
    company: str = ""
    department: str = ""


@dataclass(frozen=True, slots=True)
class Customer:
    """One SMILE 得意先マスター row, normalised."""

    code: str  # 得意先コード
    name: str  # 得意先名1 (+2)
    name_kana: str = ""  # 得意先名索引
    email: str = ""
    address: Address = Address()
    price_rank: int | None = None  # 単価ランク 1–5
    rate_percent: Decimal | None = None  # 単価掛率 (e.g. 70 = 70 %)
    price_rounding: Rounding = Rounding.DOWN  # 単価処理区分
    price_rounding_unit: Decimal = Decimal(1)  # 単価処理単位
    credit_limit: Decimal | None = None  # 与信限度額
    receivable: Decimal | None = None  # 売掛残 (前回請求残高 / 期首売掛残高); None = the file has no such column
    suspended: bool = False  # 休止
    valid_from: date | None = None
    valid_to: date | None = None
    modified_on: date | None = None

    @property
    def is_misc(self) -> bool:
        return self.code == MISC_CUSTOMER_CODE

    def active_on(self, day: date) -> bool:
        if self.suspended:
            return False
        if self.valid_from and day < self.valid_from:
            return False
        return not (self.valid_to and day > self.valid_to)
