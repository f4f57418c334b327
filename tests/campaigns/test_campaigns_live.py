"""Live (``-m live_cscart`` with BRIDGE_LIVE_CSCART_*): a campaign from campaigns.yaml becomes a promotion on a real
CS-Cart with the smile_bridge add-on, an order gets its discount, the campaign ends and the next order does not.

With ``BRIDGE_LIVE_CSCART_CUSTOMER=email:password`` (a storefront customer) the orders are placed in the storefront
as a browser does (log in, add to cart, the checkout page's form: storefront.py); without it through
``POST /stores/:id/orders`` (the same cart calculation, promotions included). The test deletes its orders and
leaves its promotion disabled (promotions are never deleted); it uses a fresh campaign id each run.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import uuid
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

from .conftest import ROOT, live_cscart_settings
from .storefront import Shopper

pytestmark = pytest.mark.live_cscart


async def test_a_campaign_goes_live_discounts_an_order_and_ends_by_itself(tmp_path: Path) -> None:
    cscart = live_cscart_settings()
    company_id = cscart.company_id
    campaign_id = f"live-{uuid.uuid4().hex[:8]}"
    now = utcnow().replace(second=0, microsecond=0)
    start, end = (now - timedelta(hours=1)).astimezone(JST), (now + timedelta(hours=1)).astimezone(JST)
    rules_dir = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules_dir)
    settings = Settings(data_dir=tmp_path / "data", rules_dir=rules_dir, cscart=cscart, log={"level": "WARNING"})
    store = await Store.open(settings.state_path)
    clock = PinnedClock(now)
    orders: list[int] = []
    wired: Any = None
    try:
        wired = await wiring.build(settings, store)
        client = wired.services.require_cscart()
        assert await client.addon_installed(), "the smile_bridge add-on must be installed on the live store"
        listing = await client.request("GET", "products", params={"status": "A", "items_per_page": 50})
        product = next(p for p in listing["products"] if Decimal(str(p["price"])) > 0 and int(p.get("amount") or 0) > 5
                       and p.get("category_ids"))
        category = int(product["category_ids"][0])
        users = await client.request("GET", "users", params={"user_type": "C", "items_per_page": 1})
        user_id = int(users["users"][0]["user_id"])
        payments = await client.request("GET", "payments")
        payment_id = int(next(p for p in payments["payments"] if p["status"] == "A"
                              and "card" not in str(p["payment"]).lower())["payment_id"])
        shippings = await client.request("GET", "shippings")
        shipping_id = int(next(s for s in shippings["shippings"] if s["status"] == "A")["shipping_id"])
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
            await bindings.bind(tx, "cscart", "product", str(product["product_id"]), "smile", "product",
                                product["product_code"])
        dispatcher = Dispatcher(store, wired.sinks, settings.dispatch, clock=clock)
        context = JobContext(settings=settings, store=store, clock=clock,
                             wake_dispatcher=dispatcher.wake, services=wired.services)
        job = campaigns_job(context)

        async def run() -> None:
            result = await job.run(RunOptions())
            assert result.failed == 0, result.notes
            await dispatcher.drain_all()

        customer = os.environ.get("BRIDGE_LIVE_CSCART_CUSTOMER", "")

        async def order() -> dict[str, Any]:
            if customer:  # in the storefront, as a browser
                email, _, password = customer.partition(":")
                shopper = Shopper(cscart.url)
                try:
                    await shopper.log_in(email, password)
                    await shopper.empty_cart()
                    await shopper.add_to_cart(int(product["product_id"]), 2)
                    page = await shopper.place_order(payment_id)
                finally:
                    await shopper.close()
                placed = re.search(r"order_id=(\d+)", page)
                assert placed, "the checkout did not place an order"
                order_id = int(placed.group(1))
            else:
                created = await client.request("POST", f"stores/{company_id}/orders", body={
                    "user_id": user_id, "payment_id": payment_id, "shipping_id": shipping_id,
                    "products": {str(product["product_id"]): {"product_id": product["product_id"], "amount": 2}}})
                order_id = int(created["order_id"])
            orders.append(order_id)
            return dict(await client.request("GET", f"orders/{order_id}"))

        promotions = PromotionsClient(client)
        await run()
        managed = (await promotions.listing()).promotions[campaign_id]
        assert managed.status == "A" and not managed.edited
        live = await order()
        assert str(managed.promotion_id) in str(live["promotion_ids"]).split(",")
        price = Decimal(str(product["price"]))
        assert Decimal(str(live["discount"])) == (price / 10).quantize(Decimal("0.01")) * 2

        clock.at = end.astimezone(now.tzinfo) + timedelta(seconds=1)  # the campaign's end minute has passed
        await run()
        assert (await promotions.listing()).promotions[campaign_id].status == "D"
        after = await order()
        assert str(managed.promotion_id) not in str(after["promotion_ids"]).split(",")
        assert Decimal(str(after["discount"] or 0)) == 0
    finally:
        if wired is not None:
            client = wired.services.cscart
            if client is not None:
                for order_id in orders:
                    await client.request("DELETE", f"orders/{order_id}")
                with contextlib.suppress(Exception):  # never created (the test failed before): nothing to switch off
                    await PromotionsClient(client).put(campaign_id, {"status": "D"})
            await wired.aclose()
        await store.close()
