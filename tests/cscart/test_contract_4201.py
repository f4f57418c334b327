"""Behaviours of a real CS-Cart 4.20.1 the simulator once got wrong (issue 14), one test each. They run on the
simulator in CI and, with ``-m live_cscart``, against a real store, touching only records they create."""

from __future__ import annotations

import pytest

from bridge.cscart.addon_client import AddonClient
from bridge.cscart.client import NotFoundError
from bridge.cscart.sim.addon import install as install_sim_addon
from tests.cscart.backends import Backend, SimBackend

MISSING_PARAMETERS = {"message": "Method Not Allowed: Missing parameters", "messages": ["Missing parameters"],
                      "status": 405}


async def test_a_write_without_parameters_is_405_missing_parameters(backend: Backend) -> None:
    product_id = await backend.create_product(amount=5)
    status, body = await backend.raw("PUT", f"products/{product_id}", json_body={})
    assert (status, body) == (405, MISSING_PARAMETERS)
    assert backend.last_headers["Content-Type"].startswith("application/json")
    status, body = await backend.raw("POST", "products", json_body={})
    assert (status, body) == (405, MISSING_PARAMETERS)
    assert await backend.amount(product_id) == 5


async def test_a_form_encoded_put_is_405_and_changes_nothing(backend: Backend) -> None:
    product_id = await backend.create_product(amount=5)
    status, body = await backend.raw("PUT", f"products/{product_id}", data=b"amount=33",
                                     content_type="application/x-www-form-urlencoded")
    assert (status, body) == (405, MISSING_PARAMETERS)
    assert await backend.amount(product_id) == 5


async def test_the_event_acknowledgement_sends_parameters(backend: Backend) -> None:
    if isinstance(backend, SimBackend):
        install_sim_addon(backend.sim.state)
    await backend.create_user()  # the update_profile hook writes an event
    _, feed = await backend.raw("GET", "smile_bridge_events", params={"limit": 1})
    acknowledged = int(feed["params"]["acknowledged_id"])
    assert acknowledged > 0 or feed["events"]
    target = max(acknowledged, 1)
    status, body = await backend.raw("PUT", f"smile_bridge_events/{target}", json_body={})
    assert (status, body) == (405, MISSING_PARAMETERS)  # what the daemon's {} used to get on every run
    assert await AddonClient(backend.client).acknowledge(target) == target
    status, body = await backend.raw("PUT", "smile_bridge_events/0", json_body={"event_id": 0})
    assert (status, body["message"]) == (405, "Method Not Allowed: Object ID undefined")  # PHP's empty("0")


async def test_items_per_page_zero_lists_every_row_and_garbage_gives_the_default_page(backend: Backend) -> None:
    lean = {"get_features": 0, "get_detailed": 0, "get_icon": 0, "get_additional": 0, "get_options": 0}
    _, default = await backend.raw("GET", "products", params=lean)
    total, size = int(default["params"]["total_items"]), int(default["params"]["items_per_page"])
    status, everything = await backend.raw("GET", "products", params={**lean, "items_per_page": 0})
    assert status == 200 and len(everything["products"]) == total
    for garbage in ("abc", "-3"):
        status, page = await backend.raw("GET", "products", params={**lean, "items_per_page": garbage})
        assert status == 200 and len(page["products"]) == min(size, total)
        assert int(page["params"]["items_per_page"]) == size


@pytest.mark.parametrize(("sent", "stored"), [
    ("abc", 0), ("12abc", 12), ("", 0), (1.7, 2), (2.5, 3), (-5, -5), (99999999999, 8388607), (-99999999999, -8388608),
])
async def test_amount_is_stored_the_way_mysql_converts_it(backend: Backend, sent: object, stored: int) -> None:
    product_id = await backend.create_product(amount=5)
    status, _ = await backend.raw("PUT", f"products/{product_id}", json_body={"amount": sent})
    assert status == 200
    assert await backend.amount(product_id) == stored


