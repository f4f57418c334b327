"""Promotion contract: the same campaigns and orders, run on the simulator (CI) and on a real CS-Cart (live suite).

Each scenario writes one campaign to campaigns.yaml, runs the campaigns job (which writes it through the add-on
and switches off the previous scenario's), places orders over REST (``POST /stores/:id/orders``: CS-Cart's own cart
calculation, promotions included) and checks, against figures computed here from the product's price:

- what CS-Cart charged: the products' discounts, the order discount (``subtotal_discount``), the shipping cost, the
  free bonus line, the points;
- that the add-on's per-promotion amounts (``smile_bridge_promotions``, what the bridge reads into 値引 lines)
  equal what CS-Cart charged;
- that the 受注 slip the bridge writes from the order adds up to the order's total, with one 値引 line per
  campaign for the discount it gave.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bridge.cscart.client import CSCartClient
from bridge.cscart.mapping import order_from_json
from bridge.domain.time import JST
from bridge.sync.campaigns.applied import discount_lines
from bridge.sync.orders import export

CENT = Decimal("0.01")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


@dataclass
class Shop:
    """What a scenario needs from a store: ids to use, and how to run the job and place an order."""

    client: CSCartClient
    company_id: int
    product_id: int  # a product with stock, in category_id, price > 0
    product_code: str
    price: Decimal
    category_id: int
    bonus_id: int  # another product, given free
    bonus_code: str
    user_id: int  # 得意先 member_code, in usergroup `group`
    other_user_id: int  # in no usergroup, another 得意先
    member_code: str
    group: str  # a customer usergroup name
    payment_id: int
    shipping_id: int
    apply: Callable[[str], Awaitable[None]]  # campaigns.yaml text → job run, queue drained
    now: datetime = field(default_factory=lambda: datetime.now(JST))
    orders: list[int] = field(default_factory=list)
    seen: list[dict[str, Any]] = field(default_factory=list)  # every order's figures, for the live log

    async def order(self, amount: int, *, user_id: int | None = None, coupon: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "user_id": user_id or self.user_id, "payment_id": self.payment_id, "shipping_id": self.shipping_id,
            "products": {str(self.product_id): {"product_id": self.product_id, "amount": amount}}}
        if coupon:
            body["coupon_codes"] = [coupon]
        created = await self.client.request("POST", f"stores/{self.company_id}/orders", body=body)
        order_id = int(created["order_id"])
        self.orders.append(order_id)
        order = dict(await self.client.request("GET", f"orders/{order_id}"))
        self.seen.append({key: order.get(key) for key in (
            "order_id", "total", "subtotal", "discount", "subtotal_discount", "shipping_cost", "promotion_ids",
            "points_info", "smile_bridge_promotions")})
        return order

    def campaigns_yaml(self, campaign_id: str, body: str, *more: tuple[str, str]) -> str:
        start = (self.now - timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")
        end = (self.now + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")
        text = f'version: 1\ncategories: {{"LIVE": [{self.category_id}]}}\ncampaigns:\n'
        for cid, lines in ((campaign_id, body), *more):
            text += (f"  - id: {cid}\n    name: 契約試験 {cid}\n    period: {{start: \"{start}\", end: \"{end}\"}}\n"
                     + "".join(f"    {line}\n" for line in lines.strip().splitlines()))
        return text


# -- what an order must show -------------------------------------------------------------------------------------


def _d(value: Any) -> Decimal:
    return Decimal(str(value if value not in (None, "") else 0))


def products_discount(order: dict[str, Any]) -> Decimal:
    rows = order.get("products") or {}
    rows = rows.values() if isinstance(rows, dict) else rows
    return sum((_d(r.get("discount")) * _d(r.get("amount")) for r in rows), Decimal(0))


def bonus_rows(order: dict[str, Any]) -> list[dict[str, Any]]:
    rows = order.get("products") or {}
    rows = rows.values() if isinstance(rows, dict) else rows
    return [r for r in rows if (r.get("extra") or {}).get("exclude_from_calculate")]


def applied(order: dict[str, Any], campaign_id: str) -> dict[str, Any] | None:
    for row in order.get("smile_bridge_promotions") or []:
        if row.get("campaign_id") == campaign_id:
            return dict(row)
    return None


def check_books(order: dict[str, Any]) -> None:
    """The add-on's amounts explain every yen CS-Cart took off, and the 受注 slip adds up to the total."""
    charged = products_discount(order) + _d(order.get("subtotal_discount"))
    reported = sum((_d(r.get("discount")) for r in order.get("smile_bridge_promotions") or []), Decimal(0))
    why = f"order {order['order_id']}: add-on amounts {reported} != CS-Cart's discounts {charged}"
    assert reported == charged, (why, order.get("smile_bridge_promotions"), order.get("promotions"))
    mapped = order_from_json(order)
    rows = export.slip_rows(mapped, export.Party("000001", "test"), export.ExportRules())
    assert export.slip_total(rows) == mapped.total - mapped.tax_added, (order["order_id"], rows, order["total"])
    by_label = {line.label: line.amount for line in discount_lines(mapped)}
    for row in order.get("smile_bridge_promotions") or []:
        if _d(row.get("discount")) and row.get("campaign_id"):
            assert by_label.get(row["campaign_id"]) == _d(row["discount"]), (by_label, row)


