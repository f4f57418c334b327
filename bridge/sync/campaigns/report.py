"""The effect of a campaign, from the orders mirror (which keeps each order's applied promotions) and SMILE's
商品マスター cost prices (``cost_price``: 粗利算出用単価 / 標準仕入単価 / 原価). Pure except ``load_orders`` and
``latest_costs``. Self-contained: it reads nothing of bridge/analytics.

Orders count when they were placed in the period (JST, to the minute; a running campaign up to now) and are not
cancelled. For campaign C:

- **orders** / **customers**: orders C applied to, and their distinct customers (得意先コード, else the user id);
- **eligible orders**: orders in the period that C could reach: by the target's customers (得意先コード) and regions
  (delivery 都道府県), and by its usergroups (``target.customer_groups`` and ``conditions.customer_groups``): the
  customer was in one of them when the order was placed (``customer_usergroups``, read by the campaigns job; a group
  never read yet cannot filter and is listed in ``unread_groups``). Thresholds (min_order_amount, min_quantity,
  products_all), weekdays and coupons do not narrow it: an order that missed them is an eligible order that did not
  use the campaign; **usage rate** = orders / eligible orders;
- **revenue**: the totals of C's orders;
- **discount cost** = C's discounts (the add-on's per-promotion amounts) + bonus items × 原価 + free shipping ×
  ``costs.free_shipping_per_order`` + the campaign's ``fixed_cost``;
- **average order value** of C's orders, of all orders in the same length of time before the period, and of the
  orders in the period C did not apply to (non-participants);
- **gross margin** of an order = goods after discounts (line price − discount per unit, minus order discounts)
  − 原価 of every line including bonus items; **incremental gross margin** = C's orders' margin − as many orders at
  the non-participants' average margin (the period before when every order participated) − free shipping cost −
  fixed cost; **ROI** = incremental gross margin / discount cost.

Lines whose product has no cost price count at cost 0 and are listed, so a missing 原価 is visible, not hidden.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bridge.domain.orders import Order
from bridge.domain.time import to_utc
from bridge.rules.campaigns import Campaign, CampaignRules
from bridge.store import orders as mirror
from bridge.store.db import Connection
from bridge.store.usergroups import Membership, member_at

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Use:
    discount: Decimal = ZERO
    free_shipping: bool = False
    bonus_items: tuple[tuple[str, Decimal], ...] = ()


@dataclass(frozen=True, slots=True)
class OrderFacts:
    order_id: int
    placed_at: datetime
    user_id: int
    customer: str
    prefecture: str
    total: Decimal
    margin: Decimal
    uses: Mapping[str, Use]  # campaign id → what it gave
    uncosted: tuple[str, ...] = ()


def facts_of(order: Order, costs: Mapping[str, Decimal]) -> OrderFacts:
    uses: dict[str, Use] = {}
    for promotion in order.promotions:
        if promotion.campaign_id:
            before = uses.get(promotion.campaign_id, Use())
            uses[promotion.campaign_id] = Use(before.discount + promotion.discount,
                                              before.free_shipping or promotion.free_shipping,
                                              before.bonus_items + promotion.bonus_items)
    goods = sum(((line.unit_price - line.discount) * line.quantity for line in order.lines
                 if line.bonus_of is None), ZERO) - order.subtotal_discount
    cost = ZERO
    uncosted = []
    for line in order.lines:
        price = costs.get(line.product_code)
        if price is None:
            uncosted.append(line.product_code)
        else:
            cost += price * line.quantity
    return OrderFacts(order.order_id, to_utc(order.placed_at), order.user_id,
                      order.customer_code or f"user {order.user_id}",
                      order.shipping.prefecture, order.total, goods - cost, uses, tuple(uncosted))


@dataclass(frozen=True, slots=True)
class Effect:
    campaign_id: str
    name: str
    start: datetime
    end: datetime  # the period's end, or now for a running campaign
    orders: int
    customers: int
    eligible_orders: int
    usage_rate: Decimal | None
    revenue: Decimal
    discounts: Decimal
    bonus_cost: Decimal
    free_shipping_cost: Decimal
    fixed_cost: Decimal
    cost: Decimal
    aov: Decimal | None
    aov_before: Decimal | None
    aov_non_participants: Decimal | None
    gross_margin: Decimal
    incremental_gross_margin: Decimal
    roi: Decimal | None
    uncosted: tuple[str, ...] = field(default_factory=tuple)
    unread_groups: tuple[str, ...] = field(default_factory=tuple)  # usergroups that could not filter (never read)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, Decimal):
                value = format(value, "f")
            elif isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            out[name] = value
        return out


def _avg(values: list[Decimal]) -> Decimal | None:
    return (sum(values, ZERO) / len(values)).quantize(Decimal("0.01")) if values else None


def _groups(campaign: Campaign) -> list[tuple[str, ...]]:
    """The campaign's usergroup requirements: each non-empty list is "any of these" and all must hold."""
    return [tuple(names) for names in (campaign.target.customer_groups, campaign.conditions.customer_groups) if names]