async def test_users_are_filtered_by_company_id(backend: Backend) -> None:
    user_id = await backend.create_user()
    ids = {}
    for company in (backend.company_id, backend.company_id + 100):
        _, body = await backend.raw("GET", "users", params={"user_type": "C", "company_id": company,
                                                            "items_per_page": 0})
        ids[company] = {int(row["user_id"]) for row in body["users"]}
    assert user_id in ids[backend.company_id]
    assert ids[backend.company_id + 100] == set()


async def test_a_missing_user_is_200_with_an_empty_list_and_the_client_raises_not_found(backend: Backend) -> None:
    status, body = await backend.raw("GET", "users/987654")
    assert status == 200 and body["users"] == [] and body["params"]["user_id"] == "987654"
    with pytest.raises(NotFoundError):
        await backend.client.get_user(987654)
    user_id = await backend.create_user(lastname="存在")
    assert (await backend.client.get_user(user_id)).lastname == "存在"


async def test_deleting_a_missing_product_is_403(backend: Backend) -> None:
    status, body = await backend.raw("DELETE", "products/987654")
    assert status == 403 and body["status"] == 403 and body["message"].startswith("Forbidden")


async def test_creating_a_product_without_a_price_is_400(backend: Backend) -> None:
    status, body = await backend.raw("POST", "products", json_body={"product": f"価格なし {backend.tag}",
                                                                    "company_id": backend.company_id})
    assert (status, body) == (400, {"message": "Bad Request: The price field is required",
                                    "messages": ["The price field is required"], "status": 400})


async def test_api_2_0_gives_the_price_with_8_decimals(backend: Backend) -> None:
    product_id = await backend.create_product(price=1234)
    _, old = await backend.raw("GET", f"products/{product_id}", version="2.0")
    _, new = await backend.raw("GET", f"products/{product_id}")
    assert (old["price"], new["price"]) == ("1234.00000000", "1234.00")


async def test_error_bodies_name_details_as_4_20_1_does(backend: Backend) -> None:
    cases = [
        ("GET", "products/987654", None, {"message": "Not Found", "status": 404}),
        ("GET", "orders/987654", None, {"message": "Not Found", "status": 404}),
        ("PUT", "products/987654", {"amount": 1},
         {"message": "Not Found: The Product not found", "errors": ["The Product not found"], "status": 404}),
        ("PUT", "users/987654", {"firstname": "x"},
         {"message": "Not Found: The User not found", "errors": ["The User not found"], "status": 404}),
        ("DELETE", "users/987654", None, {"message": "Not Found", "status": 404}),
        ("POST", "users", {"firstname": "x"}, {"message": "Bad Request: The company_id field is required",
                                               "messages": ["The company_id field is required"], "status": 400}),
    ]
    for method, path, body, expected in cases:
        kwargs = {} if body is None else {"json_body": body}
        status, answer = await backend.raw(method, path, **kwargs)
        assert (status, answer) == (expected["status"], expected), (method, path)
        assert backend.last_headers["Content-Type"].startswith("application/json")
    status, answer = await backend.raw("PUT", "products/1", data=b"<a/>", content_type="text/xml")
    assert (status, answer) == (415, {"message": "Unsupported Media Type", "status": 415})
    status, answer = await backend.raw("GET", "products/1", auth=False)
    assert (status, answer) == (401, {"message": "Unauthorized", "status": 401})


async def test_a_name_without_lang_code_reaches_one_language_and_the_client_writes_every_one(
        backend: Backend) -> None:
    product_id = await backend.create_product()

    async def names() -> dict[str, str]:
        found = {}
        for lang in ("en", "ja"):
            _, body = await backend.raw("GET", f"products/{product_id}", params={"lang_code": lang})
            found[lang] = body["product"]
        return found

    before = (await names())["ja"]
    status, _ = await backend.raw("PUT", f"products/{product_id}", json_body={"product": f"旧名 {backend.tag}"})
    assert status == 200
    assert await names() == {"en": f"旧名 {backend.tag}", "ja": before}  # the Japanese row kept the old name
    assert set(await backend.client.text_languages(refresh=True)) >= {"en", "ja"}
    await backend.client.update_product(product_id, {"product": f"新名 {backend.tag}"})
    assert await names() == {"en": f"新名 {backend.tag}", "ja": f"新名 {backend.tag}"}
