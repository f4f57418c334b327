"""Promotions in the simulator: CS-Cart's ``cscart_promotions`` rows, the cart-zone subset the campaigns job uses
applied at checkout, usage counting, and the add-on's ``/api/smile_bridge_promotions`` entity (docs/addon.md §10).

Applied at ``place_order`` in CS-Cart's order (``stop_other_rules`` ones first, then priority ascending;
``stop_other_rules`` ends the walk once one applied), with conditions
``subtotal``, ``products_number``, ``categories``, ``products``, ``usergroup``, ``users``, ``state``,
``coupon_code``, ``number_of_usages`` and the add-on's ``smile_bridge_weekdays`` in ``all``/``any`` groups, and
bonuses ``order_discount``, ``discount_on_products``, ``discount_on_categories`` (by_percentage / by_fixed),
``free_shipping``, ``free_products`` and ``give_points``. Dates are whole JST days, as CS-Cart keeps them; the
status is what the bridge switches to the minute. Order details expose ``promotions``/``promotion_ids`` as core
does and, per promotion, what it gave (the add-on's ``smile_bridge_promotions``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bridge.cscart.sim.api import ApiCall, ApiError, Result
from bridge.cscart.sim.state import SimItem, SimOrder, SimState, item_id_for, money
from bridge.domain.time import JST

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MANAGED_FIELDS = ("name", "status", "from_date", "to_date", "priority", "stop_other_rules", "zone", "conditions",
                  "bonuses")


@dataclass(slots=True)
class SimPromotion:
    promotion_id: int
    name: str
    status: str = "D"
    from_date: str = ""  # YYYY-MM-DD (CS-Cart: unix day)
    to_date: str = ""
    priority: int = 0
    stop_other_rules: str = "N"
    zone: str = "cart"
    conditions: dict[str, Any] = field(default_factory=dict)
    bonuses: list[dict[str, Any]] = field(default_factory=list)
    number_of_usages: int = 0

    def managed(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in MANAGED_FIELDS}


def fingerprint(promotion: SimPromotion) -> str:
    """What the add-on keeps beside the campaign id: a hash of the stored promotion; a mismatch = edited by hand."""
    text = json.dumps(promotion.managed(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha1(text.encode()).hexdigest()


# -- checkout ------------------------------------------------------------------------------------------------------


def _jst_day(state: SimState) -> date:
    return datetime.fromtimestamp(state.now(), JST).date()


def _live(promotion: SimPromotion, today: date) -> bool:
    if promotion.status != "A" or promotion.zone != "cart":
        return False
    if promotion.from_date and today < date.fromisoformat(promotion.from_date):
        return False
    return not (promotion.to_date and today > date.fromisoformat(promotion.to_date))


def _numbers(value: Any) -> set[int]:
    return {int(part) for part in str(value).split(",") if part.strip().isdigit()}


class _Cart:
    def __init__(self, state: SimState, order: SimOrder, coupons: tuple[str, ...]) -> None:
        self.state = state
        self.order = order
        self.coupons = {c.upper() for c in coupons}
        user = state.users.get(order.user_id)
        self.usergroups = {gid for gid, link in (user.usergroups if user else {}).items() if link == "A"}
        self.weekday = WEEKDAYS[_jst_day(state).weekday()]

    def categories_of(self, item: SimItem) -> set[int]:
        product = self.state.products.get(item.product_id)
        return set(product.category_ids) if product else set()

    def holds(self, promotion: SimPromotion, tree: dict[str, Any]) -> bool:
        results = [self.holds(promotion, c) if "conditions" in c else self.leaf(promotion, c)
                   for c in tree.get("conditions", [])]
        if not results:
            return True
        return all(results) if tree.get("set", "all") == "all" else any(results)

    def leaf(self, promotion: SimPromotion, c: dict[str, Any]) -> bool:
        kind, op, value = c.get("condition"), c.get("operator"), c.get("value")
        items = [i for i in self.order.items.values() if i.promotion_id is None]
        if kind == "subtotal":  # @cart.subtotal: after the product discounts of promotions applied before
            return _compare(running_subtotal(self.order), op, Decimal(str(value)))
        if kind == "products_number":
            return _compare(Decimal(sum(i.amount for i in items)), op, Decimal(str(value)))
        if kind == "categories":
            wanted = _numbers(value)
            return any(self.categories_of(i) & wanted for i in items)
        if kind == "products":
            rows = value if isinstance(value, list) else []
            return any(i.product_id == int(row["product_id"]) and i.amount >= int(row.get("amount") or 1)
                       for row in rows for i in items)
        if kind == "usergroup":
            return int(str(value)) in self.usergroups
        if kind == "users":
            return self.order.user_id in _numbers(value)
        if kind == "state":
            here = self.order.address.get("s_state", "")
            return here in str(value).split(",") if op == "in" else here == str(value)
        if kind == "coupon_code":
            return str(value).upper() in self.coupons
        if kind == "number_of_usages":
            return _compare(Decimal(promotion.number_of_usages), op, Decimal(str(value)))
        if kind == "smile_bridge_weekdays":
            return self.weekday in str(value).split(",")
        raise ApiError(500, f"the simulator does not apply condition {kind!r}")


def _compare(left: Decimal, op: Any, right: Decimal) -> bool:
    return {"gte": left >= right, "gt": left > right, "lte": left <= right, "lt": left < right,
            "eq": left == right, "neq": left != right}.get(str(op), False)


def running_subtotal(order: SimOrder) -> Decimal:
    """CS-Cart's ``cart['subtotal']`` during the promotions pass: fn_promotion_apply_discount() sums the products'
    subtotals again after each product discount."""
    return order.subtotal - order.discount


def _off(base: Decimal, bonus: dict[str, Any]) -> Decimal:
    value = Decimal(str(bonus.get("discount_value") or 0))
    if bonus.get("discount_bonus") == "by_percentage":
        return (base * value / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return min(value, base)


def apply_cart_promotions(state: SimState, order: SimOrder, coupons: tuple[str, ...] = ()) -> None:
    """What CS-Cart's cart calculation does with the live cart-zone promotions; writes the order's discounts,
    free shipping, bonus items and the applied promotions."""
    cart = _Cart(state, order, coupons)
    today = _jst_day(state)
    # fn_get_promotions(sort_by stop_other_rules_and_priority, descasc): stop_other_rules first, then priority
    # ascending (a real 4.20.1 store applied priorities 10, 20, 30 in that order)
    live = sorted((p for p in state.promotions.values() if _live(p, today)),
                  key=lambda p: (p.stop_other_rules != "Y", p.priority, p.promotion_id))
    for promotion in live:
        if not cart.holds(promotion, promotion.conditions):
            continue
        gave: dict[str, Any] = {"discount": Decimal(0), "free_shipping": Decimal(0), "bonus_items": [],
                                "points": 0}
        for bonus in promotion.bonuses:
            _give(state, order, cart, promotion, bonus, gave)
        order.promotions[promotion.promotion_id] = {
            "bonuses": promotion.bonuses, "discount": money(gave["discount"]),
            "free_shipping": money(gave["free_shipping"]), "bonus_items": gave["bonus_items"],
            "points": gave["points"]}
        if promotion.stop_other_rules == "Y":
            break


def _give(state: SimState, order: SimOrder, cart: _Cart, promotion: SimPromotion, bonus: dict[str, Any],
          gave: dict[str, Any]) -> None:
    kind = bonus.get("bonus")
    items = [i for i in order.items.values() if i.promotion_id is None]
    if kind == "order_discount":  # on the subtotal after the product discounts applied so far
        left = running_subtotal(order) - Decimal(order.subtotal_discount)
        off = min(_off(running_subtotal(order), bonus), left)
        order.subtotal_discount = money(Decimal(order.subtotal_discount) + off)
        gave["discount"] += off
    elif kind in ("discount_on_products", "discount_on_categories"):
        wanted = _numbers(bonus.get("value"))
        for item in items:
            hit = (item.product_id in wanted if kind == "discount_on_products"
                   else bool(cart.categories_of(item) & wanted))
            if not hit:
                continue
            unit = Decimal(item.price) - Decimal(item.discount)
            off = _off(Decimal(item.price), bonus)
            off = min(off, unit)
            item.discount = money(Decimal(item.discount) + off)
            gave["discount"] += off * item.amount
    elif kind == "free_shipping":
        if str(order.shipping_id) in str(bonus.get("value", "")).split(",") and Decimal(order.shipping_cost):
            gave["free_shipping"] += Decimal(order.shipping_cost)
            order.shipping_cost = money(0)
    elif kind == "free_products":
        for row in bonus.get("value") or []:
            product = state.products.get(int(row["product_id"]))
            if product is None:
                continue
            index = len(order.items)
            item_id = item_id_for(order.order_id, product.product_id, index)
            order.items[item_id] = SimItem(item_id=item_id, product_id=product.product_id,
                                           product_code=product.product_code, product=product.product,
                                           price=money(0), amount=int(row.get("amount") or 1),
                                           promotion_id=promotion.promotion_id)
            gave["bonus_items"].append({"product_id": product.product_id, "product_code": product.product_code,
                                        "amount": int(row.get("amount") or 1)})
    elif kind == "give_points":
        if not state.reward_points:
            raise ApiError(500, "give_points without the reward points add-on")
        gave["points"] += int(bonus.get("value") or 0)


def count_usage(state: SimState, order: SimOrder, before: str, after: str) -> None:
    """``fn_promotion_post_processing``: usages rise when an order enters a positive status, fall when it leaves."""
    was, now = state.inventory_of(before) == "D", state.inventory_of(after) == "D"
    if was == now:
        return
    for promotion_id in order.promotions:
        promotion = state.promotions.get(promotion_id)
        if promotion is not None:
            promotion.number_of_usages += 1 if now else -1


def order_fields(state: SimState, order: SimOrder) -> dict[str, Any]:
    """The order detail's promotion keys: core's ``promotions``/``promotion_ids`` and, with the add-on, its
    per-promotion amounts (``smile_bridge_promotions``)."""
    core: dict[str, Any] = {
        "promotions": {str(pid): {"bonuses": applied["bonuses"]} for pid, applied in order.promotions.items()},
        "promotion_ids": ",".join(str(pid) for pid in order.promotions),
    }
    if state.reward_points:  # the Reward points add-on's order field: give_points bonuses land in "reward"
        reward = sum(int(applied["points"]) for applied in order.promotions.values())
        core["points_info"] = {"reward": str(reward), "is_gain": "N"} if reward else {"is_gain": "N"}
    if state.addon is None:
        return core
    return {**core,
        "smile_bridge_promotions": [
            {"promotion_id": pid, "campaign_id": campaign_of(state, pid), "discount": applied["discount"],
             "free_shipping": any(b.get("bonus") == "free_shipping" for b in applied["bonuses"]), "bonus_items": applied["bonus_items"],
             "points": applied["points"]}
            for pid, applied in order.promotions.items()],
    }


# -- the add-on's entity ---------------------------------------------------------------------------------------------


def _registry(call: ApiCall) -> dict[str, tuple[int, str]]:
    """The add-on's table: campaign id → (promotion id, fingerprint of what the bridge wrote)."""
    addon = call.state.addon
    if addon is None:
        raise ApiError(404, f"The Entity {call.entity} not found")
    registry: dict[str, tuple[int, str]] = addon.managed_promotions
    return registry


