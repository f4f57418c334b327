"""Rows that cannot be made valid are refused with what to fix; the rest are written with warnings."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.carriers.export import build_label_files
from bridge.carriers.labels import ExportResult
from bridge.domain import Address
from tests.carriers.samples import NOW, address, order, shipped_rules

YAMATO, SAGAWA, JAPANPOST = 1, 4, 5


def _export(*orders, carrier: str | None = None) -> ExportResult:  # type: ignore[no-untyped-def]
    return build_label_files(list(orders), shipped_rules(), NOW, carrier=carrier)


def _refusal(shipping_id: int, **changes: object) -> str:
    result = _export(order(3001, shipping_id, **changes))
    assert result.files == ()
    (rejection,) = result.rejections
    assert rejection.order_id == 3001
    return rejection.message


@pytest.mark.parametrize("shipping_id", [YAMATO, SAGAWA, JAPANPOST])
def test_over_long_name_is_refused(shipping_id: int) -> None:
    name = "寿限無寿限無五劫の擦り切れ海砂利水魚の水行末雲来末風来末食う寝る処に住む処やぶら"  # 全角33
    message = _refusal(shipping_id, shipping=address(name=name))
    assert "shipping.name" in message and "shorten" in message


@pytest.mark.parametrize("shipping_id", [YAMATO, SAGAWA, JAPANPOST])
def test_address_too_long_even_with_overflow_is_refused(shipping_id: int) -> None:
    long_street = "千代田" + "一丁目二番地三号" * 4
    message = _refusal(shipping_id, shipping=address(street=long_street, building="サンプルグランドタワー北館二十階"))
    assert "shorten the" in message and ("building" in message or "address" in message)


@pytest.mark.parametrize(("changes", "words"), [
    ({"shipping": address(phone="03-12")}, "shipping.phone: phone '03-12' must be a Japanese number"),
    ({"shipping": address(postcode="12")}, "postcode '12' is not 7 digits"),
    ({"shipping": address(street="")}, "shipping: street missing; correct the address on the order"),
    ({"delivery_date": date(2026, 11, 20)}, "requested 2026-11-20 is before the ship date 2026-11-24"),
    ({"delivery_slot": "夜間"}, "delivery time slot '夜間' is not one the bridge knows"),
    ({"delivery_slot": "午前10時まで"}, "needs the タイム service"),
    ({"payment_method": "代金引換", "total": Decimal(300001)}, "300001 yen is outside 1–300,000"),
    ({"payment_method": "代金引換", "total": Decimal("1000.5")}, "1000.5 is not whole yen"),
    ({"shipping": address(name="山田😀")}, "U+1F600"),
    ({"shipping": address(name="", company="")}, "shipping.name: is empty"),
])
def test_yamato_refusals_say_what_to_fix(changes: dict[str, object], words: str) -> None:
    message = _refusal(YAMATO, **changes)
    assert message.startswith("order 3001 not exported to yamato: ") and words in message


def test_b2_refuses_cp932_extension_that_sagawa_accepts() -> None:
    odd = {"shipping": address(building="∮ビル")}
    assert "U+222E" in _refusal(YAMATO, **odd)
    result = _export(order(3001, SAGAWA, **odd))
    assert result.rejections == () and "∮ビル".encode("cp932") in result.files[0].content


def test_unresolved_method_and_disabled_carrier_are_rejections() -> None:
    rules = shipped_rules()
    assert rules.carriers.sagawa is not None
    disabled = rules.model_copy(update={"carriers": rules.carriers.model_copy(
        update={"sagawa": rules.carriers.sagawa.model_copy(update={"enabled": False})})})
    result = build_label_files([order(1, 99), order(2, SAGAWA), order(3, YAMATO)], disabled, NOW)
    assert [r.order_id for r in result.rejections] == [1, 2]
    assert "add one under methods" in result.rejections[0].message
    assert "disabled" in result.rejections[1].message
    assert [f.carrier for f in result.files] == ["yamato"] and result.files[0].order_ids == (3,)


def test_carrier_filter_leaves_other_orders_alone() -> None:
    result = _export(order(1, YAMATO), order(2, SAGAWA), order(3, 99), carrier="sagawa")
    assert [f.carrier for f in result.files] == ["sagawa"] and result.rejections == ()


def test_one_bad_row_does_not_stop_the_others() -> None:
    result = _export(order(1, YAMATO), order(2, YAMATO, shipping=address(phone="")), order(3, YAMATO))
    assert result.files[0].order_ids == (1, 3) and [r.order_id for r in result.rejections] == [2]


def test_direct_ship_prints_the_buyer_as_sender() -> None:
    buyer = Address(name="佐藤 花子", company="株式会社バイヤー", postcode="530-0001", prefecture="大阪府",
                    city="大阪市北区", street="梅田1-1-1", phone="06-1111-2222")
    result = _export(order(1, YAMATO, direct_ship=True, billing=buyer))
    content = result.files[0].content.decode("cp932")
    assert "株式会社バイヤー" in content and "大阪府大阪市北区梅田1-1-1" in content and "06-1111-2222" in content
    broken = _export(order(2, YAMATO, direct_ship=True, billing=replace(buyer, phone="")))
    assert "buyer's billing address" in broken.rejections[0].message


def test_cod_amount_and_tax_from_the_order() -> None:
    result = _export(order(1, YAMATO, payment_method="代金引換", total=Decimal(11000), tax_total=Decimal(1000)),
                     order(2, YAMATO, payment_method="代金引換", total=Decimal(11000), cod_amount=Decimal(5500)))
    rows = result.files[0].content.decode("cp932").split("\r\n")[1:3]
    assert rows[0].split(",")[33:35] == ["11000", "1000"]
    assert rows[1].split(",")[33:35] == ["5500", "500"]


def test_warnings_are_kept_with_the_file() -> None:
    result = _export(order(1, YAMATO, delivery_slot="12時～14時",
                           shipping=address(name_kana="山田", street="千代田三丁目四番五号グランドサンプルタワー")))
    warnings = "\n".join(result.files[0].warnings)
    assert "order 1: time slot 12時～14時 is an old yamato slot" in warnings
    assert "order 1: shipping.name_kana: '山田' is not katakana" in warnings
    assert "moved to the building column" in warnings


def test_long_item_name_is_shortened_not_refused() -> None:
    from bridge.domain import OrderLine

    lines = (OrderLine("X", "とても長い商品名" * 5, Decimal(1), Decimal(1)), OrderLine("Y", "b", Decimal(1), Decimal(1)))
    result = _export(order(1, YAMATO, lines=lines))
    assert result.rejections == ()
    assert "shortened" in result.files[0].warnings[0] and "他1点" in result.files[0].content.decode("cp932")


_street = st.text(alphabet=st.sampled_from(list("丸の内一二三丁目番地号1234-ｱｲｳﾞABCビル館階 ")), min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(street=_street, building=_street)
def test_b2_address_columns_keep_every_character_or_refuse(street: str, building: str) -> None:
    result = _export(order(1, YAMATO, shipping=address(street=street, building=building)))
    if result.rejections:
        assert "shorten" in result.rejections[0].message or "street missing" in result.rejections[0].message
        return
    row = result.files[0].content.decode("cp932").split("\r\n")[1].split(",")
    assert len(row[11].encode("cp932")) <= 64 and len(row[12].encode("cp932")) <= 32
    written = (row[11] + row[12]).replace(" ", "")
    assert written == ("東京都千代田区" + street + building).replace(" ", "")
