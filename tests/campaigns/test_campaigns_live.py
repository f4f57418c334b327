"""Live (``-m live_cscart`` with BRIDGE_LIVE_CSCART_*): a campaign from campaigns.yaml becomes a promotion on a real
CS-Cart with the smile_bridge add-on, an order placed in a real browser gets its discount, the campaign ends and the
next order does not.

Both orders are placed in the storefront in headless Chromium (tests/live/storefront.py: Debian's chromium and
chromium-driver): log in, the product page's カートに入れる with 2 pieces, the checkout, a payment method,
注文を確定する. The discount is checked where the customer sees it (the checkout's summary: the discount line and the
total) and where it is charged (the placed order, read back over REST). Screenshots of each step go to a folder named
in the output and in every assertion message.

The customer is ``BRIDGE_LIVE_CSCART_CUSTOMER=email:password`` (a storefront customer whose profile phone, if any,
the store's phone mask accepts: the demo store's ``customer@example.com`` has +77777777777, which makes the phone
ordering's phone field a +7 one that refuses the number typed); without it the test creates one over REST (a
Japanese address, no phone) and deletes it at the end. The test deletes its orders and leaves its promotion disabled
(promotions are never deleted); it uses a fresh campaign id each run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bridge import wiring
from bridge.config import Settings
from bridge.cscart.promotions import PromotionsClient
from bridge.dispatch import Dispatcher
from bridge.domain.time import JST, utcnow
from bridge.store import Store, bindings
from bridge.sync import JobContext, RunOptions
from bridge.sync.registry import campaigns_job
from tests.foundation.fakes import PinnedClock
from tests.live.storefront import Storefront

from .conftest import ROOT, live_cscart_settings

pytestmark = pytest.mark.live_cscart

PIECES = 2
PASSWORD = "Live-Pass-2026"


@dataclass(frozen=True)
class Checkout:
    """One order placed in the browser, and what its checkout page showed before 注文を確定する (the summary's
    products line, its 割引金額 line (empty without one), the promotions listed as applied, the total)."""

    order_id: int
    items: str
    discount: str
    promotions: str
    total: str
    seen: Path


def money(amount: Decimal) -> str:
    """6 → "6.00", 1050 → "1,050.00", as the demo storefront prints amounts."""
    return f"{amount:,.2f}"


def lines(order: dict[str, Any]) -> list[tuple[Decimal, int]]:
    """The placed order's (price charged per piece, pieces)."""
    return [(Decimal(str(item["price"])), int(item["amount"])) for item in order["products"].values()]


def browser_order(url: str, shots: Path, email: str, password: str, product_id: int, payment_id: int) -> Checkout:
    """Log in, add ``PIECES`` of the product, go through the checkout and place the order, in headless Chromium."""
    with Storefront(url, shots) as shop:
        shop.checkout_as(email, password, product_id, payment_id, PIECES)
        seen = shop.shot("checkout")
        shown = Checkout(
            0, shop.text("[data-ct-checkout-summary=items]"),
            # the products' discount (CS-Cart's "including_discount" row; the order discount row carries a data-ct)
            shop.text(".ty-checkout-summary__order_discount .discount-price:not([data-ct-checkout-summary])"),
            shop.text(".ty-discount-info"), shop.text(".ty-checkout-summary__total-sum"), seen)
        order_id = shop.place_order()
        placed = shop.shot("placed")
        assert order_id, f"the order was not placed ({placed}): {shop.refusal or shop.problems()}"
        return replace(shown, order_id=order_id)


