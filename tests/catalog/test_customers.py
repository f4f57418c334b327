"""The customers job end to end: 得意先マスター (UTF-8, so it can hold 𠮷) → CS-Cart customers in the simulator."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from bridge.domain.customers import Customer
from bridge.rules.provider import RulesProvider
from bridge.store import Store, bindings
from tests.catalog.conftest import CatalogWorld, world_settings


@pytest.fixture
def customers_world(world: CatalogWorld) -> CatalogWorld:
    world.settings = world_settings(world.root, world.sim, smile={"files": {"customers": {"encoding": "utf-8"}}})
    return world


def master(world: CatalogWorld) -> list[Customer]:
    """Three customers with CS-Cart accounts (by e-mail) and two without."""
    c = world.made.customers
    return [
        replace(c[0], name="𠮷田商店", email="customer00001@example.jp", price_rank=2, suspended=False,
                valid_from=None, valid_to=None, rate_percent=Decimal(70), credit_limit=Decimal(500000)),
        replace(c[1], email="customer00002@example.jp", suspended=True, price_rank=1),
        replace(c[2], email="CUSTOMER00003@example.jp ", suspended=False, valid_to=date(2020, 3, 31), price_rank=None),
        replace(c[3], email="nobody-a@example.jp"),
        replace(c[4], email="nobody-b@example.jp"),
    ]


def user_writes(world: CatalogWorld) -> list[tuple[str, str, dict[str, Any]]]:
    return [(r.method, r.path, r.json() or {}) for r in world.sim.requests
            if r.entity == "users" and r.method in ("PUT", "POST", "DELETE")]


def group_id(world: CatalogWorld, rank: int) -> int:
    name = RulesProvider.open(world.settings.rules_dir).current.pricing.rank_usergroups[rank]
    return next(g.usergroup_id for g in world.sim.state.usergroups.values() if g.usergroup == name)


async def audit_rows(world: CatalogWorld, action: str) -> list[tuple[str, dict[str, Any]]]:
    store = await Store.open(world.settings.state_path)
    try:
        rows = await store.fetchall("SELECT subject, detail FROM audit_log WHERE action = ?", (action,))
    finally:
        await store.close()
    return [(row[0], json.loads(row[1])) for row in rows]


async def test_customers_are_matched_by_email_and_the_4_byte_name_is_mapped_and_reported(
        customers_world: CatalogWorld) -> None:
    world = customers_world
    world.deliver("customers", master(world))
    result = await world.run("customers")
    users = world.sim.state.users
    assert users[1].company == "吉田商店", "mapped by the text guard, never stored as ?"
    assert "?" not in users[1].company
    assert any("𠮷田商店 → 吉田商店" in note for note in result.notes)
    assert await audit_rows(world, "customers.text_mapped") == [
        (master(world)[0].code, {"field": "company", "original": "𠮷田商店", "stored": "吉田商店"})]
    assert users[1].status == "A" and users[2].status == "D" and users[3].status == "D", "休止 / outside 有効期間"
    assert users[1].usergroups.get(group_id(world, 2)) == "A"
    assert users[2].usergroups.get(group_id(world, 1)) == "A"
    for method, _, body in user_writes(world):
        assert method == "PUT"
        if "usergroups" not in _:
            assert body["company_id"] == world.sim.state.settings.company_id, "company_id on every user write"
            assert set(body) <= {"company", "phone", "status", "company_id"}, "no password, no addresses"
    assert any("2 customer(s) without a CS-Cart account" in note for note in result.notes)
    assert len(users) == 3, "creating customers is off by default"
    bound = await world.bound("user")
    codes = [c.code for c in master(world)]
    assert bound == {"1": codes[0], "2": codes[1], "3": codes[2]}


async def test_a_second_identical_cycle_writes_nothing_and_a_rank_change_moves_the_membership(
        customers_world: CatalogWorld) -> None:
    world = customers_world
    customers = master(world)
    world.deliver("customers", customers)
    await world.run("customers")
    world.sim.requests.clear()
    world.deliver("customers", customers)
    again = await world.run("customers")
    assert again.changed == 0 and again.enqueued == 0 and not user_writes(world)

    customers[0] = replace(customers[0], price_rank=3)
    world.deliver("customers", customers)
    moved = await world.run("customers")
    writes = user_writes(world)
    assert sorted(path for _, path, _ in writes) == sorted([
        f"/api/2.1/users/1/usergroups/{group_id(world, 2)}", f"/api/2.1/users/1/usergroups/{group_id(world, 3)}"])
    assert moved.changed == 1 and moved.enqueued == 2  # one customer changed; two membership writes
    assert world.sim.state.users[1].usergroups[group_id(world, 3)] == "A"
    assert world.sim.state.users[1].usergroups[group_id(world, 2)] == "F"


async def test_addon_columns_and_optional_creation(customers_world: CatalogWorld) -> None:
    world = customers_world
    world.settings = world_settings(world.root, world.sim, smile={"files": {"customers": {"encoding": "utf-8"}}},
                                    cscart=world.sim.client_settings(addon=True),
                                    catalog={"create_customers": True})
    customers = master(world)
    world.deliver("customers", customers)
    result = await world.run("customers")
    posts = [body for method, _, body in user_writes(world) if method == "POST"]
    assert sorted(body["email"] for body in posts) == ["nobody-a@example.jp", "nobody-b@example.jp"]
    first = next(body for method, path, body in user_writes(world) if path == "/api/2.1/users/1")
    assert first["smile_customer_code"] == customers[0].code
    assert first["smile_price_rate"] == "70" and first["smile_credit_limit"] == "500000.00"
    assert result.failed == 0
    # the new customers have their rank groups from the first run on (issue 14: not one run later)
    for user_id in (4, 5):
        assert "A" in world.sim.state.users[user_id].usergroups.values(), world.sim.state.users[user_id].usergroups
    world.sim.requests.clear()
    world.deliver("customers", customers)
    second = await world.run("customers")  # bound now, links in the ledger: nothing to write
    assert second.enqueued == 0 and not user_writes(world), user_writes(world)
    assert len(world.sim.state.users) == 5


async def test_an_unmapped_4_byte_character_fails_that_customer_only(customers_world: CatalogWorld) -> None:
    world = customers_world
    customers = master(world)
    customers[1] = replace(customers[1], name="𩸽屋")  # not in cscart.text_map, no fallback
    world.deliver("customers", customers)
    result = await world.run("customers")
    assert result.failed == 1
    assert any(customers[1].code in note and "U+29E3D" in note and "text_map" in note for note in result.notes)
    assert world.sim.state.users[2].company != "????屋"
    assert world.sim.state.users[1].company == "吉田商店"


async def test_addon_code_match_credit_limit_for_the_orders_check_and_exposure(customers_world: CatalogWorld) -> None:
    from bridge.domain.orders import Order, WorkflowState
    from bridge.store import orders as mirrored
    from bridge.sync.orders.credit import set_credit

    world = customers_world
    world.settings = world_settings(world.root, world.sim, smile={"files": {"customers": {"encoding": "utf-8"}}},
                                    cscart=world.sim.client_settings(addon=True))
    customers = master(world)
    # account 3 already carries the add-on's 得意先コード of customer 4, under another e-mail
    world.sim.state.users[3].extra["smile_customer_code"] = customers[3].code
    customers[2] = replace(customers[2], email="someone-else@example.jp")
    store = await Store.open(world.settings.state_path)
    try:
        async with store.transaction() as tx:
            await set_credit(tx, customers[0].code, None, Decimal(12000))  # SMILE's receivable, recorded earlier
            order = Order(order_id=900002, status="P", placed_at=datetime.now(UTC), updated_at=None, user_id=1,
                          email="buyer@example.jp", total=Decimal(3300), customer_code=customers[0].code)
            await mirrored.upsert(tx, order, initial_state=WorkflowState.SHIPPING_INSTRUCTED)
    finally:
        await store.close()
    world.deliver("customers", customers)
    result = await world.run("customers")
    assert result.failed == 0
    store = await Store.open(world.settings.state_path)
    try:
        async with store.transaction() as tx:
            bound = await bindings.all_of(tx, "cscart", "user", "smile", "customer")
        credit = {row[0]: (row[1], row[2]) for row in
                  await store.fetchall("SELECT customer_code, credit_limit, receivable FROM customer_credit")}
    finally:
        await store.close()
    assert bound == {"1": customers[0].code, "2": customers[1].code, "3": customers[3].code}, \
        "matched by the add-on's 得意先コード column before the e-mail"
    assert credit[customers[0].code] == ("500000", "12000"), "limit for the orders check; receivable kept"
    assert credit[customers[3].code][0] == str(customers[3].credit_limit)
    first = next(body for method, path, body in user_writes(world) if path == "/api/2.1/users/1")
    assert first["smile_credit_exposure"] == "15300.00", "receivable + orders sent to SMILE, not yet invoiced"


async def test_the_exposure_written_includes_the_receivable_of_the_same_file(customers_world: CatalogWorld) -> None:
    """Seen on a real store: the customers job computed the exposure before recording the 売掛残 of the file it was
    applying, so the checkout's credit check saw the previous file's figure until the next run."""
    world = customers_world
    world.settings = world_settings(world.root, world.sim, smile={"files": {"customers": {"encoding": "utf-8"}}},
                                    cscart=world.sim.client_settings(addon=True))
    customers = master(world)
    customers[0] = replace(customers[0], receivable=Decimal(12345))
    world.deliver("customers", customers)
    result = await world.run("customers")
    assert result.failed == 0
    first = next(body for method, path, body in user_writes(world) if path == "/api/2.1/users/1")
    assert first["smile_credit_exposure"] == "12345.00"


async def test_smiles_receivable_is_recorded_with_the_date_of_its_file(customers_world: CatalogWorld) -> None:
    """Issue 15 defect 2: 前回請求残高 of the 得意先マスター is the 売掛残 the credit check adds orders to, as of the
    time SMILE wrote the file (orders exported before it are in the figure)."""
    import os

    world = customers_world
    customers = master(world)
    customers[0] = replace(customers[0], receivable=Decimal(45000))
    customers[1] = replace(customers[1], receivable=None)  # empty cell: the receivable recorded before stays
    path = world.deliver("customers", customers)
    written = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)
    os.utime(path, (written.timestamp(), written.timestamp()))
    store = await Store.open(world.settings.state_path)
    try:
        from bridge.sync.orders.credit import set_credit

        async with store.transaction() as tx:
            await set_credit(tx, customers[1].code, None, Decimal(777), "2026-11-01T00:00:00+00:00")
    finally:
        await store.close()
    assert (await world.run("customers")).failed == 0
    store = await Store.open(world.settings.state_path)
    try:
        rows = {row[0]: (row[1], row[2]) for row in await store.fetchall(
            "SELECT customer_code, receivable, receivable_as_of FROM customer_credit")}
    finally:
        await store.close()
    assert rows[customers[0].code] == ("45000", "2026-11-30T18:00:00+00:00")
    assert rows[customers[1].code] == ("777", "2026-11-01T00:00:00+00:00")
