"""Orders from CS-Cart 4.20's lite checkout: the stock profile fields ask the name and phone once, in the customer
section, so ``s_``/``b_`` name and phone are empty on every storefront order (seen on a real 4.20.1). The shipping
address then takes the customer's name and phone; a filled shipping name or phone still wins."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bridge.cscart.mapping import order_from_json


def lite_checkout_order(**fields: Any) -> dict[str, Any]:
    return {"order_id": "193", "timestamp": "1796328682", "status": "O", "total": "1067.45", "subtotal": "1050",
            "user_id": "70", "products": {}, "firstname": "花子", "lastname": "試験", "phone": "0312345678",
            "b_firstname": "", "b_lastname": "", "b_phone": "0312345678", "s_firstname": "", "s_lastname": "",
            "s_phone": "", "s_address": "丸の内1-1", "s_city": "千代田区", "s_zipcode": "1000005", "s_state": "13",
            **fields}


def test_an_empty_shipping_name_and_phone_take_the_customers() -> None:
    order = order_from_json(lite_checkout_order())
    assert (order.shipping.name, order.shipping.phone) == ("試験 花子", "0312345678")
    assert (order.shipping.street, order.shipping.postcode) == ("丸の内1-1", "1000005")


names = st.text(alphabet="山田太郎花子ヤマダABC", min_size=1, max_size=8)


@given(last=names, first=names, phone=st.from_regex(r"0[1-9]\d{8,9}", fullmatch=True))
def test_a_filled_shipping_name_and_phone_win(last: str, first: str, phone: str) -> None:
    order = order_from_json(lite_checkout_order(s_lastname=last, s_firstname=first, s_phone=phone))
    assert (order.shipping.name, order.shipping.phone) == (f"{last} {first}", phone)