async def test_a_campaign_goes_live_discounts_an_order_and_ends_by_itself(tmp_path: Path,
                                                                         live_addon: None) -> None:
    cscart = live_cscart_settings()
    company_id = cscart.company_id
    campaign_id = f"live-{uuid.uuid4().hex[:8]}"
    shots = Path(tempfile.mkdtemp(prefix=f"bridge-campaign-{campaign_id}-"))
    print(f"screenshots: {shots}")
    now = utcnow().replace(second=0, microsecond=0)
    start, end = (now - timedelta(hours=1)).astimezone(JST), (now + timedelta(hours=1)).astimezone(JST)
    rules_dir = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules_dir)
    settings = Settings(data_dir=tmp_path / "data", rules_dir=rules_dir, cscart=cscart, log={"level": "WARNING"})
    store = await Store.open(settings.state_path)
    clock = PinnedClock(now)
    orders: list[int] = []
    created_user: int | None = None
    wired: Any = None
    try:
        wired = await wiring.build(settings, store)
        client = wired.services.require_cscart()
        assert await client.addon_installed(), "the smile_bridge add-on must be installed on the live store"
        listing = await client.request("GET", "products", params={"status": "A", "items_per_page": 50})
        product = next(p for p in listing["products"] if Decimal(str(p["price"])) > 0 and int(p.get("amount") or 0) > 5
                       and p.get("category_ids"))
        product_id = int(product["product_id"])
        category = int(product["category_ids"][0])
        payments = await client.request("GET", "payments")
        payment_id = int(next(p for p in payments["payments"] if p["status"] == "A"
                              and "card" not in str(p["payment"]).lower())["payment_id"])

        customer = os.environ.get("BRIDGE_LIVE_CSCART_CUSTOMER", "")
        if customer:
            email, _, password = customer.partition(":")
        else:  # a customer of our own, with a storefront password (password1/password2: hashed) and an address;
            # no phone: the demo storefront's phone check (US mask) refuses a Japanese number at checkout
            email, password = f"campaign-{campaign_id}@example.jp", PASSWORD
            address = {"country": "JP", "state": "13", "city": "千代田区", "address": "丸の内1-1-1", "zipcode": "1000005"}
            profile = {prefix + key: value for prefix in ("b_", "s_") for key, value in address.items()}
            created = await client.request("POST", "users", body={
                "email": email, "user_type": "C", "company_id": company_id, "status": "A", "firstname": "試験",
                "lastname": "キャンペーン", "password1": password, "password2": password, **profile})
            created_user = int(created["user_id"])
            # a POST leaves the new profile's shipping address empty on 4.20.1
            await client.request("PUT", f"users/{created_user}", body={"company_id": company_id, **profile})

        (rules_dir / "campaigns.yaml").write_text(f"""\
version: 1
categories: {{"LIVE": [{category}]}}
campaigns:
  - id: {campaign_id}
    name: ライブ試験 {campaign_id}
    period: {{start: "{start:%Y-%m-%d %H:%M}", end: "{end:%Y-%m-%d %H:%M}"}}
    target: {{categories: [LIVE]}}
    benefits: [{{type: discount, percent: 10}}]
""", encoding="utf-8")
        wired.services.rules.reload()
        async with store.transaction() as tx:
            await bindings.bind(tx, "cscart", "product", str(product_id), "smile", "product", product["product_code"])
        dispatcher = Dispatcher(store, wired.sinks, settings.dispatch, clock=clock)
        context = JobContext(settings=settings, store=store, clock=clock,
                             wake_dispatcher=dispatcher.wake, services=wired.services)
        job = campaigns_job(context)

        async def run() -> None:
            result = await job.run(RunOptions())
            assert result.failed == 0, result.notes
            await dispatcher.drain_all()

        async def order(step: str) -> tuple[Checkout, dict[str, Any]]:
            placed = await asyncio.to_thread(browser_order, cscart.url, shots / step, email, password, product_id,
                                             payment_id)
            orders.append(placed.order_id)
            return placed, dict(await client.request("GET", f"orders/{placed.order_id}"))

        price = Decimal(str(product["price"]))
        discount = (price / 10).quantize(Decimal("0.01")) * PIECES
        promotions = PromotionsClient(client)
        await run()
        managed = (await promotions.listing()).promotions[campaign_id]
        assert managed.status == "A" and not managed.edited

        name = f"ライブ試験 {campaign_id}"
        during, live = await order("during")
        seen = during.seen
        assert money(discount) in during.discount, f"no discount of {money(discount)} at checkout ({seen}): " \
                                                   f"{during.discount!r}"
        assert money(price * PIECES - discount) in during.items, (during.items, seen)
        assert name in during.promotions, f"{name} not listed as applied at checkout ({seen}): {during.promotions!r}"
        assert str(managed.promotion_id) in str(live["promotion_ids"]).split(","), (live["promotion_ids"], seen)
        assert Decimal(str(live["discount"])) == discount, f"order {during.order_id} ({seen}): {live['discount']}"
        assert lines(live) == [(price - discount / PIECES, PIECES)], f"order {during.order_id} ({seen}): {lines(live)}"
        assert money(Decimal(str(live["total"]))) in during.total, \
            f"order {during.order_id} charged {live['total']}, the checkout showed {during.total} ({seen})"

        clock.at = end.astimezone(now.tzinfo) + timedelta(seconds=1)  # the campaign's end minute has passed
        await run()
        assert (await promotions.listing()).promotions[campaign_id].status == "D"
        after, full = await order("after")
        seen = after.seen
        assert not after.discount, f"a discount at checkout after the campaign's end ({seen}): {after.discount!r}"
        assert money(price * PIECES) in after.items, (after.items, seen)
        assert name not in after.promotions, f"{name} still applied at checkout ({seen}): {after.promotions!r}"
        assert str(managed.promotion_id) not in str(full["promotion_ids"]).split(","), (full["promotion_ids"], seen)
        assert Decimal(str(full["discount"] or 0)) == 0, f"order {after.order_id} ({seen}): {full['discount']}"
        assert lines(full) == [(price, PIECES)], f"order {after.order_id} ({seen}): {lines(full)}"
        assert money(Decimal(str(full["total"]))) in after.total, \
            f"order {after.order_id} charged {full['total']}, the checkout showed {after.total} ({seen})"
    finally:
        if wired is not None:
            client = wired.services.cscart
            if client is not None:
                for order_id in orders:
                    await client.request("DELETE", f"orders/{order_id}")
                if created_user is not None:
                    await client.request("DELETE", f"users/{created_user}")
                with contextlib.suppress(Exception):  # never created (the test failed before): nothing to switch off
                    await PromotionsClient(client).put(campaign_id, {"status": "D"})
            await wired.aclose()
        await store.close()
