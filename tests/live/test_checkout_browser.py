"""Checkout in a real browser (headless Chromium) on the real storefront, with the add-on installed and fed by the
daemon's own jobs with the shipped rules: the customers job gives a customer his 掛率 and another a credit limit
(SMILE 得意先 file), the customer_prices job pushes the 直送 surcharge and the お届け希望日 choices.

Checked as a customer sees them: the 掛率 price in the checkout, the 直送 surcharge line and total, お届け希望日 and
時間帯 offered (the ``checkout:shipping_rates`` template hook on the live theme), refused when not deliverable, and
stored on the placed order; a customer over his credit limit refused with the Japanese message. Screenshots of every
step are kept in a folder named in the output and in every assertion message."""

from __future__ import annotations

import asyncio
import json
import tempfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from bridge.cscart.addon_installer import StoreConsole
from bridge.domain.customers import Address, Customer
from bridge.domain.money import Rounding
from tests.cscart.backends import LiveBackend
from tests.live.conftest import LiveStore
from tests.live.kit import PASSWORD, create_customer, deliver, first_category, live_settings, ok, run
from tests.live.storefront import Storefront

# Writes smile_bridge add-on settings (admin panel: Add-ons → SMILE bridge) and prints the old values as JSON.
SET_ADDON_SETTINGS = ("define('AREA', 'A'); define('ACCOUNT_TYPE', 'admin'); require getcwd() . '/init.php';"
                      "$new = json_decode($argv[1], true); $old = [];"
                      "foreach ($new as $name => $value) {"
                      " $old[$name] = Tygh\\Settings::instance()->getValue($name, 'smile_bridge');"
                      " Tygh\\Settings::instance()->updateValue($name, $value, 'smile_bridge', true); }"
                      "echo '@@', json_encode($old), '@@';")


def addon_settings(console: StoreConsole, values: dict[str, str]) -> dict[str, str]:
    _, output = console.run(["php", "-r", SET_ADDON_SETTINGS, "--", json.dumps(values)])
    assert "@@" in output, output
    return dict(json.loads(output.split("@@")[1]))


def yen(text: str) -> str:
    """1050 → "1,050.00", as the demo storefront prints amounts."""
    return f"{Decimal(text):,.2f}"


