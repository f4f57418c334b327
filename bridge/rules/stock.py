"""``rules/stock.yaml`` and the stock rules: what CS-Cart may sell, and the mass-change guard for SMILE stock files.

available = SMILE on-hand − SMILE allocated − CS-Cart orders SMILE has not confirmed yet − safety stock, never below
0, over the warehouses the rules count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Literal

from pydantic import Field, model_validator

from bridge.domain.catalog import StockLevel
from bridge.i18n import Text, _
from bridge.rules.common import RulesModel, Share

ZERO = Decimal(0)


class SafetyStock(RulesModel):
    """Units kept back from the shop (安全在庫). The most specific rule wins: exact code, then longest prefix."""

    default: int = Field(0, ge=0)
    by_prefix: dict[str, int] = Field(default_factory=dict)
    """商品コード prefix → units, e.g. {"A-": 2}."""
    by_code: dict[str, int] = Field(default_factory=dict)
    """商品コード → units, e.g. {"A-100": 5}."""

    @model_validator(mode="after")
    def _non_negative(self) -> SafetyStock:
        bad = [k for k, v in {**self.by_prefix, **self.by_code}.items() if v < 0]
        if bad:
            raise ValueError(_("safety stock must be 0 or more (check {items})").format(items=', '.join(bad)))
        return self

    def for_code(self, product_code: str) -> int:
        if product_code in self.by_code:
            return self.by_code[product_code]
        prefixes = [p for p in self.by_prefix if product_code.startswith(p)]
        return self.by_prefix[max(prefixes, key=len)] if prefixes else self.default


class Warehouses(RulesModel):
    """Which SMILE warehouses (倉庫コード) count, and whether CS-Cart gets one total or one amount per warehouse."""

    mode: Literal["sum", "listed", "map"] = "sum"
    """sum = every warehouse added up; listed = only ``listed`` added up; map = per CS-Cart warehouse (``map``)."""
    listed: list[str] = Field(default_factory=list)
    map: dict[str, int] = Field(default_factory=dict)
    """倉庫コード → CS-Cart warehouse_id (Warehouses add-on). Order matters: unconfirmed orders and safety stock
    are taken from the first warehouse first, then the next."""

    @model_validator(mode="after")
    def _mode_has_data(self) -> Warehouses:
        if self.mode == "listed" and not self.listed:
            raise ValueError(_("mode 'listed' needs the warehouse codes under listed"))
        if self.mode == "map" and not self.map:
            raise ValueError(_("mode 'map' needs map: {倉庫コード: CS-Cart warehouse_id}"))
        if any(v <= 0 for v in self.map.values()):
            raise ValueError(_("CS-Cart warehouse ids are positive numbers"))
        return self

    def counts(self, warehouse_code: str) -> bool:
        if self.mode == "sum":
            return True
        if self.mode == "listed":
            return warehouse_code in self.listed
        return warehouse_code in self.map


class MassChangeGuard(RulesModel):
    """Stops a stock file that looks broken; ``bridge sync stock --force`` applies it on purpose."""

    zero_share: Share = Decimal("0.20")
    """Trip when more than this share of the file's SKUs would become 0."""
    min_row_ratio: Share = Decimal("0.90")
    """Trip when the file has fewer rows than this share of the previous file's rows."""


class StockRules(RulesModel):
    version: Literal[1] = 1
    safety_stock: SafetyStock = SafetyStock()
    warehouses: Warehouses = Warehouses()
    quantity_source: Literal["on_hand_minus_allocated", "smile_available"] = "on_hand_minus_allocated"
    """smile_available = use SMILE's 有効在庫数量 column when the file has it (else on-hand − allocated)."""
    subtract_unconfirmed_orders: bool = True
    """Subtract CS-Cart orders SMILE has not confirmed yet (from the orders mirror)."""
    skip_unmanaged: bool = True
    """Products whose 在庫管理区分 is off get no stock updates."""
    guard: MassChangeGuard = MassChangeGuard()


@dataclass(frozen=True, slots=True)
class GuardVerdict:
    tripped: bool
    reasons: tuple[Text, ...] = ()
    zero_count: int = 0
    total: int = 0


def _level_quantity(level: StockLevel, rules: StockRules) -> Decimal:
    if rules.quantity_source == "smile_available" and level.available is not None:
        return level.available
    return level.on_hand - level.allocated


