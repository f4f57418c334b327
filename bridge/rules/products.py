"""``rules/products.yaml``: a product's CS-Cart status from SMILE's validity window and display flag, and which
system owns each CS-Cart product field (SMILE-owned fields are overwritten on every sync, CS-Cart-owned ones are
only set when the product is created)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, field_validator

from bridge.domain.catalog import Product
from bridge.i18n import _
from bridge.rules.common import RulesModel

Status = Literal["A", "D", "H"]  # CS-Cart: active, disabled, hidden
Owner = Literal["smile", "cscart"]

PRODUCT_FIELDS: dict[str, Owner] = {
    "product": "smile",  # 商品名
    "list_price": "smile",  # 上代単価
    "status": "smile",
    "search_words": "smile",  # 商品名索引 / JAN
    "min_qty": "smile",  # 入数 when ordering by the case
    "qty_step": "smile",
    "full_description": "cscart",
    "short_description": "cscart",
    "meta_keywords": "cscart",
    "meta_description": "cscart",
    "page_title": "cscart",
    "category_ids": "cscart",
    "weight": "cscart",
}


class StatusRules(RulesModel):
    outside_validity: Literal["D", "H"] = "D"
    """Status outside 有効期間開始日–終了日 (D = disabled, H = hidden: reachable by link, not listed)."""
    not_displayed: Status = "H"
    """Status when マスター検索表示区分 is off."""


class ProductRules(RulesModel):
    version: Literal[1] = 1
    create_missing: bool = True
    """Create CS-Cart products for SMILE products that have none yet (by 商品コード = product_code)."""
    status: StatusRules = StatusRules()
    field_ownership: dict[str, Owner] = Field(default_factory=lambda: dict(PRODUCT_FIELDS))
    """CS-Cart product field → who owns it; fields left out keep their default owner."""

    @field_validator("field_ownership")
    @classmethod
    def _known_fields(cls, value: dict[str, Owner]) -> dict[str, Owner]:
        unknown = sorted(set(value) - set(PRODUCT_FIELDS))
        if unknown:
            raise ValueError(_("unknown product field(s) {unknown}; known: {items}").format(
                                 unknown=unknown, items=', '.join(PRODUCT_FIELDS)))
        return {**PRODUCT_FIELDS, **value}

    def owned_by(self, owner: Owner) -> frozenset[str]:
        return frozenset(name for name, who in self.field_ownership.items() if who == owner)


def product_status(product: Product, rules: ProductRules, today: date) -> Status:
    """Outside the validity window → ``outside_validity``; display flag off → ``not_displayed``; else A (active)."""
    if not product.active_on(today):
        return rules.status.outside_validity
    if not product.displayed:
        return rules.status.not_displayed
    return "A"