def expect(order: dict[str, Any], campaign_id: str, *, discount: Decimal | None = None,
           free_shipping: bool = False, bonus: tuple[str, int] | None = None, points: int = 0) -> dict[str, Any]:
    """The campaign applied to ``order`` and gave exactly this; returns its add-on row."""
    check_books(order)
    row = applied(order, campaign_id)
    assert row is not None, (f"campaign {campaign_id} did not apply to order {order['order_id']}",
                             order.get("promotion_ids"), order.get("smile_bridge_promotions"))
    assert str(row["promotion_id"]) in str(order.get("promotion_ids") or "").split(",")
    if discount is not None:
        assert _d(row["discount"]) == discount, (row, order.get("subtotal_discount"), products_discount(order))
    assert bool(row["free_shipping"]) is free_shipping, row
    if free_shipping:
        assert _d(order.get("shipping_cost")) == 0, order.get("shipping_cost")
    items = [(str(i["product_code"]), int(i["amount"])) for i in row.get("bonus_items") or []]
    assert items == ([bonus] if bonus else []), row
    if bonus:
        lines = bonus_rows(order)
        assert [(str(r["product_code"]), int(r["amount"]), _d(r["price"])) for r in lines] == \
            [(bonus[0], bonus[1], Decimal(0))], lines
    assert int(row.get("points") or 0) == points, row
    return row


def expect_none(order: dict[str, Any], campaign_id: str) -> None:
    check_books(order)
    assert applied(order, campaign_id) is None, (order["order_id"], order.get("smile_bridge_promotions"))
    assert products_discount(order) + _d(order.get("subtotal_discount")) == 0, order.get("promotions")


# -- the scenarios ---------------------------------------------------------------------------------------------------

LIVE_TEN_PERCENT = """
target: {categories: [LIVE]}
benefits: [{type: discount, percent: 10}]"""
"""10 % off each product of the test category: alone, and the product discount the combined scenarios start from."""


async def category_percent(shop: Shop, cid: str) -> None:
    await shop.apply(shop.campaigns_yaml(cid, LIVE_TEN_PERCENT))
    order = await shop.order(2)
    unit = cents(shop.price / 10)
    expect(order, cid, discount=unit * 2)
    assert products_discount(order) == unit * 2


