"""Pieces every rules model shares: the strict base model and small validated value types."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bridge.domain.money import Rounding
from bridge.i18n import _

# SMILE's 処理単位: a price is rounded to a power of ten of yen
ROUNDING_UNITS = tuple(Decimal(text) for text in ("0.01", "0.1", "1", "10", "100", "1000", "10000"))


class RulesModel(BaseModel):
    """Strict and immutable: an unknown key is an error (a typo must never silently fall back to a default)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


def require_unique(ids: Iterable[str], what: str) -> None:
    """``ValueError`` naming the first id used twice (campaign ids, pack ids: each names one thing)."""
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise ValueError(_("{what} {item!r} is used twice").format(what=what, item=item))
        seen.add(item)


def status_letter(letter: str, kind: str) -> str:
    """``ValueError`` unless one capital letter A–Z, the way CS-Cart names its order and return statuses (``kind``:
    what the message calls the letter, marked with ``N_``)."""
    if len(letter) != 1 or not "A" <= letter <= "Z":
        raise ValueError(_("{letter!r} is not a {kind} letter (one capital letter A–Z)").format(letter=letter,
                                                                                              kind=_(kind)))
    return letter


Percent = Annotated[Decimal, Field(ge=0, le=100)]
Share = Annotated[Decimal, Field(ge=0, le=1)]


class RoundingRule(RulesModel):
    """How a computed amount becomes a price: SMILE's 処理区分 (mode) and 処理単位 (unit)."""

    mode: Rounding = Rounding.DOWN
    """down = 切捨て, half_up = 四捨五入, up = 切上げ."""
    unit: Decimal = Field(Decimal(1), gt=0)
    """Result is a multiple of this: 1 = whole yen, 10 = tens of yen, 0.01 = sen."""

    @field_validator("unit")
    @classmethod
    def _power_of_ten(cls, value: Decimal) -> Decimal:
        if value not in ROUNDING_UNITS:
            raise ValueError(_("rounding unit {unit} is not possible; use one of {units} (SMILE's 処理単位)").format(
                unit=value, units=", ".join(str(unit) for unit in ROUNDING_UNITS)))
        return value

    def apply(self, amount: Decimal) -> Decimal:
        return self.mode.apply(amount, self.unit)
