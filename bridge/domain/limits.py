"""The ranges the outside systems can hold, in one place.

CS-Cart: ``cscart_products.amount`` is a MEDIUMINT (at most 8,388,607; the add-on's batch path already refuses more),
``cscart_product_descriptions.product`` a VARCHAR(255). SMILE (assumed from its input screens, smile.md): 数量 up to
7 integer digits, 単価 up to 9 integer digits with at most 2 decimals (単価処理単位 0.01), 金額 up to 10 digits.
"""

from __future__ import annotations

from decimal import Decimal

from bridge.i18n import _

CSCART_MAX_AMOUNT = 8_388_607
CSCART_PRODUCT_NAME_MAX = 255

SMILE_MAX_QUANTITY = Decimal("9999999")
SMILE_MAX_UNIT_PRICE = Decimal("999999999.99")
SMILE_MAX_AMOUNT = Decimal("9999999999")
SMILE_PRICE_DECIMALS = 2


def decimals(value: Decimal) -> int:
    """Digits after the point that matter (100.50 → 1, 100.005 → 3, 100 → 0)."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def order_line_problems(lines: list[tuple[int, str, Decimal, Decimal]]) -> list[str]:
    """(line number, product code, quantity, unit price) → why SMILE's 受注 file cannot carry each line; empty when
    every line fits. Each reason names the line and the field."""
    problems: list[str] = []
    for number, code, quantity, price in lines:
        where = _("line {number} ({code})").format(number=number, code=code or _("no code"))
        if quantity <= 0 or quantity != quantity.to_integral_value():
            problems.append(_("{where}: quantity {quantity} is not a whole number above 0").format(
                                where=where, quantity=quantity))
        elif quantity > SMILE_MAX_QUANTITY:
            problems.append(_("{where}: quantity {quantity:,} is above SMILE's {limit:,}").format(
                                where=where, quantity=quantity, limit=SMILE_MAX_QUANTITY))
        if price < 0:
            problems.append(_("{where}: unit price ¥{price} is negative").format(where=where, price=price))
        elif price > SMILE_MAX_UNIT_PRICE:
            problems.append(_("{where}: unit price ¥{price:,} is above SMILE's ¥{limit:,}").format(
                                where=where, price=price, limit=SMILE_MAX_UNIT_PRICE))
        elif decimals(price) > SMILE_PRICE_DECIMALS:
            problems.append(_("{where}: unit price ¥{price} has fractions of a sen (at most {limit} decimals)").format(
                                where=where, price=price, limit=SMILE_PRICE_DECIMALS))
        amount = quantity * price
        if quantity > 0 and price >= 0 and abs(amount) > SMILE_MAX_AMOUNT:
            problems.append(_("{where}: amount ¥{amount:,} is above SMILE's ¥{limit:,}").format(
                                where=where, amount=amount, limit=SMILE_MAX_AMOUNT))
    return problems
