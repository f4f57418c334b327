"""Client transport: error classes, metrics, the text guard, mapping of string scalars."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError

from bridge import metrics
from bridge.cscart import mapping as m
from bridge.cscart.client import (
    CSCartAuthError,
    CSCartClient,
    CSCartRequestError,
    CSCartServerError,
    NotFoundError,
    classify,
    endpoint_label,
)
from bridge.cscart.settings import CSCartSettings
from bridge.cscart.simulator import Simulator
from bridge.cscart.textguard import TextGuard, TextGuardError, has_non_bmp
from bridge.domain.catalog import PriceTier
from bridge.errors import ConfigError, PermanentError, RetryableError
from tests.conftest import free_port


@pytest.mark.parametrize(("status", "kind"), [
    (400, CSCartRequestError), (404, NotFoundError), (405, CSCartRequestError), (409, CSCartRequestError),
    (415, CSCartRequestError), (401, CSCartAuthError), (403, CSCartAuthError), (429, CSCartServerError),
    (500, CSCartServerError), (503, CSCartServerError),
])
def test_status_codes_are_classified_for_the_dispatcher(status: int, kind: type) -> None:
    body = {"message": "Bad Request: The user_type field is required", "errors": ["detail one"]}
    error = classify(status, body, method="GET", path="users", retry_after="7")
    assert type(error) is kind
    assert isinstance(error, RetryableError) == (status >= 500 or status == 429)
    assert isinstance(error, PermanentError) != isinstance(error, RetryableError)
    assert "user_type field is required" in str(error) and "detail one" in str(error)
    if isinstance(error, RetryableError):
        assert error.retry_after == 7.0


def test_endpoint_labels_hide_ids() -> None:
    assert endpoint_label("users/12/usergroups/3") == "users/:id/usergroups/:id"
    assert endpoint_label("products") == "products"


def test_client_needs_credentials() -> None:
    with pytest.raises(ConfigError, match="api_key"):
        CSCartClient(CSCartSettings(url="http://shop.example.jp", email="a@example.jp"))


async def test_connection_refused_is_retryable() -> None:
    settings = CSCartSettings(url=f"http://127.0.0.1:{free_port()}", email="a@example.jp",
                              api_key=SecretStr("k"), timeout=2)
    async with CSCartClient(settings) as client:
        with pytest.raises(RetryableError, match="products/1"):
            await client.get_product(1)


async def test_slow_answers_time_out_as_retryable(sim: Simulator) -> None:
    sim.faults.latency_ms = 500
    async with CSCartClient(sim.client_settings(timeout=0.1)) as client:
        with pytest.raises(RetryableError, match="no answer within 0.1 s"):
            await client.get_product(1)


async def test_requests_are_counted_per_endpoint_and_status(client: CSCartClient) -> None:
    counter = metrics.API_REQUESTS.labels(endpoint="products/:id", method="GET", status="404")
    before = counter._value.get()
    with pytest.raises(NotFoundError):
        await client.get_product(999_999)
    assert counter._value.get() == before + 1


def test_price_body_puts_the_base_row_first_with_every_tier() -> None:
    body = m.prices_body(Decimal("1200"), [PriceTier(3, 1, Decimal("1000")), PriceTier(0, 10, Decimal("5"), True),
                                           PriceTier(0, 1, Decimal("999"))])
    assert body == {"price": 1200, "prices": [
        {"lower_limit": 1, "usergroup_id": 0, "price": 1200},
        {"lower_limit": 10, "usergroup_id": 0, "price": 5, "type": "P"},
        {"lower_limit": 1, "usergroup_id": 3, "price": 1000}]}


async def test_prices_without_price_are_refused(client: CSCartClient) -> None:
    with pytest.raises(PermanentError, match="needs price"):
        await client.update_product(1, {"prices": []})


def test_string_scalars_are_parsed_tolerantly() -> None:
    product = m.product_from_json({"product_id": "12", "product": "紙コップ", "amount": "-3", "price": "1,200.50",
                                   "updated_timestamp": "1790000000"})
    assert (product.product_id, product.amount, product.price) == (12, -3, Decimal("1200.50"))
    with pytest.raises(m.MappingError, match="product 12: field 'amount'"):
        m.product_from_json({"product_id": "12", "amount": "many"})


def test_usergroups_accept_the_empty_php_array() -> None:
    assert m.usergroups_from_json([]) == {}


@given(st.text(alphabet=st.characters(max_codepoint=0xFFFF, blacklist_categories=("Cs", "Cc"))))
def test_bmp_text_passes_unchanged(text: str) -> None:  # control characters are removed (issue 13)
    assert TextGuard({}).clean_text("name", text) is text


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1))
def test_guarded_text_never_holds_non_bmp(text: str) -> None:
    guard = TextGuard({"\U00020BB7": "吉"})
    try:
        cleaned = guard.clean({"user": {"names": [text]}})["user"]["names"][0]
    except TextGuardError as exc:
        assert exc.field == "user.names[0]" and has_non_bmp(text)
    else:
        assert not has_non_bmp(cleaned)


def test_fallback_replaces_unmapped_characters() -> None:
    assert TextGuard({"\U00020BB7": "吉"}, fallback="〓").clean_text("f", "\U00020BB7野家\U0001F600") == "吉野家〓"


def test_text_map_settings_are_validated() -> None:
    with pytest.raises(ValidationError, match="outside the BMP"):
        CSCartSettings(text_map={"吉": "吉"})
    assert CSCartSettings().text_map["\U00020BB7"] == "吉"
