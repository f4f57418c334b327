"""Prices: the full tier set, the scheduled switch at JST midnight, the customer's unit price and the 直送 surcharge."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.domain import JST, UTC, Customer, CustomerPrice, Product, Rounding
from bridge.rules.common import RoundingRule
from bridge.rules.pricing import (
    PriceMissing,
    PricingRules,
    QuantityPrice,
    RateBase,
    compile_tier_set,
    customer_unit_price,
    direct_ship_surcharge,
    rank_usergroup_ids,
    surcharge_mismatch,
)

RULES = PricingRules()
GROUPS = {1: 3, 2: 4, 3: 5, 4: 6, 5: 7}
NOW = datetime(2026, 6, 1, 12, tzinfo=JST)
yen = st.decimals(min_value=0, max_value=100_000, places=2, allow_nan=False, allow_infinity=False)
maybe_yen = st.none() | yen


def product(**fields: object) -> Product:
    return Product(**{"code": "A-100", "name": "ボールペン", "standard_price": Decimal(1000), **fields})  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(
    standard=yen,
    ranks=st.tuples(maybe_yen, maybe_yen, maybe_yen, maybe_yen, maybe_yen),
    tiers=st.lists(st.builds(QuantityPrice, min_quantity=st.integers(0, 50), price=yen,
                             rank=st.none() | st.integers(1, 5)), max_size=12),
    groups=st.dictionaries(st.integers(1, 5), st.integers(0, 9), max_size=5),
)
def test_tier_set_has_the_base_row_first_and_unique_keys(standard, ranks, tiers, groups) -> None:  # type: ignore[no-untyped-def]
    tier_set = compile_tier_set(product(standard_price=standard, rank_prices=ranks), RULES, groups, tiers, now=NOW)
    rows = tier_set.rows()
    assert (rows[0].usergroup_id, rows[0].lower_limit, rows[0].price) == (0, 1, RULES.price_rounding.apply(standard))
    keys = [(row.usergroup_id, row.lower_limit) for row in rows]
    assert len(keys) == len(set(keys))
    assert all(row.price > 0 for row in rows[1:])  # never an empty or zero rank price
    assert len([r for r in rows if r.lower_limit > 1]) <= RULES.quantity_tiers.max_tiers


def test_tier_set_content() -> None:
    item = product(rank_prices=(Decimal(900), None, Decimal(0), Decimal("800.004"), None), list_price=Decimal(1500))
    quantity = [QuantityPrice(10, Decimal(950)), QuantityPrice(5, Decimal(1200)), QuantityPrice(20, Decimal(930), rank=1),
                QuantityPrice(30, Decimal(900), valid_to=date(2026, 5, 31))]
    rows = compile_tier_set(item, RULES, {1: 3, 4: 6}, quantity, now=NOW).rows()
    assert [(r.usergroup_id, r.lower_limit, r.price) for r in rows] == [
        (0, 1, Decimal("1000.00")), (0, 10, Decimal("950.00")), (3, 1, Decimal("900.00")), (3, 20, Decimal("930.00")),
        (6, 1, Decimal("800.00")),
    ]


def test_a_product_without_a_standard_price_has_no_tier_set() -> None:
    with pytest.raises(PriceMissing, match="A-100"):
        compile_tier_set(product(standard_price=None), RULES, GROUPS, now=NOW)


SCHEDULED = product(rank_prices=(Decimal(900),) + (None,) * 4, new_price_date=date(2027, 4, 1),
                    new_standard_price=Decimal(1100), new_rank_prices=(Decimal(990),) + (None,) * 4)
BEFORE = datetime(2027, 3, 31, 23, 59, 59, tzinfo=JST)
AT = datetime(2027, 4, 1, 0, 0, 0, tzinfo=JST)


@pytest.mark.parametrize(("moment", "base", "rank1"), [
    (BEFORE, Decimal("1000.00"), Decimal("900.00")),
    (AT, Decimal("1100.00"), Decimal("990.00")),
    (BEFORE.astimezone(UTC), Decimal("1000.00"), Decimal("900.00")),  # 2027-03-31 14:59:59 UTC
    (AT.astimezone(UTC), Decimal("1100.00"), Decimal("990.00")),  # 2027-03-31 15:00:00 UTC
])
def test_scheduled_prices_switch_exactly_at_jst_midnight(moment: datetime, base: Decimal, rank1: Decimal) -> None:
    rows = compile_tier_set(SCHEDULED, RULES, {1: 3}, now=moment).rows()
    assert (rows[0].price, rows[1].price) == (base, rank1)


def test_utc_moments_around_the_switch_are_what_jst_says() -> None:
    assert AT.astimezone(UTC) == datetime(2027, 3, 31, 15, 0, tzinfo=UTC)
    just_before = datetime(2027, 3, 31, 14, 59, 59, 999999, tzinfo=UTC)
    assert compile_tier_set(SCHEDULED, RULES, {}, now=just_before).base_price == Decimal("1000.00")


def test_scheduled_prices_can_be_switched_off_and_empty_new_columns_keep_the_price() -> None:
    off = RULES.model_copy(update={"scheduled_prices": RULES.scheduled_prices.model_copy(update={"enabled": False})})
    assert compile_tier_set(SCHEDULED, off, {}, now=AT).base_price == Decimal("1000.00")
    partial = product(new_price_date=date(2027, 4, 1), new_rank_prices=(Decimal(990),) + (None,) * 4)
    assert compile_tier_set(partial, RULES, {}, now=AT).base_price == Decimal("1000.00")


@settings(max_examples=200, deadline=None)
@given(
    base=st.decimals(min_value=1, max_value=100_000, places=2),
    rate=st.decimals(min_value=Decimal("0.1"), max_value=150, places=1),
    unit=st.sampled_from([Decimal("0.01"), Decimal("0.1"), Decimal(1), Decimal(10), Decimal(100)]),
)
def test_rate_price_rounding_down_le_exact_le_up_and_multiple_of_unit(base, rate, unit) -> None:  # type: ignore[no-untyped-def]
    item = product(standard_price=base, list_price=None)

    def price(mode: Rounding) -> Decimal:
        customer = Customer(code="100001", name="株式会社テスト", rate_percent=rate, price_rounding=mode,
                            price_rounding_unit=unit)
        result = customer_unit_price(item, customer, RULES, NOW)
        assert result.source == "rate"
        assert result.price % unit == 0
        return result.price

    exact = base * rate / 100
    down, half, up = price(Rounding.DOWN), price(Rounding.HALF_UP), price(Rounding.UP)
    assert down <= exact <= up
    assert down <= half <= up and up - down <= unit
    assert abs(half - exact) <= unit / 2


def test_customer_price_precedence_matches_the_addon() -> None:
    item = product(rank_prices=(Decimal(900),) + (None,) * 4, list_price=Decimal(1500))
    ranked = Customer(code="100001", name="A", price_rank=1)
    assert customer_unit_price(item, ranked, RULES, NOW).price == Decimal("900.00")
    assert customer_unit_price(item, Customer(code="100002", name="B"), RULES, NOW).source == "base"

    rated = Customer(code="100003", name="C", price_rank=1, rate_percent=Decimal(70), price_rounding=Rounding.UP,
                     price_rounding_unit=Decimal(10))
    assert customer_unit_price(item, rated, RULES, NOW).price == Decimal(1050)  # 上代 1500 × 70 %
    on_standard = RULES.model_copy(update={"rate_base": RateBase.STANDARD_PRICE})
    assert customer_unit_price(item, rated, on_standard, NOW).price == Decimal(630)  # rank 900 × 70 %
    no_list = product(list_price=None)
    assert customer_unit_price(no_list, rated, RULES, NOW).price == Decimal(700)  # falls back to 1000

    rows = [CustomerPrice("100003", "A-100", Decimal(555)),
            CustomerPrice("100003", "A-100", Decimal(500), min_quantity=Decimal(10)),
            CustomerPrice("100003", "A-100", Decimal(450), valid_from=date(2026, 7, 1))]
    assert customer_unit_price(item, rated, RULES, NOW, customer_prices=rows).price == Decimal(555)
    assert customer_unit_price(item, rated, RULES, NOW, quantity=12, customer_prices=rows).price == Decimal(500)


def test_quantity_tier_is_the_customers_price_from_its_quantity() -> None:
    tiers = [QuantityPrice(10, Decimal(950))]
    customer = Customer(code="100004", name="D")
    assert customer_unit_price(product(), customer, RULES, NOW, quantity=9, quantity_prices=tiers).price == 1000
    found = customer_unit_price(product(), customer, RULES, NOW, quantity=10, quantity_prices=tiers)
    assert (found.price, found.source) == (Decimal(950), "tier")


@settings(max_examples=100, deadline=None)
@given(subtotal=st.decimals(min_value=-100, max_value=10_000_000, places=2),
       percent=st.decimals(min_value=0, max_value=100, places=1))
def test_direct_ship_surcharge_is_the_rate_rounded_down_to_yen(subtotal: Decimal, percent: Decimal) -> None:
    rules = RULES.model_copy(update={"direct_ship": RULES.direct_ship.model_copy(
        update={"surcharge_percent": percent})})
    amount = direct_ship_surcharge(subtotal, rules)
    if subtotal <= 0 or percent == 0:
        assert amount == 0
    else:
        exact = subtotal * percent / 100
        assert amount <= exact < amount + 1 and amount == amount.to_integral_value()


def test_surcharge_mismatch_respects_the_tolerance() -> None:
    assert surcharge_mismatch(Decimal(1234), Decimal(12345), RULES) is None  # 10 % of 12345 → 1234 (down)
    assert "¥1234" in (surcharge_mismatch(Decimal(1235), Decimal(12345), RULES) or "")
    lenient = RULES.model_copy(update={"direct_ship": RULES.direct_ship.model_copy(update={"tolerance": Decimal(1)})})
    assert surcharge_mismatch(Decimal(1235), Decimal(12345), lenient) is None
    half_up = RULES.model_copy(update={"direct_ship": RULES.direct_ship.model_copy(
        update={"rounding": RoundingRule(mode=Rounding.HALF_UP, unit=Decimal(10))})})
    assert direct_ship_surcharge(Decimal(12350), half_up) == Decimal(1240)


def test_rank_usergroups_by_name_and_missing_ones() -> None:
    ids, missing = rank_usergroup_ids(RULES, {"ランク1": 3, "ランク3": 9, "Wholesale": 4})
    assert ids == {1: 3, 3: 9} and missing == ["ランク2", "ランク4", "ランク5"]


def test_moments_must_be_aware() -> None:
    with pytest.raises(ValueError, match="naive"):
        compile_tier_set(product(), RULES, {}, now=datetime(2026, 1, 1) + timedelta(0))
