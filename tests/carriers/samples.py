"""Orders and rules the carrier tests share: one realistic order per text trap of carriers.md §7."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from bridge.carriers.rules import ShippingRules, load_shipping_rules
from bridge.domain import JST, Address, Order, OrderLine

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_RULES = ROOT / "rules" / "shipping.yaml"
GOLDEN = Path(__file__).resolve().parent / "golden"
NOW = datetime(2026, 11, 24, 9, 30, tzinfo=JST)  # a Tuesday


def shipped_rules() -> ShippingRules:
    return load_shipping_rules(SHIPPED_RULES)


def address(**changes: str) -> Address:
    base = Address(name="山田 太郎", name_kana="ヤマダ タロウ", postcode="1000001", prefecture="東京都",
                   city="千代田区", street="千代田1-1", building="", phone="03-1111-2222")
    return replace(base, **changes)


def order(order_id: int = 1001, shipping_id: int = 1, **changes: object) -> Order:
    base = Order(
        order_id=order_id, status="A", placed_at=NOW, updated_at=None, user_id=7, email="buyer@example.jp",
        total=Decimal(5500), shipping_ids=(shipping_id,), shipping_method="", payment_method="銀行振込",
        lines=(OrderLine("A-100", "ボールペン 黒", Decimal(10), Decimal(500)),), shipping=address(),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def trap_orders(shipping_id: int) -> list[Order]:
    """Every text trap of carriers.md §7 and the over-long cases that can still be made valid."""
    return [
        order(2001, shipping_id),
        order(2002, shipping_id, shipping=address(name="髙橋 﨑子", name_kana="たかはし さきこ",
                                                 street="千代田1-2〜3", building="①号棟 ㈱サンプル")),
        order(2003, shipping_id, shipping=address(name="𠮷田 一郎", name_kana="ﾖｼﾀﾞ ｲﾁﾛｳ",
                                                 street="千代田2−3—4", phone="０９０−１２３４−５６７８")),
        order(2004, shipping_id, shipping=address(
            name="", name_kana="", company="株式会社サンプル物流センター", street="千代田三丁目四番五号グランドサンプルタワー",
            building="北館12階")),
        order(2005, shipping_id, payment_method="代金引換", total=Decimal(12345),
              delivery_date=date(2026, 11, 27), delivery_slot="１４時〜１６時頃",
              lines=(OrderLine("B-1", "ファイル Ａ４ 青", Decimal(1), Decimal(100)),
                     OrderLine("B-2", "クリップ", Decimal(1), Decimal(100)))),
        order(2006, shipping_id, shipping=address(postcode="〒060-0000", prefecture="", city="",
                                                 street="北海道札幌市中央区北1条西2丁目", name_kana="カナ＆ＡＢＣ漢字"),
              delivery_slot="午前中", delivery_date=date(2026, 11, 26)),
    ]


GOLDEN_CASES: dict[str, list[Order]] = {
    "yamato": [*trap_orders(1),
               order(2101, 2, delivery_date=date(2026, 11, 25), delivery_slot="19:00-21:00"),  # クール + 荷扱い
               order(2102, 3, delivery_date=date(2026, 11, 25))],  # ネコポス: the date is dropped
    "sagawa": trap_orders(4),
    "japanpost": [*trap_orders(5), order(2101, 6, delivery_slot="20時～21時")],  # こわれもの; 20–21 abolished
}
