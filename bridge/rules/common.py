"""Pieces every rules model shares: the strict base model and small validated value types."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from bridge.domain.money import Rounding


class RulesModel(BaseModel):
    """Strict and immutable: an unknown key is an error (a typo must never silently fall back to a default)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


Percent = Annotated[Decimal, Field(ge=0, le=100)]
Share = Annotated[Decimal, Field(ge=0, le=1)]


class RoundingRule(RulesModel):
    """How a computed amount becomes a price: SMILE's 処理区分 (mode) and 処理単位 (unit)."""

    mode: Rounding = Rounding.DOWN
    """down = 切捨て, half_up = 四捨五入, up = 切上げ."""
    unit: Decimal = Field(Decimal(1), gt=0)
    """Result is a multiple of this: 1 = whole yen, 10 = tens of yen, 0.01 = sen."""

    def apply(self, amount: Decimal) -> Decimal:
        return self.mode.apply(amount, self.unit)
