"""Yen amounts are ``Decimal``; parsing is tolerant of the shapes the outside sends (strings, commas, 全角)."""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from enum import Enum

ZERO = Decimal(0)


class Rounding(str, Enum):
    """SMILE's 単価処理区分 / 金額処理区分: how a computed amount becomes a price."""

    DOWN = "down"  # 切捨て
    HALF_UP = "half_up"  # 四捨五入
    UP = "up"  # 切上げ

    def apply(self, amount: Decimal, unit: Decimal = Decimal(1)) -> Decimal:
        """Round ``amount`` to a multiple of ``unit`` (単価処理単位: 1, 10, 0.01 …)."""
        if unit <= 0:
            raise ValueError(f"rounding unit must be positive, got {unit}")
        mode = {Rounding.DOWN: ROUND_DOWN, Rounding.HALF_UP: ROUND_HALF_UP, Rounding.UP: ROUND_CEILING}[self]
        if amount < 0 and self is Rounding.UP:
            mode = ROUND_FLOOR
        steps = (amount / unit).quantize(Decimal(1), rounding=mode)
        return (steps * unit).quantize(unit if unit < 1 else Decimal(1))


PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")  # "1200.00", "-3": Decimal() reads it as it is


def parse_decimal(value: object) -> Decimal:
    """Parse ``"1,234"``, ``"１２３"``, ``12``, ``"12.50"``; raise ``ValueError`` naming the value otherwise."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, int | float):
        return Decimal(str(value))
    if type(value) is str and PLAIN_NUMBER.fullmatch(value):
        return Decimal(value)  # "1200.00", "-3": what every API sends; NFKC and the separators change nothing
    text = unicodedata.normalize("NFKC", str(value)).strip().replace(",", "").replace("¥", "")
    if text.startswith("\\"):
        text = text[1:]
    if not text:
        raise ValueError("empty value where a number is required")
    try:
        result = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result
