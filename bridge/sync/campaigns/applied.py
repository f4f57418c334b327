"""Which campaigns an order got, and how they reach the SMILE 受注 slip (pure).

A promotion's discount becomes its own 値引 line (negative amount) naming the campaign id, so the slip's product
lines keep their prices before the discount and the slip total still equals the order's total; a bonus item stays
a ¥0 line whose name carries the campaign id. Amounts come from the add-on's per-promotion figures
(``smile_bridge_promotions`` on the order); a store without them gives one 値引 line for the whole discount, named
by the promotion ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bridge.domain.orders import AppliedPromotion, Order


@dataclass(frozen=True, slots=True)
class DiscountLine:
    label: str  # campaign id, or "promotion 12,13" for promotions the bridge does not manage
    amount: Decimal  # yen off (positive)


def label(promotion: AppliedPromotion) -> str:
    return promotion.campaign_id or f"promotion {promotion.promotion_id}"


def order_discount(order: Order) -> Decimal:
    """Everything promotions took off the order: product discounts plus order-level discounts."""
    return sum((line.discount * line.quantity for line in order.lines), Decimal(0)) + order.subtotal_discount


def discount_lines(order: Order) -> list[DiscountLine]:
    """One line per promotion that took money off; the remainder the per-promotion figures do not explain (a store
    without the add-on's amounts) is one more line naming the promotions."""
    lines = [DiscountLine(label(p), p.discount) for p in order.promotions if p.discount > 0]
    rest = order_discount(order) - sum((line.amount for line in lines), Decimal(0))
    if rest > 0:
        names = ",".join(str(p.promotion_id) for p in order.promotions if p.discount == 0) or "?"
        lines.append(DiscountLine(f"promotion {names}", rest))
    return lines


def bonus_label(order: Order, promotion_id: int | None) -> str:
    for promotion in order.promotions:
        if promotion.promotion_id == promotion_id:
            return label(promotion)
    return f"promotion {promotion_id}" if promotion_id is not None else ""
