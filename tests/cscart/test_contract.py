"""One test per CS-Cart quirk (docs/cscart.md), through raw HTTP and through the bridge's client.

Runs against the simulator; with ``-m live_cscart`` and BRIDGE_LIVE_CSCART_* set, the same tests run against a real
CS-Cart, touching only records they create.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from bridge import metrics
from bridge.cscart.client import CSCartAuthError, CSCartClient, NotFoundError
from bridge.cscart.textguard import TextGuardError
from bridge.domain.catalog import PriceTier
from bridge.errors import PermanentError
from tests.cscart.backends import Backend


async def test_json_body_without_content_type_is_ignored_with_200(backend: Backend) -> None:
    product_id = await backend.create_product(amount=5)
    status, _ = await backend.raw("PUT", f"products/{product_id}", data=b'{"amount": 9}')
    assert status == 200
    assert await backend.amount(product_id) == 5
    await backend.client.set_stock(product_id, 9)  # the client always sends the header
    assert await backend.amount(product_id) == 9


async def test_form_body_without_content_type_is_applied(backend: Backend) -> None:
    product_id = await backend.create_product(amount=5)
    status, _ = await backend.raw("PUT", f"products/{product_id}", data=b"amount=33")
    assert status == 200
    assert await backend.amount(product_id) == 33


async def test_malformed_json_is_400_and_other_types_415(backend: Backend) -> None:
    product_id = await backend.create_product()
    status, body = await backend.raw("PUT", f"products/{product_id}", data=b"{amount:", content_type="application/json")
    assert status == 400 and "Syntax error" in body["message"]
    status, _ = await backend.raw("PUT", f"products/{product_id}", data=b"<amount/>", content_type="text/xml")
    assert status == 415


async def test_scalars_are_strings_and_lists_have_envelopes(backend: Backend) -> None:
    status, body = await backend.raw("GET", "products", params={"items_per_page": 3})
    assert status == 200
    assert set(body) == {"products", "params"}
    assert isinstance(body["params"]["total_items"], str)
    row = body["products"][0]
    assert all(isinstance(row[key], str) for key in ("product_id", "amount", "price", "timestamp"))


async def test_usergroups_are_a_bare_map_and_user_links_a_map_or_an_empty_list(backend: Backend) -> None:
    status, groups = await backend.raw("GET", "usergroups")
    assert status == 200 and "params" not in groups
    assert all(key == row["usergroup_id"] for key, row in groups.items())
    user_id = await backend.create_user()
    status, links = await backend.raw("GET", f"users/{user_id}/usergroups")
    assert (status, links) == (200, [])  # PHP's empty array
    assert isinstance(await backend.client.usergroups(), dict)
    # with a link: a map keyed by usergroup_id, as GET /usergroups (seen on a real 4.20.1; the client read a list)
    group_id = next(int(key) for key, row in groups.items() if row["type"] == "C" and row["status"] == "A")
    await backend.client.set_usergroup_link(user_id, group_id, "A")
    status, links = await backend.raw("GET", f"users/{user_id}/usergroups")
    assert status == 200 and isinstance(links, dict), links
    assert links[str(group_id)]["usergroup_id"] == str(group_id) and links[str(group_id)]["status"] == "A"
    assert "link_id" in links[str(group_id)]
    assert [(link.usergroup_id, link.status) for link in await backend.client.user_usergroups(user_id)] == [
        (group_id, "A")]


async def test_default_page_size_no_maximum_and_empty_page_past_the_end(backend: Backend) -> None:
    _, default = await backend.raw("GET", "products", params={"get_features": 0})
    size = int(default["params"]["items_per_page"])
    assert len(default["products"]) == min(size, int(default["params"]["total_items"]))
    if backend.is_sim:
        assert size == 50  # admin_elements_per_page on a fresh 4.20.1
    total = int(default["params"]["total_items"])
    _, everything = await backend.raw("GET", "products", params={"items_per_page": total + 1000})
    assert len(everything["products"]) == total
    status, past = await backend.raw("GET", "products", params={"items_per_page": 10, "page": total + 1})
    assert status == 200 and past["products"] == []


async def test_client_pages_through_every_product_once(backend: Backend) -> None:
    _, body = await backend.raw("GET", "products", params={"items_per_page": 1})
    seen = [p.product_id async for p in backend.client.iter_products(items_per_page=7)]
    assert len(seen) == len(set(seen)) == int(body["params"]["total_items"])


async def test_users_list_without_user_type_is_400(backend: Backend) -> None:
    status, body = await backend.raw("GET", "users", params={"items_per_page": 1})
    assert status == 400 and "user_type" in body["message"]
    user_id = await backend.create_user()
    users = [u async for u in backend.client.iter_users(items_per_page=100)]
    assert user_id in {u.user_id for u in users} and {u.user_type for u in users} == {"C"}


async def test_user_put_without_company_id_resets_it_to_zero(backend: Backend) -> None:
    user_id = await backend.create_user()
    status, _ = await backend.raw("PUT", f"users/{user_id}", json_body={"firstname": "変更"})
    assert status == 200
    assert (await backend.client.get_user(user_id)).company_id == 0
    await backend.client.update_user(user_id, {"firstname": "戻す"})  # always sends company_id
    user = await backend.client.get_user(user_id)
    assert (user.company_id, user.firstname) == (backend.company_id, "戻す")


async def test_prices_first_row_is_dropped_and_tiers_are_replaced(backend: Backend) -> None:
    product_id = await backend.create_product(price=1000)
    status, _ = await backend.raw("PUT", f"products/{product_id}", json_body={"price": 1000, "prices": [
        {"lower_limit": 10, "usergroup_id": 0, "price": 900},  # sent first: lost
        {"lower_limit": 20, "usergroup_id": 0, "price": 800}]})
    assert status == 200
    tiers = (await backend.client.get_product(product_id)).tiers
    assert tiers is not None and {(t.lower_limit, t.usergroup_id) for t in tiers} == {(1, 0), (20, 0)}

    wanted = [PriceTier(0, 10, Decimal(900)), PriceTier(0, 50, Decimal(700))]
    await backend.client.set_prices(product_id, Decimal(1000), wanted)
    tiers = (await backend.client.get_product(product_id)).tiers
    assert tiers is not None
    assert {(t.lower_limit, t.price) for t in tiers} == {(1, 1000), (10, 900), (50, 700)}  # 20 is gone


async def test_status_put_on_a_missing_order_is_200(backend: Backend) -> None:
    missing, _ = await backend.raw("GET", "orders/987654321")
    assert missing == 404  # never write to an order that exists (live stores hold real orders)
    status, body = await backend.raw("PUT", "orders/987654321", json_body={"status": "C"})
    assert status == 200 and str(body["order_id"]) == "987654321"
    with pytest.raises(PermanentError, match="no such order"):
        await backend.client.change_order_status(987654321, "C")


async def test_unknown_status_letter_is_stored(backend: Backend) -> None:
    product_id = await backend.create_product(amount=10)
    order_id = await backend.place_order(product_id, 1)
    letter = await backend.unknown_letter()
    status, _ = await backend.raw("PUT", f"orders/{order_id}", json_body={"status": letter})
    assert status == 200
    assert (await backend.order(order_id))["status"] == letter
    with pytest.raises(PermanentError, match="does not exist"):
        await backend.client.change_order_status(order_id, letter)


async def test_stock_moves_only_when_the_inventory_flag_flips(backend: Backend) -> None:
    product_id = await backend.create_product(amount=10)
    order_id = await backend.place_order(product_id, 3)  # N → O decrements
    assert await backend.amount(product_id) == 7
    assert (await backend.client.change_order_status(order_id, "P")).applied  # D → D: no change
    assert await backend.amount(product_id) == 7
    await backend.client.change_order_status(order_id, "I")  # D → I: returned
    assert await backend.amount(product_id) == 10
    await backend.client.change_order_status(order_id, "O")  # I → D: taken again
    assert await backend.amount(product_id) == 7


async def test_failed_decrement_turns_the_order_backordered(backend: Backend) -> None:
    product_id = await backend.create_product(amount=2)
    order_id = await backend.place_order(product_id, 2)
    await backend.client.change_order_status(order_id, "I")
    await backend.client.set_stock(product_id, 1)
    change = await backend.client.change_order_status(order_id, "P")
    assert change.backordered and change.actual == "B"
    assert await backend.amount(product_id) == 1


async def test_non_bmp_characters_are_stored_as_question_marks(backend: Backend) -> None:
    user_id = await backend.create_user()
    status, _ = await backend.raw("PUT", f"users/{user_id}", json_body={
        "lastname": "\U00020BB7田", "company_id": backend.company_id})
    assert status == 200
    stored = (await backend.client.get_user(user_id)).lastname
    assert "?" in stored and stored.endswith("田") and "\U00020BB7" not in stored

    await backend.client.update_user(user_id, {"lastname": "\U00020BB7田"})  # mapped by the default table
    assert (await backend.client.get_user(user_id)).lastname == "吉田"
    with pytest.raises(TextGuardError, match="lastname"):
        await backend.client.update_user(user_id, {"lastname": "田中\U0001F600"})


async def test_updated_at_is_bumped_by_status_changes_and_edits(backend: Backend) -> None:
    product_id = await backend.create_product(amount=10)
    order_id = await backend.place_order(product_id, 1)
    await backend.age_order(order_id)
    before = int((await backend.order(order_id))["updated_at"])
    await backend.client.change_order_status(order_id, "P")
    after_status = int((await backend.order(order_id))["updated_at"])
    assert after_status > before
    found = [o.order_id async for o in backend.client.iter_orders_updated(after_status, order_id=order_id)]
    assert found == [order_id]

    await backend.age_order(order_id)
    await backend.raw("PUT", f"orders/{order_id}", json_body={"notes": "備考", "products": {
        str(product_id): {"product_id": product_id, "amount": 1}}})
    assert int((await backend.order(order_id))["updated_at"]) > after_status - 1


async def test_time_from_is_ignored_without_period(backend: Backend) -> None:
    product_id = await backend.create_product(amount=10)
    order_id = await backend.place_order(product_id, 1)
    placed = int((await backend.order(order_id))["timestamp"])
    window = {"time_from": placed + 86400, "time_to": placed + 2 * 86400, "order_id": order_id}
    _, ignored = await backend.raw("GET", "orders", params=window)
    assert [int(o["order_id"]) for o in ignored["orders"]] == [order_id]
    _, applied = await backend.raw("GET", "orders", params={**window, "period": "C"})
    assert applied["orders"] == []
    created = [o.order_id async for o in backend.client.iter_orders_created(placed, placed + 60, order_id=order_id)]
    assert created == [order_id]


async def test_wrong_credentials_are_401_and_an_auth_alert(backend: Backend) -> None:
    status, body = await backend.raw("GET", "products", auth=False)
    assert status == 401 and backend.last_headers["WWW-Authenticate"].startswith("Basic")
    settings = backend.client.settings.model_copy(update={"api_key": backend.client.settings.api_key.__class__(
        "wrong-key")})
    async with CSCartClient(settings) as wrong:
        with pytest.raises(CSCartAuthError):
            await wrong.get_product(1)
    assert metrics.AUTH_FAILING._value.get() == 1
    await backend.client.statuses(refresh=True)
    assert metrics.AUTH_FAILING._value.get() == 0


async def test_unknown_entity_is_404_with_cscart_error_body(backend: Backend) -> None:
    status, body = await backend.raw("GET", "promotions")
    assert status == 404 and "promotions" in body["message"]
    with pytest.raises(NotFoundError):
        await backend.client.request("GET", "promotions")


async def test_post_with_an_id_is_405(backend: Backend) -> None:
    product_id = await backend.create_product()
    status, _ = await backend.raw("POST", f"products/{product_id}", json_body={"amount": 1})
    assert status == 405


async def test_shipment_caps_quantities_and_changes_the_order_status(backend: Backend) -> None:
    product_id = await backend.create_product(amount=10)
    order_id = await backend.place_order(product_id, 2)
    order = await backend.client.get_order(order_id)
    item_id = order.lines[0].item_id
    shipment_id = await backend.client.create_shipment(
        order_id, shipping_id=order.shipping_ids[0], carrier="yamato", tracking_number=f"4{order_id:011d}",
        products={item_id: 5}, order_status="C")
    shipments = await backend.client.list_shipments(order_id)
    assert [(int(s["shipment_id"]), s["products"][item_id]) for s in shipments] == [(shipment_id, "2")]
    assert (await backend.client.get_order(order_id)).status == "C"
