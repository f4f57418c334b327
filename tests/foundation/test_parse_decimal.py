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


# CS-Cart's fields (bridge/cscart/mapping.py) read plain digit strings without the general parser: the same answer.
numbers = st.from_regex(r"-?[0-9]{1,12}(\.[0-9]{1,4})?", fullmatch=True) | st.text(max_size=6) | \
    st.sampled_from(["１２", "1,234", "007", " 5", "5 ", "", "٣", "²", "1e3"])


@given(numbers)
def test_mapping_reads_a_number_as_parse_decimal_does(text: str) -> None:
    from bridge.cscart.mapping import MappingError, as_decimal, as_int

    for read, full in ((as_decimal, parse_decimal), (as_int, lambda value: int(parse_decimal(value)))):
        if text == "":
            assert read({"n": text}, "n", 99) == 99  # empty: the default
            continue
        try:
            expected: object = full(text)
        except (ValueError, ArithmeticError):
            expected = MappingError
        try:
            got: object = read({"n": text}, "n")
        except MappingError:
            got = MappingError
        assert got == expected and (not isinstance(got, Decimal) or got.as_tuple() == expected.as_tuple())  # type: ignore[union-attr]
