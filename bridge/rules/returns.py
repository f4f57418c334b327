"""``rules/returns.yaml``: returns (返品) through CS-Cart's rma add-on: which return statuses mean approved, how the
SMILE 返品 slip is marked, and which returned goods go back into sellable stock."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from bridge.i18n import _, N_
from bridge.rules.common import RulesModel, status_letter

Action = Literal["restock", "discard"]


class RestockRule(RulesModel):
    """One restock rule: it applies when every matcher given matches (reason, product code or prefix)."""

    reasons: list[str] = Field(default_factory=list)
    """The return reasons as CS-Cart's rma add-on names them (Orders → Return requests → reasons)."""
    product_codes: list[str] = Field(default_factory=list)
    product_prefixes: list[str] = Field(default_factory=list)
    action: Action
    """restock = back into the sellable warehouse; discard = into the discard warehouse (not for sale)."""

    @model_validator(mode="after")
    def _matches_something(self) -> RestockRule:
        if not (self.reasons or self.product_codes or self.product_prefixes):
            raise ValueError(_("give reasons, product_codes or product_prefixes (what this rule is for)"))
        return self

    def matches(self, product_code: str, reason: str) -> bool:
        if self.reasons and reason not in self.reasons:
            return False
        if (self.product_codes or self.product_prefixes) and not (
                product_code in self.product_codes or any(product_code.startswith(p) for p in self.product_prefixes)):
            return False
        return True


class Restock(RulesModel):
    default: Action = "restock"
    """What happens to a returned item no rule names."""
    warehouse: str = Field("000001", pattern=r"^[0-9A-Za-z]{1,10}$")
    """倉庫ｺｰﾄﾞ of a restocked row (the 受注 file's default warehouse)."""
    discard_warehouse: str = Field("000999", pattern=r"^[0-9A-Za-z]{1,10}$")
    """倉庫ｺｰﾄﾞ of a discarded row. [assumed] reference/smile.md names no such warehouse: set your SMILE's code."""
    rules: list[RestockRule] = Field(default_factory=list)
    """First match wins."""

    def decide(self, product_code: str, reason: str) -> tuple[Action, str]:
        action = next((rule.action for rule in self.rules if rule.matches(product_code, reason)), self.default)
        return action, self.warehouse if action == "restock" else self.discard_warehouse


class ReturnSlip(RulesModel):
    """How the 返品 rows are marked in the 受注 import file (quantities and amounts are negative)."""

    transaction_type: str = Field("1", pattern=r"^[0-9]{1,2}$")
    """取引区分 (smile.md §4.1: 1 = 掛売上)."""
    transaction_attribute: str = Field("2", pattern=r"^[0-9]{1,2}$")
    """取引区分属性 of a return. [assumed] smile.md confirms only 1 = 売上; 2 is SMILE's usual 返品 code: check it."""
    remark: str = Field("返品 #{return_id}", max_length=36)
    """備考 of every row; {return_id} is CS-Cart's return request number."""


class ReturnRules(RulesModel):
    version: Literal[1] = 1
    enabled: bool = True
    """false: the bridge reads no returns (no 返品 slip, no mail)."""
    approved_statuses: list[str] = Field(default_factory=lambda: ["A", "C"], min_length=1)
    """CS-Cart return statuses (Orders → Return requests) that mean approved: A Approved, C Completed."""
    lookback_days: int = Field(90, ge=1, le=3650)
    """Return requests made this many days back are read each run (older ones are never slipped)."""
    slip: ReturnSlip = ReturnSlip()
    restock: Restock = Restock()

    @field_validator("approved_statuses")
    @classmethod
    def _letters(cls, value: list[str]) -> list[str]:
        return [status_letter(letter, N_("return status")) for letter in value]
