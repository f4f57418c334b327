"""Each campaign condition and benefit → CS-Cart's promotion condition tree and bonus list; period boundaries in
JST; the one-sentence explanation; refusals that name the field and the fix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.domain.time import JST
from bridge.rules.campaigns import Campaign, CampaignRules, CampaignState, explain, next_boundary, state_at
from bridge.sync.campaigns.mapper import CampaignMappingError, Lookups, promotion, walk_conditions

LOOKUPS = Lookups(
    categories={"0100": [12], "0200": [13, 14]}, products={"A-1": 101, "B-2": 102, "GIFT": 900},
    usergroups={"ランク1": 3, "ランク2": 4}, customers={"000123": 7, "000456": 8}, shippings=[1, 2],
    region_codes={"東京都": "13"}, points=True,
)
NOW = datetime(2027, 3, 10, 3, 0, tzinfo=UTC)


def campaign(**fields: Any) -> Campaign:
    base: dict[str, Any] = {"id": "c1", "name": "テスト", "period": {"start": "2027-03-01", "end": "2027-03-31"},
                            "target": {"all": True}, "benefits": [{"type": "discount", "percent": 5}]}
    base.update(fields)
    return Campaign.model_validate(base)


def leaves(c: Campaign, lookups: Lookups = LOOKUPS) -> list[Any]:
    return list(walk_conditions(promotion(c, lookups, NOW)["conditions"]))


def test_the_payload_carries_the_period_days_priority_and_status() -> None:
    p = promotion(campaign(priority=7, stop_other=True), LOOKUPS, NOW)
    assert {k: p[k] for k in ("campaign_id", "name", "status", "from_date", "to_date", "priority",
                              "stop_other_rules", "zone")} == {
        "campaign_id": "c1", "name": "テスト", "status": "A", "from_date": "2027-03-01", "to_date": "2027-03-31",
        "priority": 9993, "stop_other_rules": "Y", "zone": "cart"}
    assert p["conditions"] == {"set": "all", "set_value": 1, "conditions": []}  # all: true
    assert p["bonuses"] == [{"bonus": "order_discount", "discount_bonus": "by_percentage", "discount_value": "5"}]


@pytest.mark.parametrize(("target", "expected"), [
    ({"categories": ["0100", "0200"]}, [{"condition": "categories", "operator": "in", "value": "12,13,14"}]),
    ({"products": ["A-1", "B-2"]}, [
        {"set": "any", "set_value": 1, "conditions": [
            {"condition": "products", "operator": "in", "value": [{"product_id": 101, "amount": 1}]},
            {"condition": "products", "operator": "in", "value": [{"product_id": 102, "amount": 1}]}]}]),
    ({"customer_groups": ["ランク1"]}, [{"condition": "usergroup", "operator": "eq", "value": "3"}]),
    ({"customers": ["000123", "000456"]}, [{"condition": "users", "operator": "in", "value": "7,8"}]),
    ({"regions": ["東京都", "大阪府"]}, [{"condition": "state", "operator": "in", "value": "13,大阪府"}]),
])
def test_each_target_becomes_its_condition(target: dict[str, Any], expected: list[Any]) -> None:
    assert promotion(campaign(target=target), LOOKUPS, NOW)["conditions"]["conditions"] == expected


@pytest.mark.parametrize(("conditions", "expected"), [
    ({"min_order_amount": 30000}, [{"condition": "subtotal", "operator": "gte", "value": "30000"}]),
    ({"min_order_amount": "2999.5"}, [{"condition": "subtotal", "operator": "gte", "value": "2999.5"}]),
    ({"min_quantity": 3}, [{"condition": "products_number", "operator": "gte", "value": "3"}]),
    ({"products_all": ["A-1", "B-2"]}, [
        {"condition": "products", "operator": "in", "value": [{"product_id": 101, "amount": 1}]},
        {"condition": "products", "operator": "in", "value": [{"product_id": 102, "amount": 1}]}]),
    ({"customer_groups": ["ランク1", "ランク2"]}, [
        {"condition": "usergroup", "operator": "eq", "value": "3"},
        {"condition": "usergroup", "operator": "eq", "value": "4"}]),
    ({"weekdays": ["sat", "sun"]}, [{"condition": "smile_bridge_weekdays", "operator": "in", "value": "sat,sun"}]),
    ({"coupon_codes": ["SPRING5"]}, [{"condition": "coupon_code", "operator": "eq", "value": "SPRING5"}]),
    ({"max_uses": 100}, [{"condition": "number_of_usages", "operator": "lt", "value": "100"}]),
])
def test_each_condition_becomes_its_condition(conditions: dict[str, Any], expected: list[Any]) -> None:
    assert leaves(campaign(conditions=conditions)) == expected


@pytest.mark.parametrize(("benefit", "target", "expected"), [
    ({"type": "discount", "amount": 500, "applies_to": "order"}, {"all": True},
     [{"bonus": "order_discount", "discount_bonus": "by_fixed", "discount_value": "500"}]),
    ({"type": "discount", "percent": 5}, {"categories": ["0100"]},
     [{"bonus": "discount_on_categories", "value": "12", "discount_bonus": "by_percentage", "discount_value": "5"}]),
    ({"type": "discount", "percent": "7.5"}, {"products": ["A-1"]},
     [{"bonus": "discount_on_products", "value": "101", "discount_bonus": "by_percentage",
       "discount_value": "7.5"}]),
    ({"type": "discount", "percent": 5, "applies_to": "order"}, {"categories": ["0100"]},
     [{"bonus": "order_discount", "discount_bonus": "by_percentage", "discount_value": "5"}]),
    ({"type": "bonus_item", "product_code": "GIFT", "quantity": 2}, {"all": True},
     [{"bonus": "free_products", "value": [{"product_id": 900, "amount": 2}]}]),
    ({"type": "free_shipping"}, {"all": True},
     [{"bonus": "free_shipping", "value": "1"}, {"bonus": "free_shipping", "value": "2"}]),
    ({"type": "points", "points": 200}, {"all": True}, [{"bonus": "give_points", "value": "200"}]),
    ({"type": "coupon", "code": "WELCOME", "amount": 1000}, {"all": True},
     [{"bonus": "order_discount", "discount_bonus": "by_fixed", "discount_value": "1000"}]),
])
def test_each_benefit_becomes_its_bonus(benefit: dict[str, Any], target: dict[str, Any],
                                        expected: list[Any]) -> None:
    assert promotion(campaign(target=target, benefits=[benefit]), LOOKUPS, NOW)["bonuses"] == expected


def test_a_coupon_benefit_gates_the_promotion_on_its_code() -> None:
    c = campaign(benefits=[{"type": "coupon", "code": "WELCOME", "percent": 10}],
                 conditions={"coupon_codes": ["OTHER"]})
    assert leaves(c) == [{"condition": "coupon_code", "operator": "eq", "value": "OTHER"},
                         {"condition": "coupon_code", "operator": "eq", "value": "WELCOME"}]


@pytest.mark.parametrize(("fields", "lookups", "words"), [
    ({"target": {"categories": ["0900"]}}, LOOKUPS, ["'c1'", "target.categories", "0900", "categories:"]),
    ({"target": {"products": ["NOPE"]}}, LOOKUPS, ["target.products", "商品コード NOPE has no CS-Cart product yet",
                                                    "run the products job (bridge sync products)"]),
    ({"target": {"customer_groups": ["ランク9"]}}, LOOKUPS, ["ランク9", "ランク1, ランク2"]),
    ({"target": {"customers": ["999999"]}}, LOOKUPS, ["target.customers", "得意先コード 999999 has no CS-Cart user yet",
                                                         "run the customers job (bridge sync customers)"]),
    ({"benefits": [{"type": "bonus_item", "product_code": "X"}]}, LOOKUPS, ["benefits[0].product_code", "X"]),
    ({"benefits": [{"type": "points", "points": 10}]}, Lookups(points=False), ["benefits[0]", "Reward points"]),
])
def test_what_cs_cart_lacks_is_refused_with_the_field_and_the_fix(fields: dict[str, Any], lookups: Lookups,
                                                                  words: list[str]) -> None:
    with pytest.raises(CampaignMappingError) as caught:
        promotion(campaign(**fields), lookups, NOW)
    message = str(caught.value)
    assert message.startswith("rules/campaigns.yaml: campaign 'c1'")
    assert all(word in message for word in words), message


def test_period_boundaries_are_jst_to_the_minute() -> None:
    c = campaign(period={"start": "2027-03-01 10:00", "end": "2027-03-31"})
    jst = lambda *a: datetime(*a, tzinfo=JST)
    assert state_at(c, jst(2027, 3, 1, 9, 59)) is CampaignState.PLANNED
    assert state_at(c, jst(2027, 3, 1, 10, 0)) is CampaignState.RUNNING
    assert state_at(c, jst(2027, 3, 31, 23, 59)) is CampaignState.RUNNING
    assert state_at(c, jst(2027, 4, 1, 0, 0)) is CampaignState.ENDED
    assert state_at(c, datetime(2027, 3, 31, 14, 59, 59, tzinfo=UTC)) is CampaignState.RUNNING
    assert state_at(c, datetime(2027, 3, 31, 15, 0, tzinfo=UTC)) is CampaignState.ENDED
    assert state_at(campaign(enabled=False), NOW) is CampaignState.DISABLED
    assert promotion(c, LOOKUPS, jst(2027, 3, 1, 9, 59))["status"] == "D"
    assert promotion(c, LOOKUPS, jst(2027, 3, 1, 10, 0))["status"] == "A"
    rules = CampaignRules(campaigns=[c])
    assert next_boundary(rules, jst(2027, 3, 1, 9, 0)) == jst(2027, 3, 1, 10, 0)
    assert next_boundary(rules, jst(2027, 3, 2)) == jst(2027, 4, 1)
    assert next_boundary(rules, jst(2027, 4, 1)) is None


@settings(max_examples=200, deadline=None)
@given(start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31)),
       minutes=st.integers(min_value=1, max_value=200_000), probe=st.integers(min_value=-300_000, max_value=300_000))
def test_the_promotion_is_live_exactly_inside_the_period_and_its_days_cover_it(start: datetime, minutes: int,
                                                                             probe: int) -> None:
    start = start.replace(second=0, microsecond=0, tzinfo=JST)
    end = start + timedelta(minutes=minutes)
    c = campaign(period={"start": start, "end": end})
    now = start + timedelta(minutes=probe)
    p = promotion(c, LOOKUPS, now)
    assert (p["status"] == "A") == (start <= now < end)
    if p["status"] == "A":  # CS-Cart's own day check never blocks a live minute
        assert p["from_date"] <= now.astimezone(JST).date().isoformat() <= p["to_date"]
    assert p["from_date"] <= p["to_date"]


def test_explain_puts_a_campaign_in_one_japanese_sentence() -> None:
    spring = campaign(period={"start": "2027-03-01", "end": "2027-03-31"}, target={"categories": ["0100", "0200"]},
                      conditions={"min_order_amount": 30000},
                      benefits=[{"type": "discount", "percent": 5}, {"type": "free_shipping"}])
    assert explain(spring) == "3/1 0:00–3/31 24:00, カテゴリ0100/0200, ¥30,000以上で5%引き+送料無料"
    vip = campaign(period={"start": "2027-04-01 10:00", "end": "2027-04-02 18:30"},
                   target={"customers": ["000123"], "regions": ["東京都"]},
                   conditions={"weekdays": ["sat", "sun"], "max_uses": 50, "coupon_codes": ["VIP"]},
                   benefits=[{"type": "bonus_item", "product_code": "GIFT"}, {"type": "points", "points": 100},
                             {"type": "discount", "amount": 500, "applies_to": "order"}])
    assert explain(vip) == ("4/1 10:00–4/2 18:30, 得意先000123, 配送先東京都, 土日曜日・クーポンVIP入力で"
                            "GIFTを1個プレゼント+100ポイント付与+注文合計から¥500引き(先着50件)")
