"""``parse_decimal``'s fast path for plain ASCII numbers gives what the full path (NFKC, separators) gives."""

from __future__ import annotations

import unicodedata
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.domain.money import parse_decimal


@given(st.from_regex(r"-?[0-9]{1,15}(\.[0-9]{1,8})?", fullmatch=True))
def test_a_plain_number_parses_exactly_as_written(text: str) -> None:
    parsed = parse_decimal(text)
    assert parsed == Decimal(unicodedata.normalize("NFKC", text)) and parsed.as_tuple() == Decimal(text).as_tuple()


@pytest.mark.parametrize(("text", "expected"), [("1,234", "1234"), ("１２３", "123"), (" 12.50 ", "12.50"),
                                                 ("¥1,000", "1000"), ("\\500", "500"), ("12\n", "12")])
def test_other_spellings_still_take_the_full_path(text: str, expected: str) -> None:
    assert parse_decimal(text).as_tuple() == Decimal(expected).as_tuple()


@pytest.mark.parametrize("text", ["", "abc", "1e", "NaN", "Infinity", "1.2.3"])
def test_non_numbers_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_decimal(text)