async def test_checkout_in_a_real_browser(live_store: LiveStore, live: LiveBackend, tmp_path: Path) -> None:
    console = StoreConsole(live_store.require_root(), web_user=live_store.web_user)
    shots = Path(tempfile.mkdtemp(prefix=f"bridge-checkout-{live.tag}-"))
    print(f"screenshots: {shots}")
    category_id = await first_category(live)
    settings = live_settings(live_store, tmp_path, category_id)

    # a product with a 上代 (list price): pricing.yaml's rate_base is list_price, so 掛率 70 % → 1,050
    status, body = await live.raw("POST", "products", json_body={
        "product": f"ブラウザ試験品 {live.tag}", "product_code": f"BRW-{live.tag}", "price": 1000, "list_price": 1500,
        "amount": 50, "status": "A", "company_id": live.company_id, "category_ids": [category_id],
        "smile_direct_ship_allowed": "Y"})
    assert status == 201, body
    product_id = int(body["product_id"])
    live._created.append(("products", product_id))

    rated_email, limited_email = f"kakeritsu-{live.tag}@example.jp", f"yoshin-{live.tag}@example.jp"
    rated_id = await create_customer(live, rated_email, lastname="掛率")
    limited_id = await create_customer(live, limited_email, lastname="与信")
    base = 700_000 + int(live.tag[:5], 16) % 90_000
    # no phone: SMILE writes 03-1234-5678, which the demo storefront's phone check (US mask) refuses at checkout
    address = Address(postcode="1000005", prefecture="東京都", city="千代田区", street="丸の内1-1-1")
    customers = [
        Customer(code=f"{base:06d}", name=f"掛率商店{live.tag}", email=rated_email, address=address,
                 rate_percent=Decimal(70), price_rounding=Rounding.DOWN, price_rounding_unit=Decimal(1)),
        Customer(code=f"{base + 1:06d}", name=f"与信商店{live.tag}", email=limited_email, address=address,
                 credit_limit=Decimal(500)),
    ]
    deliver(settings, "customers", customers, 1)
    ok(await run(settings, "customers"))
    _, rated = await live.raw("GET", f"users/{rated_id}")
    assert (Decimal(rated["smile_price_rate"]), rated["smile_price_rate_base"]) == (Decimal(70), "list_price"), rated
    _, limited = await live.raw("GET", f"users/{limited_id}")
    assert Decimal(limited["smile_credit_limit"]) == 500, limited
    ok(await run(settings, "customer_prices"))  # 直送 surcharge and お届け希望日 settings → the add-on

    _, payments = await live.raw("GET", "payments", params={"items_per_page": 50})
    on_account = next(int(p["payment_id"]) for p in payments["payments"]
                      if p["status"] == "A" and p.get("template", "").endswith("phone.tpl"))
    old = await asyncio.to_thread(addon_settings, console, {"on_account_payment_ids": str(on_account),
                                                             "credit_check": "Y", "direct_ship_payment_ids": ""})
    try:
        with Storefront(live_store.url, shots / "kakeritsu") as shop:
            shop.checkout_as(rated_email, PASSWORD, product_id, on_account)
            seen = shop.shot("checkout")
            summary = shop.text(".ty-checkout-summary")
            assert yen("1050") in summary and yen("1000") not in summary, f"no 掛率 price in the summary ({seen}):\n{summary}"

            # お届け希望日 / 時間帯: offered by the checkout:shipping_rates hook, from rules/shipping.yaml
            assert shop.exists("smile_delivery_date"), f"no お届け希望日 field ({seen})"
            dates = [day for day in shop.options("smile_delivery_date") if day]
            slots = shop.options("smile_delivery_slot")
            assert dates and date.fromisoformat(dates[0]) > date.today(), (dates, seen)
            assert "午前中" in slots, (slots, seen)
            # a date the rules do not offer is refused at 注文を確定する, in Japanese
            early = (date.fromisoformat(dates[0]) - timedelta(days=1)).isoformat()
            # (set without a change event: a recalculation would re-render the list without it)
            shop.driver.execute_script(
                "var s = document.getElementById('smile_delivery_date'); s.add(new Option(arguments[0], arguments[0]));"
                "s.value = arguments[0];", early)
            refused_at = shop.place_order()
            seen = shop.shot("delivery-date-refused")
            assert refused_at is None, f"order {refused_at} placed with an undeliverable date ({seen})"
            assert "お届け希望日が最短お届け日より前です" in shop.refusal, (shop.refusal, seen)

            shop.checkout()
            chosen = dates[min(2, len(dates) - 1)]
            shop.choose("smile_delivery_date", chosen)
            shop.choose("smile_delivery_slot", "午前中")
            shop.click("#smile_direct_ship_choice")  # 直送: the summary gets the surcharge line at once
            shop.type("smile_direct_ship_recipient", "株式会社エンドユーザー")
            seen = shop.shot("direct-ship")
            summary = shop.text(".ty-checkout-summary")
            assert "直送手数料" in summary and yen("105") in summary, f"no 直送 surcharge line ({seen}):\n{summary}"
            assert shop.options("smile_delivery_date") and \
                shop.driver.find_element("id", "smile_delivery_date").get_attribute("value") == chosen, seen
            shop.choose_payment(on_account)  # the reloaded page filled the payment's phone from the profile again
            total_shown = shop.text(".ty-checkout-summary__total-sum")
            order_id = shop.place_order()
            seen = shop.shot("placed")
            assert order_id, f"the order was not placed ({seen}): {shop.notifications()}"
        live._created.insert(0, ("orders", order_id))
        order = await live.order(order_id)
        assert [Decimal(str(item["price"])) for item in order["products"].values()] == [Decimal(1050)], order["products"]
        assert (order["smile_direct_ship"], order["smile_direct_ship_recipient"]) == ("Y", "株式会社エンドユーザー")
        assert Decimal(order["smile_direct_ship_surcharge"]) == 105, order["smile_direct_ship_surcharge"]
        assert (order["smile_delivery_date"], order["smile_delivery_slot"]) == (chosen, "午前中"), seen
        assert yen(str(order["total"])) in total_shown, (order["total"], total_shown, seen)  # charged as shown

        with Storefront(live_store.url, shots / "yoshin") as shop:
            shop.checkout_as(limited_email, PASSWORD, product_id, on_account)
            refused_at = shop.place_order()
            seen = shop.shot("credit-refused")
            assert refused_at is None, f"order {refused_at} placed over the credit limit ({seen})"
            message = shop.refusal
            assert "掛売ではご注文いただけません" in message and "与信残高（500円）" in message, (message, seen)
    finally:
        await asyncio.to_thread(addon_settings, console, old)