def campaign_of(state: SimState, promotion_id: int) -> str:
    addon = state.addon
    registry: dict[str, tuple[int, str]] = getattr(addon, "managed_promotions", {}) if addon is not None else {}
    for campaign_id, (pid, _) in registry.items():
        if pid == promotion_id:
            return str(campaign_id)
    return ""


def _row(state: SimState, campaign_id: str, promotion_id: int, stored: str) -> dict[str, Any]:
    promotion = state.promotions[promotion_id]
    return {"campaign_id": campaign_id, "promotion_id": promotion_id, **promotion.managed(),
            "number_of_usages": promotion.number_of_usages, "fingerprint": stored,
            "edited": fingerprint(promotion) != stored}


def index(call: ApiCall) -> Result:
    registry = _registry(call)
    state = call.state
    rows = [_row(state, cid, pid, stored) for cid, (pid, stored) in sorted(registry.items())
            if pid in state.promotions]
    if call.id is not None:
        found = [row for row in rows if row["campaign_id"] == call.id]
        if not found:
            raise ApiError(404, f"campaign {call.id} has no promotion")
        return Result(200, found[0])
    return Result(200, {"promotions": rows, "capabilities": {"reward_points": state.reward_points}})


def _validate(body: dict[str, Any], state: SimState, creating: bool) -> None:
    if creating and set(body) - {"dry_run"} == {"status"}:
        raise ApiError(400, "a promotion that does not exist yet needs name, dates, conditions and bonuses")
    if "status" in body and body["status"] not in ("A", "D"):
        raise ApiError(400, "status must be A or D")
    for bonus in body.get("bonuses") or []:
        if bonus.get("bonus") == "give_points" and not state.reward_points:
            raise ApiError(400, "bonus give_points needs the Reward points add-on, which is not installed")
    for name in ("from_date", "to_date"):
        if body.get(name):
            try:
                date.fromisoformat(str(body[name]))
            except ValueError:
                raise ApiError(400, f"{name} must be YYYY-MM-DD") from None


