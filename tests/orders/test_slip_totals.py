"""Every yen of the CS-Cart order total is on the SMILE 受注 slip (issue 15 defect 3): products, 送料, 代引手数料,
直送手数料 and 値引 (promotions, coupons), and an order whose rows do not add up is refused with the difference."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from bridge.domain.orders import AppliedPromotion, Order, OrderLine
from bridge.rules.campaigns import SlipRules
from bridge.rules.order_flow import OrderFlowRules
from bridge.rules.pricing import PricingRules
from bridge.sync.orders import export
from bridge.sync.orders.rules import OrderRules

PARTY = export.Party("100001", "x")
yen = st.integers(min_value=0, max_value=200_000).map(Decimal)


@st.composite
def orders(draw: st.DrawFn) -> tuple[Order, Decimal]:
    lines = tuple(
        OrderLine(f"1000{index:04d}", "品", Decimal(draw(st.integers(1, 500))),
                  draw(st.decimals(min_value=1, max_value=99_999, places=2)))
        for index in range(draw(st.integers(1, 6))))
    if draw(st.booleans()):  # a campaign's bonus item: ¥0
        lines += (OrderLine("GIFT", "おまけ", Decimal(draw(st.integers(1, 3))), Decimal(0), bonus_of=1),)
    subtotal = sum((line.quantity * line.unit_price for line in lines), Decimal(0))
    shipping, fee = draw(yen), draw(yen)
    discount = draw(st.decimals(min_value=0, max_value=subtotal, places=2))
    direct = draw(st.booleans())
    surcharge = (subtotal / 10).to_integral_value(rounding="ROUND_DOWN") if direct else Decimal(0)
    tax_added = draw(st.sampled_from([Decimal(0), (subtotal / 10).quantize(Decimal(1))]))
    total = subtotal + shipping + fee + surcharge - discount + tax_added
    order = Order(order_id=1, status="O", placed_at=datetime(2026, 12, 1, tzinfo=UTC), updated_at=None, user_id=1,
                  email="a@b.jp", total=total, subtotal=subtotal, shipping_cost=shipping, payment_surcharge=fee,
                  subtotal_discount=discount, direct_ship=direct, tax_added=tax_added, lines=lines)
    return order, surcharge


SLIP_SHAPES = st.builds(export.ExportRules, discount_sign=st.sampled_from(["price", "quantity"]),
                        bonus_line=st.sampled_from(["zero_price", "omit"]),
                        discount_columns=st.sampled_from([{}, {"取引区分属性": "3"}]))


@given(orders(), SLIP_SHAPES)
def test_for_any_order_the_slip_rows_add_up_to_the_order_total(case: tuple[Order, Decimal],
                                                               rules: export.ExportRules) -> None:
    order, surcharge = case
    rows = export.slip_rows(order, PARTY, rules, surcharge=surcharge)
    assert export.slip_total(rows) == order.total - order.tax_added
    assert export.total_mismatch(order, rows) is None
    cancel = export.slip_rows(order, PARTY, rules, sign=-1, surcharge=surcharge)
    assert export.slip_total(cancel) == -(order.total - order.tax_added)  # a 赤伝 takes every yen back
    assert export.total_mismatch(order, cancel, sign=-1) is None


@given(orders(), st.integers(min_value=1, max_value=5000).map(Decimal))
def test_a_total_the_rows_do_not_carry_is_refused_with_the_difference(case: tuple[Order, Decimal],
                                                                       lost: Decimal) -> None:
    order, surcharge = case
    rows = export.slip_rows(order, PARTY, export.ExportRules(), surcharge=surcharge)
    grown = Order(**{**{f: getattr(order, f) for f in order.__slots__}, "total": order.total + lost})  # type: ignore[attr-defined]
    problem = export.total_mismatch(grown, rows)
    assert problem is not None and f"¥{export.number(lost)} missing from the slip" in problem


def test_the_audit_example_2118_yen_is_all_on_the_slip() -> None:
    """The audit's order: ¥1,800 of products, ¥660 送料, ¥330 代引手数料, a ¥672 coupon → ¥2,118 (the coupon's 値引
    line names its promotion; without the add-on's per-promotion amounts it reads "promotion ?")."""
    order = Order(order_id=5, status="O", placed_at=datetime(2026, 12, 1, tzinfo=UTC), updated_at=None, user_id=1,
                  email="a@b.jp", total=Decimal(2118), subtotal=Decimal(1800), shipping_cost=Decimal(660),
                  payment_surcharge=Decimal(330), subtotal_discount=Decimal(672),
                  lines=(OrderLine("10000001", "紙コップ", Decimal(3), Decimal(600)),))
    rows = export.slip_rows(order, PARTY, export.ExportRules())
    assert [(r["商品名"], r["金額"]) for r in rows] == [
        ("紙コップ", "1800"), ("値引 promotion ?", "-672"), ("送料", "660"), ("代引手数料", "330")]
    assert export.total_mismatch(order, rows) is None