async def fixed_order_min_subtotal(shop: Shop, cid: str) -> None:
    await shop.apply(shop.campaigns_yaml(cid, f"""
target: {{all: true}}
conditions: {{min_order_amount: {shop.price * 2}}}
benefits: [{{type: discount, amount: 5, applies_to: order}}]"""))
    below = await shop.order(1)
    expect_none(below, cid)
    at = await shop.order(2)  # the boundary itself: 以上
    expect(at, cid, discount=Decimal(5))
    assert _d(at["subtotal_discount"]) == 5


async def fixed_products(shop: Shop, cid: str) -> None:
    await shop.apply(shop.campaigns_yaml(cid, """
target: {categories: [LIVE]}
benefits: [{type: discount, amount: 3}]"""))
    order = await shop.order(3)
    expect(order, cid, discount=Decimal(9))
    assert products_discount(order) == 9


async def weekdays(shop: Shop, cid: str) -> None:
    today = WEEKDAYS[datetime.now(JST).weekday()]
    others = [d for d in WEEKDAYS if d != today]
    await shop.apply(shop.campaigns_yaml(cid, f"""
target: {{all: true}}
conditions: {{weekdays: [{", ".join(others)}]}}
benefits: [{{type: discount, percent: 10, applies_to: order}}]"""))
    expect_none(await shop.order(2), cid)
    await shop.apply(shop.campaigns_yaml(cid, f"""
target: {{all: true}}
conditions: {{weekdays: [{today}]}}
benefits: [{{type: discount, percent: 10, applies_to: order}}]"""))
    order = await shop.order(2)
    expect(order, cid, discount=cents(shop.price * 2 / 10))


async def free_shipping(shop: Shop, cid: str) -> None:
    await shop.apply(shop.campaigns_yaml(cid, """
target: {all: true}
conditions: {min_quantity: 3}
benefits: [{type: free_shipping}]"""))
    paid = await shop.order(2)
    expect_none(paid, cid)
    assert _d(paid["shipping_cost"]) > 0, "the store must charge shipping for this test to mean anything"
    free = await shop.order(3)
    expect(free, cid, discount=Decimal(0), free_shipping=True)


async def bonus_item(shop: Shop, cid: str) -> None:
    await shop.apply(shop.campaigns_yaml(cid, f"""
target: {{products: ["{shop.product_code}"]}}
benefits: [{{type: bonus_item, product_code: "{shop.bonus_code}", quantity: 1}}]"""))
    order = await shop.order(2)
    expect(order, cid, discount=Decimal(0), bonus=(shop.bonus_code, 1))


async def points(shop: Shop, cid: str) -> None:
    await shop.apply(shop.campaigns_yaml(cid, """
target: {all: true}
benefits: [{type: points, points: 200}]"""))
    order = await shop.order(1)
    expect(order, cid, discount=Decimal(0), points=200)
    assert int((order.get("points_info") or {}).get("reward") or 0) == 200, order.get("points_info")


async def customers_target(shop: Shop, cid: str) -> None:
    await shop.apply(shop.campaigns_yaml(cid, f"""
target: {{customers: ["{shop.member_code}"]}}
benefits: [{{type: discount, percent: 5, applies_to: order}}]"""))
    expect(await shop.order(2), cid, discount=cents(shop.price * 2 * 5 / 100))
    expect_none(await shop.order(2, user_id=shop.other_user_id), cid)


async def usergroup_target(shop: Shop, cid: str) -> None:
    await shop.apply(shop.campaigns_yaml(cid, f"""
target: {{customer_groups: ["{shop.group}"]}}
benefits: [{{type: discount, amount: 4, applies_to: order}}]"""))
    expect(await shop.order(1), cid, discount=Decimal(4))
    expect_none(await shop.order(1, user_id=shop.other_user_id), cid)


async def coupon(shop: Shop, cid: str) -> None:
    code = f"C{cid[-6:]}".upper()
    await shop.apply(shop.campaigns_yaml(cid, f"""
target: {{all: true}}
benefits: [{{type: coupon, code: {code}, percent: 5}}]"""))
    expect_none(await shop.order(2), cid)
    expect(await shop.order(2, coupon=code.lower()), cid, discount=cents(shop.price * 2 * 5 / 100))


