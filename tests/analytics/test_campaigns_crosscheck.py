"""The analytics campaigns report against issue 18's ``bridge campaigns report`` (bridge/sync/campaigns/report.py) on
one seeded history: orders with the promotions the add-on records, written into the orders mirror, fed to the
analytics store by the jobs' feed. Same campaign, same period → the same usage and benefit figures; where the
definitions differ (usergroup membership, which only the state store has), the difference is the documented one."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from bridge.analytics import synthetic
from bridge.analytics.periods import Period
from bridge.analytics.reports.base import Params
from bridge.analytics.reports.campaigns import campaigns
from bridge.analytics.store import AnalyticsStore
from bridge.domain.orders import AppliedPromotion
from bridge.domain.time import JST, UTC
from bridge.rules.campaigns import CampaignRules
from bridge.store import Store, usergroups
from bridge.sync.campaigns.report import effect, facts_of, load_orders

NOW = datetime(2026, 12, 5, tzinfo=UTC)
RULES = CampaignRules.model_validate({
    "version": 1,
    "costs": {"free_shipping_per_order": 700},
    "campaigns": [
        {"id": "nov-east", "name": "11月 東日本セール", "period": {"start": "2026-11-10", "end": "2026-11-19"},
         "target": {"regions": ["東京都", "神奈川県", "埼玉県", "千葉県", "北海道", "宮城県"]},
         "benefits": [{"type": "discount", "percent": 5}], "fixed_cost": 30000},
        {"id": "nov-bonus", "name": "11月 おまけ", "period": {"start": "2026-11-01", "end": "2026-11-30"},
         "target": {"all": True}, "benefits": [{"type": "bonus_item", "product_code": "20000003", "quantity": 1}]},
        {"id": "nov-rank1", "name": "ランク1 送料無料", "period": {"start": "2026-11-05", "end": "2026-11-25"},
         "target": {"customer_groups": ["ランク1"]}, "benefits": [{"type": "free_shipping"}]},
    ]})


def _history(folder: Path) -> tuple[AnalyticsStore, Path, dict[str, Decimal], set[int]]:
    rng = random.Random(1918)
    products = synthetic._products(rng, 30)
    customers = synthetic._customers(rng, 20)
    seeded = synthetic.build_orders(rng, products, customers, 600, date(2026, 10, 1), date(2026, 11, 30),
                                    lines_per_order=3)
    rank1 = {1000 + n for n in range(0, 20, 3)}  # user ids in ランク1 (customers 0, 3, 6, …)
    orders = []
    for order in seeded.orders:
        promotions = []
        local = order.placed_at.astimezone(JST)
        east = order.shipping.prefecture in RULES.campaigns[0].target.regions
        if date(2026, 11, 10) <= local.date() <= date(2026, 11, 19) and east and rng.random() < 0.7:
            promotions.append(AppliedPromotion(11, "nov-east", (order.subtotal * Decimal("0.05")).quantize(Decimal(1))))
        if local.month == 11 and rng.random() < 0.2:
            promotions.append(AppliedPromotion(12, "nov-bonus", bonus_items=(("20000003", Decimal(1)),)))
        if date(2026, 11, 5) <= local.date() <= date(2026, 11, 25) and order.user_id in rank1 and rng.random() < 0.8:
            promotions.append(AppliedPromotion(13, "nov-rank1", free_shipping=True))
        if rng.random() < 0.05:
            promotions.append(AppliedPromotion(99, "", Decimal(100)))  # a promotion the bridge does not manage
        if rng.random() < 0.1:
            order = dataclasses.replace(order, customer_code="")  # a guest: counted by user id
        orders.append(dataclasses.replace(order, promotions=tuple(promotions)))
    seeded.orders = orders

    async def write() -> None:
        store = await Store.open(folder / "state.sqlite3")
        try:
            await synthetic.write_state(store, seeded)
            async with store.transaction() as tx:
                await usergroups.record_members(tx, "ランク1", rank1, datetime(2026, 9, 1, tzinfo=UTC))
        finally:
            await store.close()

    asyncio.run(write())
    analytics = AnalyticsStore(folder / "analytics.duckdb")
    synthetic.feed_all(folder / "state.sqlite3", analytics, seeded, date(2026, 10, 1))
    costs = {p.code: p.cost_price for p in products if p.cost_price is not None}
    return analytics, folder / "state.sqlite3", costs, rank1


def _issue18(state: Path, costs: dict[str, Decimal], *, with_groups: bool) -> dict[str, object]:
    """What `bridge campaigns report` computes (bridge/cli/campaigns_cmd.py _effects, minus reading the SMILE file)."""
    async def run() -> dict[str, object]:
        store = await Store.open(state)
        try:
            async with store.transaction() as tx:
                orders = await load_orders(tx)
                members = await usergroups.memberships(tx) if with_groups else {}
                read = await usergroups.groups_read(tx) if with_groups else set()
        finally:
            await store.close()
        facts = [facts_of(order, costs) for order in orders]
        return {c.id: effect(c, RULES, facts, costs, NOW, members, read) for c in RULES.campaigns}
    return asyncio.run(run())


def test_usage_and_benefit_figures_agree_with_bridge_campaigns_report(tmp_path: Path) -> None:
    analytics, state, costs, _rank1 = _history(tmp_path)
    theirs = _issue18(state, costs, with_groups=True)
    with analytics.connect() as con:
        report = campaigns(con, Params(Period(date(2026, 11, 1), date(2026, 11, 30)),
                                       options={"rules": RULES, "now": NOW}))
    ours = {row["id"]: row for row in report.table("campaigns").dicts()}
    assert set(ours) == {c.id for c in RULES.campaigns}
    for campaign_id in ("nov-east", "nov-bonus"):  # no usergroups: every figure the same
        row, e = ours[campaign_id], theirs[campaign_id]
        assert e.orders > 0
        assert (row["applied_orders"], row["applied_customers"], row["eligible_orders"]) == \
            (e.orders, e.customers, e.eligible_orders)
        assert row["usage_rate"] == float(e.usage_rate)
        assert (row["discounts"], row["bonus_cost"], row["free_shipping_cost"], row["fixed_cost"],
                row["actual_cost"]) == (e.discounts, e.bonus_cost, e.free_shipping_cost, e.fixed_cost, e.cost)
    assert theirs["nov-east"].discounts > 0 and theirs["nov-east"].fixed_cost == 30000
    assert theirs["nov-bonus"].bonus_cost > 0 and ours["nov-bonus"]["discounts"] == 0
    # a usergroup campaign: use and benefit the same; eligible orders differ by exactly the documented reason —
    # `bridge campaigns report` narrows them to the members of ランク1 when the order was placed, the analytics
    # store has no membership history and counts every order of the period (as that report does for a group it
    # has not read)
    row, e = ours["nov-rank1"], theirs["nov-rank1"]
    assert e.orders > 0 and e.free_shipping_cost == 700 * e.orders
    assert (row["applied_orders"], row["applied_customers"], row["free_shipping_cost"], row["actual_cost"]) == \
        (e.orders, e.customers, e.free_shipping_cost, e.cost)
    assert row["eligible_orders"] > e.eligible_orders
    unread = _issue18(state, costs, with_groups=False)["nov-rank1"]
    assert unread.unread_groups == ("ランク1",)
    assert row["eligible_orders"] == unread.eligible_orders
    assert row["usage_rate"] == float(unread.usage_rate)
