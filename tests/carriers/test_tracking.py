"""Tracking numbers: 12 digits with the 7DR check digit (a failure is a warning), URLs per carrier."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.carriers.tracking import check_7dr, check_number, tracking_url


@pytest.mark.parametrize("number", ["389711074012", "512547514334", "405548424886", "711072773143"])
def test_reference_samples_pass_7dr(number: str) -> None:
    assert check_7dr(number)
    check = check_number(number)
    assert check.valid and check.warnings == () and check.carriers == ("yamato", "sagawa", "japanpost")


def test_separators_and_full_width_are_accepted() -> None:
    check = check_number("３８９７－１１０７－４０１２")
    assert check.number == "389711074012" and check.display == "3897-1107-4012" and not check.warnings


def test_failing_check_digit_is_a_warning_not_a_refusal() -> None:
    check = check_number("3897-1107-4013", "yamato")
    assert check.valid
    assert "fails the 7DR check digit (last digit 3, expected 2)" in check.warnings[0]


@pytest.mark.parametrize("raw", ["", "12345", "38971107401", "3897110740123", "ABCDEFGHIJKL", "3897-1107-401X"])
def test_wrong_shapes_are_errors_for_yamato(raw: str) -> None:
    assert not check_number(raw, "yamato").valid


def test_japan_post_other_shapes() -> None:
    registered = check_number("12345678901", "japanpost")
    assert registered.valid and "書留" in registered.warnings[0]
    ems = check_number("EE123456785JP")
    assert ems.valid and ems.carriers == ("japanpost",) and not ems.warnings
    assert check_number("EE123456784JP").warnings


@given(st.from_regex(r"\A[0-9]{11}\Z"))
def test_7dr_accepts_exactly_one_last_digit(body: str) -> None:
    passing = [d for d in "0123456789" if check_7dr(body + d)]
    assert passing == [str(int(body) % 7)]


@pytest.mark.parametrize(("carrier", "url"), [
    ("yamato", "https://jizen.kuronekoyamato.co.jp/jizen/servlet/crjz.b.NQ0010?id=389711074012"),
    ("sagawa", "https://k2k.sagawa-exp.co.jp/p/web/okurijosearch.do?okurijoNo=389711074012"),
    ("japanpost", ("https://trackings.post.japanpost.jp/services/srv/search/direct?reqCodeNo1=389711074012"
                   "&searchKind=S002&locale=ja")),
])
def test_tracking_urls(carrier: str, url: str) -> None:
    assert tracking_url(carrier, "3897-1107-4012") == url


def test_unknown_carrier_url_names_the_rule_to_add() -> None:
    with pytest.raises(KeyError, match="tracking_urls in rules/shipping.yaml"):
        tracking_url("fukuyama", "1")
    assert tracking_url("fukuyama", "1234", {"fukuyama": "https://t.example/?n={no}"}) == "https://t.example/?n=1234"