async def stacked(shop: Shop, cid: str) -> None:
    """Three campaigns on one order: two product discounts on the same product, then an order discount."""
    await shop.apply(shop.campaigns_yaml(f"{cid}-a", "priority: 30" + LIVE_TEN_PERCENT, (f"{cid}-b", """
priority: 20
target: {categories: [LIVE]}
benefits: [{type: discount, amount: 3}]"""), (f"{cid}-c", """
priority: 10
target: {all: true}
benefits: [{type: discount, percent: 10, applies_to: order}]""")))
    order = await shop.order(2)
    expect(order, f"{cid}-a", discount=cents(shop.price / 10) * 2)
    expect(order, f"{cid}-b", discount=Decimal(6))
    after_products = (shop.price - cents(shop.price / 10) - 3) * 2
    expect(order, f"{cid}-c", discount=cents(after_products / 10))


async def threshold_after_discounts(shop: Shop, cid: str) -> None:
    """A minimum subtotal is checked on the subtotal after the product discounts of campaigns applied before it."""
    await shop.apply(shop.campaigns_yaml(f"{cid}-a", "priority: 20" + LIVE_TEN_PERCENT, (f"{cid}-b", f"""
priority: 10
target: {{all: true}}
conditions: {{min_order_amount: {shop.price * 2}}}
benefits: [{{type: discount, amount: 5, applies_to: order}}]""")))
    order = await shop.order(2)  # ¥2p before the 10 %, 1.8p after it: below the threshold
    expect(order, f"{cid}-a", discount=cents(shop.price / 10) * 2)
    assert applied(order, f"{cid}-b") is None, order.get("smile_bridge_promotions")
    order = await shop.order(3)  # 2.7p after the 10 %: at or above
    expect(order, f"{cid}-b", discount=Decimal(5))


async def products_and_order(shop: Shop, cid: str) -> None:
    """One campaign taking money off the products and off the order: one 値引 line with both."""
    await shop.apply(shop.campaigns_yaml(cid, """
target: {categories: [LIVE]}
benefits: [{type: discount, percent: 10}, {type: discount, amount: 5, applies_to: order}]"""))
    order = await shop.order(2)
    expect(order, cid, discount=cents(shop.price / 10) * 2 + 5)
    assert _d(order["subtotal_discount"]) == 5


async def two_order_discounts(shop: Shop, cid: str) -> None:
    """A product discount, then ¥5 off the order, then 10 % off the order: each its own amount (the add-on splits
    the order's subtotal_discount between the two order discounts)."""
    await shop.apply(shop.campaigns_yaml(f"{cid}-a", "priority: 30" + LIVE_TEN_PERCENT, (f"{cid}-b", """
priority: 20
target: {all: true}
benefits: [{type: discount, amount: 5, applies_to: order}]"""), (f"{cid}-c", """
priority: 10
target: {all: true}
benefits: [{type: discount, percent: 10, applies_to: order}]""")))
    order = await shop.order(2)
    unit = cents(shop.price / 10)
    expect(order, f"{cid}-a", discount=unit * 2)
    expect(order, f"{cid}-b", discount=Decimal(5))
    expect(order, f"{cid}-c", discount=cents((shop.price - unit) * 2 / 10))


SCENARIOS: dict[str, Callable[[Shop, str], Awaitable[None]]] = {
    "category_percent": category_percent,
    "fixed_order_min_subtotal": fixed_order_min_subtotal,
    "fixed_products": fixed_products,
    "weekdays": weekdays,
    "free_shipping": free_shipping,
    "bonus_item": bonus_item,
    "points": points,
    "customers_target": customers_target,
    "usergroup_target": usergroup_target,
    "coupon": coupon,
    "stacked": stacked,
    "threshold_after_discounts": threshold_after_discounts,
    "products_and_order": products_and_order,
    "two_order_discounts": two_order_discounts,
}