def test_the_slip_shape_of_campaign_lines_follows_campaigns_yaml_slip() -> None:
    """値引 with the minus on the quantity, a 取引区分属性 on 値引 lines only, and bonus items left off the slip."""

    order = Order(order_id=6, status="O", placed_at=datetime(2026, 12, 1, tzinfo=UTC), updated_at=None, user_id=1,
                  email="a@b.jp", total=Decimal(1700), subtotal=Decimal(1800), subtotal_discount=Decimal(100),
                  lines=(OrderLine("10000001", "紙コップ", Decimal(3), Decimal(600)),
                         OrderLine("GIFT", "おまけ", Decimal(1), Decimal(0), bonus_of=7)),
                  promotions=(AppliedPromotion(7, "spring", Decimal(100), False, (("GIFT", Decimal(1)),)),))
    slip = SlipRules(discount_sign="quantity", discount_columns={"取引区分属性": "3"}, bonus_line="omit")
    rules = OrderRules(flow=OrderFlowRules(), pricing=PricingRules(), slip=slip).export_rules()
    rows = export.slip_rows(order, PARTY, rules)
    assert [(r["商品ｺｰﾄﾞ"], r["数量"], r["単価"], r["金額"], r.get("取引区分属性")) for r in rows] == [
        ("10000001", "3", "600", "1800", None), ("NB-01", "-1", "100", "-100", "3")]
    default = export.slip_rows(order, PARTY, export.ExportRules())
    assert [(r["商品名"], r["数量"], r["単価"], r["金額"]) for r in default] == [
        ("紙コップ", "3", "600", "1800"), ("おまけ (spring)", "1", "0", "0"), ("値引 spring", "1", "-100", "-100")]


def test_discount_columns_land_in_the_layout_and_cannot_take_the_bridges_own() -> None:
    import pytest
    from pydantic import ValidationError

    from bridge.smile.settings import SmileSettings

    layout = SmileSettings().layout("order_import")
    order = Order(order_id=6, status="O", placed_at=datetime(2026, 12, 1, tzinfo=UTC), updated_at=None, user_id=1,
                  email="a@b.jp", total=Decimal(500), subtotal=Decimal(600), subtotal_discount=Decimal(100),
                  lines=(OrderLine("10000001", "紙コップ", Decimal(1), Decimal(600)),))
    rows = export.slip_rows(order, PARTY, export.ExportRules(discount_columns={"取引区分属性": "3"}))
    cells, _, problems = export.prepare_rows(rows, layout, {})
    column = list(layout.columns).index("取引区分属性")
    assert problems == [] and [row[column] for row in cells] == ["1", "3"]  # the layout's default, then 値引's
    unknown = export.slip_rows(order, PARTY, export.ExportRules(discount_columns={"値引区分": "1"}))
    assert export.prepare_rows(unknown, layout, {})[2] == ["column '値引区分' is not in smile.files.order_import.columns"]
    with pytest.raises(ValidationError, match="discount_columns cannot set 単価"):
        SlipRules(discount_columns={"単価": "0"})
