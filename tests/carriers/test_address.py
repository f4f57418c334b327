"""Postcodes, phones, completing an address from its postcode, and splitting it into a carrier's columns."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.carriers.address import (
    AddressError,
    complete,
    fit_lines,
    normalize_phone,
    normalize_postcode,
    split_at,
)
from bridge.carriers.text import width
from tests.carriers.samples import address


@pytest.mark.parametrize("raw", ["100-0001", "〒100－0001", "１００ー０００１", "1000001", " 100 0001 "])
def test_postcode_forms(raw: str) -> None:
    assert normalize_postcode(raw) == "1000001"


@pytest.mark.parametrize("raw", ["", "100-001", "ABC-DEFG", "100-00011"])
def test_bad_postcode_says_what_to_fix(raw: str) -> None:
    with pytest.raises(AddressError, match="not 7 digits; correct it on the order"):
        normalize_postcode(raw)


@pytest.mark.parametrize(("raw", "written"), [
    ("03-1234-5678", "03-1234-5678"), ("０３（１２３４）５６７８", "03-1234-5678"), ("0312345678", "0312345678"),
    ("+81 3-1234-5678", "03-1234-5678"), ("090−1234−5678", "090-1234-5678"), ("03 1234 5678", "03-1234-5678"),
])
def test_phone_forms(raw: str, written: str) -> None:
    assert normalize_phone(raw) == written


@pytest.mark.parametrize("raw", ["", "123", "03-1234-56789-0", "電話なし"])
def test_bad_phone(raw: str) -> None:
    with pytest.raises(AddressError, match="10 or 11 digits"):
        normalize_phone(raw)


def test_prefecture_and_city_come_from_the_postcode_and_leave_the_street() -> None:
    warnings: list[str] = []
    parts = complete(address(postcode="060-0000", prefecture="", city="", street="北海道札幌市中央区北1条西2丁目"),
                     warnings)
    assert (parts.prefecture, parts.city, parts.street) == ("北海道", "札幌市中央区", "北1条西2丁目")
    assert warnings == []


def test_postcode_in_another_prefecture_is_a_warning() -> None:
    warnings: list[str] = []
    complete(address(prefecture="大阪府"), warnings)
    assert "is in 東京都, the order says 大阪府" in warnings[0]


def test_unknown_postcode_is_a_warning_not_a_refusal() -> None:
    warnings: list[str] = []
    parts = complete(address(postcode="999-9999"), warnings)
    assert parts.postcode == "9999999" and "not in the Japan Post list" in warnings[0]


def test_missing_street_is_refused() -> None:
    with pytest.raises(AddressError, match="street missing"):
        complete(address(street=""), [])


@pytest.mark.parametrize(("street", "limit", "head", "tail"), [
    ("丸の内1-2-3サンプルビル", 16, "丸の内1-2-3", "サンプルビル"),
    ("丸の内1-2-3 サンプルビル", 20, "丸の内1-2-3", "サンプルビル"),
    ("千代田三丁目四番五号グランドサンプルタワー", 32, "千代田三丁目四番五号", "グランドサンプルタワー"),
    ("あいうえおかきくけこさしすせそたちつてと", 32, "あいうえおかきくけこさしすせそた", "ちつてと"),
    ("ｱｲｳｴｵｶﾞ", 6, "ｱｲｳｴｵ", "ｶﾞ"),
    ("短い", 32, "短い", ""),
])
def test_split_at_natural_points(street: str, limit: int, head: str, tail: str) -> None:
    assert split_at(street, limit) == (head, tail)


def test_fit_lines_prefers_one_segment_per_line() -> None:
    assert fit_lines(["東京都千代田区", "丸の内1-1-1", "サンプルビル"], [32, 32, 32]) == \
        ["東京都千代田区", "丸の内1-1-1", "サンプルビル"]


def test_fit_lines_packs_then_flows_then_gives_up() -> None:
    assert fit_lines(["東京都千代田区", "丸の内１－１－１", "サンプルビル５階"], [32, 32], sep="　") == \
        ["東京都千代田区　丸の内１－１－１", "サンプルビル５階"]
    assert fit_lines(["あ" * 20, "い" * 8], [32, 32]) == ["あ" * 16, "あ" * 4 + "い" * 8]
    assert fit_lines(["あ" * 40], [32, 32]) is None


_address_text = st.text(alphabet=st.sampled_from(list("丸の内一二三丁目番地号1234-ｱｲｳﾞ ABCビル館階　")), max_size=60)


@settings(max_examples=300, deadline=None)
@given(street=_address_text, limit=st.integers(min_value=2, max_value=40))
def test_split_never_loses_characters(street: str, limit: int) -> None:
    head, tail = split_at(street, limit)
    assert width(head) <= limit or limit < 2
    assert (head + tail).replace(" ", "").replace("　", "") == street.replace(" ", "").replace("　", "")


@settings(max_examples=300, deadline=None)
@given(segments=st.lists(_address_text, min_size=1, max_size=3), count=st.integers(min_value=1, max_value=3))
def test_fit_lines_keeps_every_character_or_refuses(segments: list[str], count: int) -> None:
    lines = fit_lines(segments, [32] * count, sep="　")
    if lines is None:
        return
    assert len(lines) == count and all(width(line) <= 32 for line in lines)
    squash = "".join(lines).replace(" ", "").replace("　", "")
    assert squash == "".join(segments).replace(" ", "").replace("　", "")
