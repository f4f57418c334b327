"""Campaigns side by side: the orders each campaign of rules/campaigns.yaml reached, its sales and margin, the
uplift over the same-length period just before (same target, same conditions), the estimated cost of its benefits
and the ROI.

Two views of a campaign side by side:

* **estimated, by the rules** (columns orders … roi): an order counts when CS-Cart reported the campaign on it
  (``campaigns`` of the order, which also holds the campaigns of its applied promotions), or when it was placed in
  the campaign's period and meets its target and conditions as rules/campaigns.yaml defines them; sales are line
  amounts before discounts; benefit cost is an estimate: percent discounts × target (or order) sales, yen discounts
  × orders, free shipping = the shipping charged, points at 1 yen, bonus items at 原価. It works for an order
  history without promotion records and gives the uplift over the period before.
* **applied, as `bridge campaigns report` counts them** (columns applied_orders … actual_cost): the usage and
  benefit figures of issue 18's report (``bridge.sync.campaigns.report.effect``, the same function) over the
  promotions the add-on recorded on each order (``order_promotions``): orders the campaign applied to, their
  customers, eligible orders and usage rate, discounts given, bonus items at 原価, free shipping at
  ``costs.free_shipping_per_order``, the fixed cost and their sum. Two inputs differ from that report's, on
  purpose and tested: eligible orders are not narrowed by CS-Cart usergroups (their membership history is in the
  state store, not here — a campaign naming usergroups counts every target order as eligible; ``bridge campaigns
  report`` lists such groups as unread when it cannot filter either), and an order's region is its delivery
  prefecture, else its billing one (that report: the delivery prefecture only). Gross margin, incremental margin
  and ROI stay with ``bridge campaigns report``: they need each line's promotion discount, which this store does
  not keep.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from bridge.analytics.reports.base import Chart, Column, Params, Report, Table, number
from bridge.domain.time import JST, UTC
from bridge.rules.campaigns import WEEKDAYS, Campaign, CampaignRules
from bridge.sync.campaigns.report import Effect, OrderFacts, Use, effect


@dataclass(slots=True)
class _Order:
    order_id: int
    placed: datetime
    prefecture: str
    group: str
    campaigns: list[str]
    shipping: Decimal
    lines: list[tuple[str, str, Decimal, Decimal, Decimal | None]] = field(default_factory=list)


def _orders(con: Any, start: datetime, end: datetime) -> list[_Order]:
    found: dict[int, _Order] = {}
    rows = con.execute("""
        SELECT o.order_id, o.placed_at, o.prefecture, coalesce(c.customer_group, ''), o.campaigns, o.shipping_cost,
               l.product_code, coalesce(p.category_code, ''), l.quantity, l.amount,
               l.quantity * p.cost_price
        FROM orders o JOIN order_lines l ON l.order_id = o.order_id
        LEFT JOIN products p ON p.product_code = l.product_code
        LEFT JOIN customers c ON c.customer_code = o.customer_code
        WHERE o.state <> 'cancelled' AND o.placed_at >= ? AND o.placed_at < ?
        ORDER BY o.order_id, l.line_no""", [start.astimezone(UTC).replace(tzinfo=None),
                                            end.astimezone(UTC).replace(tzinfo=None)]).fetchall()
    for oid, placed, pref, group, campaigns, shipping, code, category, qty, amount, cost in rows:
        order = found.get(oid)
        if order is None:
            order = found[oid] = _Order(oid, placed.replace(tzinfo=UTC), pref, group, list(campaigns or ()),
                                        shipping)
        order.lines.append((code, category, qty, amount, cost))
    return list(found.values())


def _targeted(campaign: Campaign, line: tuple[str, str, Decimal, Decimal, Decimal | None], order: _Order) -> bool:
    t = campaign.target
    return (t.all or line[0] in t.products or line[1] in t.categories or order.group in t.customer_groups
            or order.prefecture in t.regions)


def applies(campaign: Campaign, order: _Order, start: datetime, end: datetime) -> bool:
    if campaign.id in order.campaigns:
        return True
    if not start <= order.placed < end:
        return False
    c = campaign.conditions
    if c.weekdays and WEEKDAYS[order.placed.astimezone(JST).weekday()] not in c.weekdays:
        return False
    if c.customer_groups and order.group not in c.customer_groups:
        return False
    targeted = [line for line in order.lines if _targeted(campaign, line, order)]
    if not targeted:
        return False
    subtotal = sum((line[3] for line in order.lines), Decimal(0))
    if c.min_order_amount is not None and subtotal < c.min_order_amount:
        return False
    if c.min_quantity is not None and sum((line[2] for line in targeted), Decimal(0)) < c.min_quantity:
        return False
    return not (c.products_all and not set(c.products_all) <= {line[0] for line in order.lines})


def _figures(campaign: Campaign, orders: list[_Order], costs: dict[str, Decimal | None]) -> dict[str, float]:
    sales = target_sales = margin = cost = shipping = 0.0
    for order in orders:
        targeted = [line for line in order.lines if _targeted(campaign, line, order)]
        order_sales = sum(number(line[3]) for line in order.lines)
        sales += order_sales
        this_target = sum(number(line[3]) for line in targeted)
        target_sales += this_target
        margin += sum(number(line[3]) - number(line[4]) for line in targeted if line[4] is not None)
        shipping += number(order.shipping)
        for benefit in campaign.benefits:
            kind = benefit.type
            if kind in ("discount", "coupon"):
                base = order_sales if getattr(benefit, "applies_to", "products") == "order" else this_target
                pct = getattr(benefit, "percent", None)
                cost += base * float(pct) / 100 if pct is not None else number(getattr(benefit, "amount", 0))
            elif kind == "free_shipping":
                cost += number(order.shipping)
            elif kind == "points":
                cost += benefit.points  # type: ignore[union-attr]
            elif kind == "bonus_item":
                cost += number(costs.get(benefit.product_code)) * benefit.quantity  # type: ignore[union-attr]
    return {"orders": len(orders), "sales": sales, "target_sales": target_sales, "margin": margin, "cost": cost}


def order_facts(con: Any, start: datetime, end: datetime) -> list[OrderFacts]:
    """The not-cancelled orders placed in [start, end) with the promotions applied to them, as issue 18's report
    takes them (margin not known here: 0)."""
    bounds = [start.astimezone(UTC).replace(tzinfo=None), end.astimezone(UTC).replace(tzinfo=None)]
    uses: dict[int, dict[str, Use]] = {}
    for oid, campaign, discount, free, bonus in con.execute("""
            SELECT p.order_id, p.campaign_id, p.discount, p.free_shipping, p.bonus_items
            FROM order_promotions p JOIN orders o ON o.order_id = p.order_id
            WHERE o.state <> 'cancelled' AND o.placed_at >= ? AND o.placed_at < ? AND p.campaign_id <> ''
            ORDER BY p.order_id, p.promotion_id""", bounds).fetchall():
        items = tuple((str(code), Decimal(quantity)) for code, quantity in json.loads(bonus))
        before = uses.setdefault(oid, {}).get(campaign, Use())
        uses[oid][campaign] = Use(before.discount + discount, before.free_shipping or free, before.bonus_items + items)
    rows = con.execute("""
        SELECT order_id, placed_at, coalesce(user_id, 0), customer_code, prefecture, total FROM orders
        WHERE state <> 'cancelled' AND placed_at >= ? AND placed_at < ? ORDER BY order_id""", bounds).fetchall()
    return [OrderFacts(oid, placed.replace(tzinfo=UTC), int(user), customer or f"user {user}", prefecture, total,
                       Decimal(0), uses.get(oid, {})) for oid, placed, user, customer, prefecture, total in rows]


def applied_effect(con: Any, campaign: Campaign, rules: CampaignRules, costs: dict[str, Decimal | None],
                   now: datetime) -> Effect:
    """Issue 18's usage and benefit figures of ``campaign`` from this store (see the module's notes)."""
    end = min(campaign.period.end, now.astimezone(UTC))
    facts = order_facts(con, campaign.period.start, max(end, campaign.period.start))
    known = {code: cost for code, cost in costs.items() if cost is not None}
    return effect(campaign, rules, facts, known, now)


def campaigns(con: Any, params: Params) -> Report:
    rules: CampaignRules = params.options.get("rules") or CampaignRules()
    period = params.period
    p_start = datetime(period.start.year, period.start.month, period.start.day, tzinfo=JST)
    p_end = datetime(period.end.year, period.end.month, period.end.day, tzinfo=JST) + timedelta(days=1)
    chosen = [c for c in rules.campaigns if c.period.start < p_end and c.period.end > p_start]
    costs = dict(con.execute("SELECT product_code, cost_price FROM products").fetchall())
    rows = []
    for campaign in sorted(chosen, key=lambda c: (c.period.start, c.id)):
        start, end = campaign.period.start, campaign.period.end
        length = end - start
        window = _orders(con, start - length, end)
        during = [o for o in window if applies(campaign, o, start, end)]
        before = [o for o in window if o.placed < start and applies(campaign, o, start - length, start)]
        now, base = _figures(campaign, during, costs), _figures(campaign, before, costs)
        uplift = now["sales"] - base["sales"]
        roi = (now["margin"] - base["margin"] - now["cost"]) / now["cost"] if now["cost"] else None
        applied = applied_effect(con, campaign, rules, costs, params.options.get("now") or datetime.now(UTC))
        rows.append((campaign.id, campaign.name, start.astimezone(JST).date(), (end - timedelta(seconds=1))
                     .astimezone(JST).date(), now["orders"], round(now["sales"]), round(now["target_sales"]),
                     round(now["margin"]), round(now["sales"] / now["orders"]) if now["orders"] else None,
                     base["orders"], round(base["sales"]), round(uplift),
                     uplift / base["sales"] if base["sales"] else None, round(now["cost"]), roi,
                     applied.orders, applied.customers, applied.eligible_orders,
                     float(applied.usage_rate) if applied.usage_rate is not None else None, applied.discounts,
                     applied.bonus_cost, applied.free_shipping_cost, applied.fixed_cost, applied.cost))
    columns = (
        Column("id", "キャンペーンID"), Column("name", "キャンペーン名"), Column("start", "開始", "date"),
        Column("end", "終了", "date"), Column("orders", "対象注文数", "int"), Column("sales", "対象注文売上", "yen"),
        Column("target_sales", "対象商品売上", "yen"), Column("margin", "対象商品粗利", "yen"),
        Column("aov", "平均注文額", "yen"), Column("baseline_orders", "前期間注文数", "int"),
        Column("baseline_sales", "前期間売上", "yen"), Column("uplift", "売上増分", "yen"),
        Column("uplift_rate", "増加率", "pct"), Column("benefit_cost", "特典コスト(推定)", "yen"),
        Column("roi", "ROI", "pct"),
        Column("applied_orders", "適用注文数 / orders applied", "int"),
        Column("applied_customers", "適用顧客数 / customers", "int"),
        Column("eligible_orders", "対象となり得た注文数 / eligible orders", "int"),
        Column("usage_rate", "利用率 / usage rate", "pct"), Column("discounts", "値引額 / discounts", "yen"),
        Column("bonus_cost", "おまけ原価 / bonus items at cost", "yen"),
        Column("free_shipping_cost", "送料無料コスト / free shipping", "yen"),
        Column("fixed_cost", "固定費 / fixed cost", "yen"),
        Column("actual_cost", "特典コスト(実績) / benefit cost", "yen"))
    report = Report("campaigns", "キャンペーン効果 / campaigns", period,
                    [Table("campaigns", "キャンペーン比較 / campaigns side by side", columns, rows)])
    report.charts.append(Chart("キャンペーン別 売上と前期間", "bar", [r[0] for r in rows],
                               {"売上": [float(r[5]) for r in rows], "前期間": [float(r[10]) for r in rows]}))
    report.summary = (f"キャンペーン {len(rows)}件, 対象売上 {sum(r[5] for r in rows):,}円" if rows
                      else "期間内のキャンペーンはありません")
    return report


__all__ = ["applies", "campaigns"]
