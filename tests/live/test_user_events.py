"""One ``user.updated`` event per created customer, however the customer is created (issue 14 saw two once): a
storefront registration in a real browser, and the admin area's own save (``fn_update_user`` as the admin
controller's profiles.update calls it, run through the store's console: this store's admin panel is locked in a
browser by CS-Cart's expired-trial dialog). REST creation is checked in test_addon_endpoints."""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

from bridge.cscart.addon_installer import StoreConsole
from tests.cscart.backends import LiveBackend
from tests.live.conftest import LiveStore
from tests.live.kit import PASSWORD
from tests.live.storefront import Storefront
from tests.live.test_addon_endpoints import feed_after, newest_event

# The admin controller's save (controllers/backend/profiles.php, mode update) for a new customer, as the admin.
ADMIN_SAVE = ("define('AREA', 'A'); define('ACCOUNT_TYPE', 'admin'); require getcwd() . '/init.php';"
              "$auth = ['user_id' => 1, 'user_type' => 'A', 'area' => 'A', 'is_root' => 'Y', 'company_id' => 0];"
              "Tygh::$app['session']['auth'] = $auth;"
              "$data = json_decode($argv[1], true);"
              "$result = fn_update_user(0, $data, $auth, false, true);"
              "echo '@@', json_encode($result ? (int) $result[0] : 0), '@@';")


async def user_id_of(live: LiveBackend, email: str) -> int:
    _, found = await live.raw("GET", "users", params={"email": email, "user_type": "C", "items_per_page": 10})
    [row] = [row for row in found["users"] if row["email"] == email]
    user_id = int(row["user_id"])
    live._created.append(("users", user_id))
    return user_id


async def user_events(live: LiveBackend, start: int, user_id: int) -> list[str]:
    return [e["type"] for e in await feed_after(live, start) if e["entity"] == "user" and e["entity_id"] == user_id]


async def test_a_storefront_registration_writes_one_user_event(live_store: LiveStore, live: LiveBackend) -> None:
    email = f"register-{live.tag}@example.jp"
    start = await newest_event(live)
    shots = Path(tempfile.mkdtemp(prefix=f"bridge-register-{live.tag}-"))
    with Storefront(live_store.url, shots) as shop:
        shop.page("profiles.add")
        for field, value in (("email", email), ("password1", PASSWORD), ("password2", PASSWORD)):
            shop.type(field, value)
        shop.driver.find_element("id", "elm_6").send_keys("登録")
        shop.driver.find_element("id", "elm_7").send_keys("試験")
        for box in shop.driver.find_elements("css selector", "form[name=profiles_register_form] input.cm-agreement"):
            shop.driver.execute_script("if (!arguments[0].checked) arguments[0].click();", box)
        shop.click("form[name=profiles_register_form] button[name='dispatch[profiles.update]']")
        seen = shop.shot("registered")
    user_id = await user_id_of(live, email)
    await asyncio.sleep(1)
    assert await user_events(live, start, user_id) == ["user.updated"], seen


async def test_a_customer_saved_in_the_admin_area_writes_one_user_event(live_store: LiveStore,
                                                                         live: LiveBackend) -> None:
    console = StoreConsole(live_store.require_root(), web_user=live_store.web_user)
    email = f"admin-made-{live.tag}@example.jp"
    start = await newest_event(live)
    data = {"email": email, "user_type": "C", "status": "A", "company_id": live.company_id, "firstname": "管理",
            "lastname": "作成", "password1": PASSWORD, "password2": PASSWORD, "b_country": "JP", "s_country": "JP"}
    _, output = await asyncio.to_thread(console.run, ["php", "-r", ADMIN_SAVE, "--", json.dumps(data)])
    assert "@@" in output, output
    user_id = int(json.loads(output.split("@@")[1]))
    assert user_id > 0, output
    live._created.append(("users", user_id))
    assert await user_events(live, start, user_id) == ["user.updated"]


async def test_a_customer_the_customers_job_creates_writes_one_user_event(live_store: LiveStore, live: LiveBackend,
                                                                          tmp_path: Path) -> None:
    """catalog.create_customers: the bridge's own creation (POST users, then the rank usergroup link)."""
    from decimal import Decimal

    from bridge.domain.customers import Address, Customer
    from tests.live.kit import deliver, first_category, live_settings, ok, run

    settings = live_settings(live_store, tmp_path, await first_category(live), catalog={"create_customers": True})
    email = f"job-made-{live.tag}@example.jp"
    customer = Customer(code=f"{500_000 + int(live.tag[:5], 16) % 90_000:06d}", name=f"新規商店{live.tag}",
                        email=email, price_rank=1, rate_percent=Decimal(80), credit_limit=Decimal(100_000),
                        address=Address(postcode="1000005", prefecture="東京都", city="千代田区", street="丸の内1-1-1"))
    start = await newest_event(live)
    deliver(settings, "customers", [customer], 31)
    ok(await run(settings, "customers"))
    user_id = await user_id_of(live, email)
    events = await user_events(live, start, user_id)
    assert events == ["user.updated"], events
