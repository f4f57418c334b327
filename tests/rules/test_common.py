"""The small checks every rules file shares (bridge/rules/common.py), and the models that use them."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from bridge.rules.common import status_letter
from bridge.rules.order_flow import StateStatus
from bridge.rules.returns import ReturnRules


@given(st.text(max_size=3))
def test_a_status_letter_is_exactly_one_capital_letter(text: str) -> None:
    if len(text) == 1 and text in string.ascii_uppercase:
        assert status_letter(text, "CS-Cart status") == text
    else:
        with pytest.raises(ValueError, match=r"is not a CS-Cart status letter \(one capital letter A–Z\)"):
            status_letter(text, "CS-Cart status")


def test_order_and_return_statuses_name_what_the_letter_is_for() -> None:
    with pytest.raises(ValidationError, match="'o' is not a CS-Cart status letter"):
        StateStatus(letters=["O", "o"])
    with pytest.raises(ValidationError, match="N is reserved by CS-Cart"):
        StateStatus(letters=["N"])
    with pytest.raises(ValidationError, match="'AB' is not a return status letter"):
        ReturnRules(approved_statuses=["A", "AB"])
    assert StateStatus(letters=["O", "P"]).letters == ["O", "P"]
    assert ReturnRules(approved_statuses=["A", "C"]).approved_statuses == ["A", "C"]