def _eligible(campaign: Campaign, fact: OrderFacts, members: Mapping[int, list[Membership]],
              read: set[str]) -> bool:
    target = campaign.target
    if target.customers and fact.customer not in target.customers:
        return False
    if target.regions and fact.prefecture not in target.regions:
        return False
    return all(member_at(members, fact.user_id, names, fact.placed_at)
               for names in _groups(campaign) if set(names) <= read)


def effect(campaign: Campaign, rules: CampaignRules, facts: Iterable[OrderFacts], costs: Mapping[str, Decimal],
           now: datetime, members: Mapping[int, list[Membership]] | None = None,
           read: set[str] | None = None) -> Effect:
    """``members``/``read``: the usergroup memberships and the groups read (store.usergroups)."""
    members, read = members or {}, read or set()
    start, end = campaign.period.start, min(campaign.period.end, to_utc(now))
    length = max(end - start, timedelta(0))
    everything = list(facts)
    period = [f for f in everything if start <= f.placed_at < end]
    before = [f for f in everything if start - length <= f.placed_at < start]
    used = [f for f in period if campaign.id in f.uses]
    others = [f for f in period if campaign.id not in f.uses]
    eligible = [f for f in period if _eligible(campaign, f, members, read)]
    discounts = sum((f.uses[campaign.id].discount for f in used), ZERO)
    bonus_cost = sum((costs.get(code, ZERO) * quantity for f in used
                      for code, quantity in f.uses[campaign.id].bonus_items), ZERO)
    free = sum(1 for f in used if f.uses[campaign.id].free_shipping) * rules.costs.free_shipping_per_order
    cost = discounts + bonus_cost + free + campaign.fixed_cost
    margin = sum((f.margin for f in used), ZERO)
    baseline = _avg([f.margin for f in others]) if others else _avg([f.margin for f in before])
    incremental = margin - len(used) * (baseline or ZERO) - free - campaign.fixed_cost
    return Effect(
        campaign_id=campaign.id, name=campaign.name, start=start, end=end, orders=len(used),
        customers=len({f.customer for f in used}), eligible_orders=len(eligible),
        usage_rate=(Decimal(len(used)) / len(eligible)).quantize(Decimal("0.0001")) if eligible else None,
        revenue=sum((f.total for f in used), ZERO), discounts=discounts, bonus_cost=bonus_cost,
        free_shipping_cost=free, fixed_cost=campaign.fixed_cost, cost=cost,
        aov=_avg([f.total for f in used]), aov_before=_avg([f.total for f in before]),
        aov_non_participants=_avg([f.total for f in others]), gross_margin=margin,
        incremental_gross_margin=incremental,
        roi=(incremental / cost).quantize(Decimal("0.0001")) if cost else None,
        uncosted=tuple(sorted({code for f in used for code in f.uncosted})),
        unread_groups=tuple(sorted({n for names in _groups(campaign) if not set(names) <= read for n in names})),
    )


# -- I/O -----------------------------------------------------------------------------------------------------------


async def load_orders(tx: Connection) -> list[Order]:
    """Every mirrored order except cancelled ones."""
    return await mirror.not_cancelled(tx)


def latest_costs(settings: Any) -> tuple[dict[str, Decimal], str]:
    """商品コード → cost price from the newest 商品マスター the products job applied (SMILE archive), and which
    file that was (or why there is none)."""
    from bridge.smile.generator import layouts_for
    from bridge.smile.reader import read_file

    dirs = settings.smile.dirs(settings.data_dir)
    layout = layouts_for(settings.smile, None)["products"]
    found: list[Path] = []
    for folder in (dirs.archive, dirs.inbox):
        if folder.is_dir():
            found += [p for p in folder.rglob(layout.glob) if p.is_file() and not p.name.endswith(".duplicate")]
    if not found:
        return {}, f"no 商品マスター ({layout.glob}) in {dirs.archive} or {dirs.inbox}: bonus items and margins at cost 0"
    newest = max(found, key=lambda p: (p.stat().st_mtime, p.name))
    result = read_file(newest, "products", layout=layout, settings=settings.smile)
    costs = {p.code: p.cost_price for p in result.records if p.cost_price is not None}
    return costs, f"cost prices from {newest} ({len(costs)} product(s))"