def update(call: ApiCall) -> Result:
    """``PUT /smile_bridge_promotions/<campaign id>``: create or update by campaign id (fn_update_promotion)."""
    registry = _registry(call)
    state, body, campaign_id = call.state, dict(call.body), str(call.id)
    known = registry.get(campaign_id)
    creating = known is None or known[0] not in state.promotions
    _validate(body, state, creating)
    dry_run = bool(body.pop("dry_run", False))
    promotion = SimPromotion(promotion_id=0, name="") if creating else _copy(state.promotions[known[0]])  # type: ignore[index]
    for name in MANAGED_FIELDS:
        if name in body:
            value = body[name]
            setattr(promotion, name, int(value) if name == "priority" else value)
    if promotion.from_date and promotion.to_date and promotion.from_date > promotion.to_date:
        promotion.from_date, promotion.to_date = promotion.to_date, promotion.from_date  # as fn_update_promotion
    if dry_run:
        return Result(200, {"campaign_id": campaign_id, "dry_run": True, "created": creating,
                            "promotion": promotion.managed()})
    if creating:
        promotion.promotion_id = state.new_id("promotion", state.promotions)
    state.promotions[promotion.promotion_id] = promotion
    registry[campaign_id] = (promotion.promotion_id, fingerprint(promotion))
    return Result(200 if not creating else 201, {"campaign_id": campaign_id, "promotion_id": promotion.promotion_id,
                                                 "created": creating, "promotion": promotion.managed()})


def _copy(promotion: SimPromotion) -> SimPromotion:
    return SimPromotion(**{name: getattr(promotion, name) for name in SimPromotion.__slots__})


def refused(call: ApiCall) -> Result:
    raise ApiError(405, "promotions are never deleted (orders refer to them): PUT {\"status\": \"D\"} instead")


def edit_by_hand(state: SimState, promotion_id: int, **changes: Any) -> None:
    """An admin edits the promotion in CS-Cart (tests): the stored row changes, the add-on's fingerprint does not."""
    promotion = state.promotions[promotion_id]
    for name, value in changes.items():
        setattr(promotion, name, value)
