"""Live (``-m live_cscart`` with BRIDGE_LIVE_CSCART_*): every promotion kind the bridge maps, on a real CS-Cart with
the smile_bridge add-on (contract.py; the same scenarios run on the simulator in test_campaigns_contract.py).

The test creates a customer, a customer usergroup and its orders, and removes them afterwards; its promotions
are left disabled (promotions are never deleted): each scenario's are switched off as it ends, passed or failed,
and all of them again at the end. Fresh campaign ids each run.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bridge import wiring
from bridge.config import Settings
from bridge.cscart.client import CSCartClient
from bridge.cscart.promotions import PromotionsClient
from bridge.dispatch import Dispatcher
from bridge.domain.time import utcnow
from bridge.store import Store, bindings, usergroups
from bridge.sync import JobContext, RunOptions
from bridge.sync.registry import campaigns_job
from tests.foundation.fakes import PinnedClock

from .conftest import ROOT, live_cscart_settings
from .contract import SCENARIOS, Shop

pytestmark = pytest.mark.live_cscart


async def switch_off(client: CSCartClient, campaign_ids: list[str]) -> None:
    """Every promotion these campaign ids wrote, disabled (ids never written answer 400: ignored)."""
    promotions = PromotionsClient(client)
    managed = (await promotions.listing()).promotions
    for campaign_id in campaign_ids:
        if campaign_id in managed and managed[campaign_id].status != "D":
            await promotions.put(campaign_id, {"status": "D"})


async def test_every_promotion_kind_on_the_real_store(tmp_path: Path, live_addon: None) -> None:
    cscart = live_cscart_settings()
    company_id = cscart.company_id
    run_id = uuid.uuid4().hex[:6]
    rules_dir = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules_dir)
    settings = Settings(data_dir=tmp_path / "data", rules_dir=rules_dir, cscart=cscart, log={"level": "WARNING"})
    store = await Store.open(settings.state_path)
    clock = PinnedClock(utcnow())
    wired: Any = None
    shop: Shop | None = None
    created_user = created_group = None
    used: list[str] = []
    restock: dict[int, int] = {}
    try:
        wired = await wiring.build(settings, store)
        client = wired.services.require_cscart()
        assert await client.addon_installed(), "the smile_bridge add-on must be installed on the live store"
        listing = await client.request("GET", "products", params={"status": "A", "items_per_page": 100})
        stocked = [p for p in listing["products"] if Decimal(str(p["price"])) >= 10 and int(p.get("amount") or 0) > 20
                   and p.get("category_ids") and p.get("product_code")]
        product, gift = stocked[0], stocked[1]
        for p in (product, gift):  # enough stock for every order; put back afterwards
            restock[int(p["product_id"])] = int(p["amount"])
            await client.request("PUT", f"products/{p['product_id']}", body={"amount": 500})
        users = await client.request("GET", "users", params={"user_type": "C", "items_per_page": 1})
        member = int(users["users"][0]["user_id"])
        other = await client.request("POST", "users", body={
            "email": f"contract-{run_id}@example.com", "user_type": "C", "status": "A", "company_id": company_id,
            "password": "Contract123", "firstname": "契約", "lastname": "試験"})
        created_user = int(other["user_id"])
        group = await client.request("POST", "usergroups", body={"usergroup": f"契約{run_id}", "status": "A",
                                                                  "type": "C"})
        created_group = int(group["usergroup_id"])
        await client.set_usergroup_link(member, created_group, "A")
        payments = await client.request("GET", "payments")
        payment_id = int(next(p for p in payments["payments"] if p["status"] == "A"
                              and "card" not in str(p["payment"]).lower())["payment_id"])
        shippings = await client.request("GET", "shippings")
        shipping_id = int(next(s for s in shippings["shippings"] if s["status"] == "A")["shipping_id"])
        async with store.transaction() as tx:
            for p in (product, gift):
                await bindings.bind(tx, "cscart", "product", str(p["product_id"]), "smile", "product",
                                    p["product_code"])
            await bindings.bind(tx, "cscart", "user", str(member), "smile", "customer", "MEMBER")
            await bindings.bind(tx, "cscart", "user", str(created_user), "smile", "customer", "OTHER")
        dispatcher = Dispatcher(store, wired.sinks, settings.dispatch, clock=clock)
        context = JobContext(settings=settings, store=store, clock=clock,
                             wake_dispatcher=dispatcher.wake, services=wired.services)
        job = campaigns_job(context)

        async def apply(text: str) -> None:
            (rules_dir / "campaigns.yaml").write_text(text, encoding="utf-8")
            reloaded = wired.services.rules.reload()
            assert not reloaded.problems, reloaded
            clock.at = utcnow()
            result = await job.run(RunOptions())
            assert result.failed == 0, result.notes
            await dispatcher.drain_all()

        shop = Shop(client=client, company_id=company_id, product_id=int(product["product_id"]),
                    product_code=str(product["product_code"]), price=Decimal(str(product["price"])),
                    category_id=int(product["category_ids"][0]), bonus_id=int(gift["product_id"]),
                    bonus_code=str(gift["product_code"]), user_id=member, other_user_id=created_user,
                    member_code="MEMBER", group=f"契約{run_id}", payment_id=payment_id, shipping_id=shipping_id, apply=apply)
        failures = []
        only = os.environ.get("BRIDGE_LIVE_CONTRACT_ONLY", "")
        for name, scenario in SCENARIOS.items():
            if only and name not in only.split(","):
                continue
            campaign_id = f"k{run_id}-{name.replace('_', '-')}"
            written = [campaign_id, f"{campaign_id}-a", f"{campaign_id}-b", f"{campaign_id}-c"]
            used += written
            try:
                await scenario(shop, campaign_id)
            except AssertionError as exc:
                failures.append(f"{name}: {exc}")
            finally:  # pass or fail, none of its promotions stays on for the next scenario or the next run
                await switch_off(client, written)
        if not only or "usergroup_target" in only:  # the job read the group's members from the store
            async with store.transaction() as tx:
                members = await usergroups.memberships(tx)
            assert usergroups.member_at(members, member, [f"契約{run_id}"], utcnow()), members.get(member)
            assert not usergroups.member_at(members, created_user, [f"契約{run_id}"], utcnow())
        # the shipped campaigns.yaml, its example campaign switched on unchanged: refused, not written
        shipped = (ROOT / "rules" / "campaigns.yaml").read_text(encoding="utf-8")
        missing = sorted({12, 13, 14} - await client.category_ids())
        if missing:
            (rules_dir / "campaigns.yaml").write_text(
                shipped.replace("enabled: false            # 見本", "enabled: true  # 見本", 1), encoding="utf-8")
            wired.services.rules.reload()
            refused = await job.run(RunOptions())
            await dispatcher.drain_all()
            assert refused.failed == 1, refused.notes  # (the last scenario's campaign is switched off meanwhile)
            assert any(f"no category {', '.join(map(str, missing))}" in n or f"no category {missing[0]}" in n
                       for n in refused.notes), refused.notes
            assert "spring-bulk-2027" not in (await PromotionsClient(client).listing()).promotions
        for seen in shop.seen:
            print(json.dumps(seen, ensure_ascii=False, default=str))
        assert not failures, "\n".join(failures)
    finally:
        if wired is not None:
            client = wired.services.cscart
            if client is not None:
                for order_id in shop.orders if shop else []:
                    with contextlib.suppress(Exception):
                        await client.request("DELETE", f"orders/{order_id}")
                with contextlib.suppress(Exception):
                    await switch_off(client, used)
                for product_id, amount in restock.items():
                    with contextlib.suppress(Exception):
                        await client.request("PUT", f"products/{product_id}", body={"amount": amount})
                if created_user:
                    with contextlib.suppress(Exception):
                        await client.request("DELETE", f"users/{created_user}")
                if created_group:
                    with contextlib.suppress(Exception):
                        await client.request("DELETE", f"usergroups/{created_group}")
            await wired.aclose()
        await store.close()