def _whole(amount: Decimal) -> int:
    """CS-Cart amounts are whole units; a fraction left is not sellable."""
    return max(0, int(amount.to_integral_value(rounding=ROUND_FLOOR)))


def _held_back(unconfirmed_qty: Decimal, product_code: str, rules: StockRules) -> Decimal:
    unconfirmed = max(unconfirmed_qty, ZERO) if rules.subtract_unconfirmed_orders else ZERO
    return unconfirmed + rules.safety_stock.for_code(product_code)


def available_stock(
    levels: Sequence[StockLevel], unconfirmed_qty: Decimal, rules: StockRules, product_code: str
) -> int:
    """What CS-Cart may sell of ``product_code`` over the warehouses the rules count (never below 0)."""
    counted = sum((_level_quantity(lv, rules) for lv in levels
                   if lv.product_code == product_code and rules.warehouses.counts(lv.warehouse_code)), ZERO)
    return _whole(counted - _held_back(unconfirmed_qty, product_code, rules))


def available_by_warehouse(
    levels: Sequence[StockLevel], unconfirmed_qty: Decimal, rules: StockRules, product_code: str
) -> dict[int, int]:
    """Mode ``map``: CS-Cart warehouse_id → sellable units. Unconfirmed orders and safety stock come off the
    warehouses in the order of ``map`` (the first until it is empty, then the next)."""
    per: dict[int, Decimal] = {warehouse_id: ZERO for warehouse_id in rules.warehouses.map.values()}
    for level in levels:
        warehouse_id = rules.warehouses.map.get(level.warehouse_code)
        if level.product_code == product_code and warehouse_id is not None:
            per[warehouse_id] += max(_level_quantity(level, rules), ZERO)
    remaining = _held_back(unconfirmed_qty, product_code, rules)
    result: dict[int, int] = {}
    for warehouse_id, quantity in per.items():
        taken = min(quantity, remaining)
        remaining -= taken
        result[warehouse_id] = _whole(quantity - taken)
    return result


def mass_change_guard(
    previous_row_count: int | None,
    new: Mapping[str, Decimal | int],
    rules: StockRules,
    *,
    previous: Mapping[str, Decimal | int] | None = None,
) -> GuardVerdict:
    """Whether a stock file must be held. Trips when more than ``zero_share`` of its SKUs would be 0 (with
    ``previous`` quantities given: SKUs that had stock and now have none) or when it has fewer than
    ``min_row_ratio`` × the previous file's rows. Exactly at a threshold it passes."""
    guard = rules.guard
    total = len(new)
    if previous is None:
        zeros = sum(1 for qty in new.values() if qty <= 0)
    elif previous:
        zeros = sum(1 for code, qty in new.items() if qty <= 0 and previous.get(code, 0) > 0)
    else:  # nothing had stock before: nothing can lose it (no pass over the SKUs)
        zeros = 0
    reasons: list[Text] = []
    if total and Decimal(zeros) > guard.zero_share * total:
        reasons.append(_("{zeros} of {total} SKUs would become 0 (more than {share} allowed)").format(
            zeros=zeros, total=total, share=_pct(guard.zero_share)))
    if previous_row_count and Decimal(total) < guard.min_row_ratio * previous_row_count:
        reasons.append(_("the file has {total} rows, the previous one had {previous} (fewer than {share})").format(
            total=total, previous=previous_row_count, share=_pct(guard.min_row_ratio)))
    return GuardVerdict(tripped=bool(reasons), reasons=tuple(reasons), zero_count=zeros, total=total)


def _pct(share: Decimal) -> str:
    return f"{(share * 100).normalize():f} %"


@dataclass(frozen=True, slots=True)
class StockPlanInput:
    """What the stock job hands to ``desired_stock`` for one product."""

    product_code: str
    stock_managed: bool
    levels: tuple[StockLevel, ...] = field(default_factory=tuple)
    unconfirmed_qty: Decimal = ZERO


def desired_stock(item: StockPlanInput, rules: StockRules) -> int | None:
    """Sellable units for CS-Cart, or None when the product is not stock-managed and the rules skip those."""
    if rules.skip_unmanaged and not item.stock_managed:
        return None
    return available_stock(item.levels, item.unconfirmed_qty, rules, item.product_code)
