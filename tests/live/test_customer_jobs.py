"""The customers, customer_prices and drift jobs once each against a real store, as ``bridge sync JOB`` runs them
with the shipped rules and a config from ops/config.example.yaml; what landed is read back from CS-Cart (REST, and
the add-on's customer price table through the store's console) and from the bridge's folders."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path

from bridge.cscart.addon_installer import StoreConsole
from bridge.domain.catalog import CustomerPrice
from bridge.domain.customers import Address, Customer
from bridge.domain.money import Rounding
from tests.cscart.backends import LiveBackend
from tests.live.conftest import LiveStore
from tests.live.kit import create_customer, deliver, first_category, live_settings, ok, run
from tests.live.order_kit import world

PRICE_ROWS = ("define('AREA', 'A'); define('ACCOUNT_TYPE', 'admin'); require getcwd() . '/init.php';"
              "echo '@@', json_encode(db_get_array('SELECT user_id, product_id, min_quantity, price FROM "
              "?:smile_bridge_customer_prices WHERE user_id IN (?n) ORDER BY user_id, product_id, min_quantity', "
              "explode(',', $argv[1]))), '@@';")


def price_rows(console: StoreConsole, user_ids: list[int]) -> list[dict]:
    _, output = console.run(["php", "-r", PRICE_ROWS, "--", ",".join(map(str, user_ids))])
    assert "@@" in output, output
    return list(json.loads(output.split("@@")[1]))


async def test_customers_customer_prices_and_drift_jobs(live_store: LiveStore, live: LiveBackend,
                                                        tmp_path: Path) -> None:
    console = StoreConsole(live_store.require_root(), web_user=live_store.web_user)
    settings = live_settings(live_store, tmp_path, await first_category(live), smile={"stable_seconds": 0})
    w = await world(live, settings, tmp_path)  # products, stock and customers jobs: one bound product, one customer

    # customers: a second customer, ranked and rated, and the first one now 休止
    ranked_email = f"rank-{live.tag}@example.jp"
    ranked_id = await create_customer(live, ranked_email, lastname="ランク")
    address = Address(postcode="1000005", prefecture="東京都", city="千代田区", street="丸の内1-1-1",
                      phone="03-1234-5678")
    ranked = Customer(code=f"{int(w.customer_code) + 1:06d}", name=f"ランク商会{live.tag}", email=ranked_email,
                      address=address, price_rank=2, rate_percent=Decimal("85.5"), price_rounding=Rounding.UP,
                      price_rounding_unit=Decimal(10), credit_limit=Decimal(300_000), receivable=Decimal(12_345))
    first = Customer(code=w.customer_code, name=f"ライフ商事{live.tag}", email=w.email, address=address,
                     credit_limit=Decimal(1_000_000), suspended=True)
    deliver(settings, "customers", [first, ranked], 21)
    ok(await run(settings, "customers"))
    _, row = await live.raw("GET", f"users/{ranked_id}")
    assert (row["status"], row["smile_customer_code"], Decimal(row["smile_price_rate"]), row["smile_price_rounding"],
            Decimal(row["smile_price_unit"]), row["smile_price_rate_base"]) == (
        "A", ranked.code, Decimal("85.5"), "up", Decimal(10), "list_price"), row  # pricing.yaml rate_base
    assert Decimal(row["smile_credit_limit"]) == 300_000 and row["company"] == ranked.name, row
    assert Decimal(row["smile_credit_exposure"]) == Decimal(12_345), row  # SMILE's 売掛残, nothing exported yet
    groups = await live.client.usergroups()
    rank2 = next(g.usergroup_id for g in groups.values() if g.name == "ランク2")  # pricing.yaml, created when missing
    links = await live.client.user_usergroups(ranked_id)
    assert [(link.usergroup_id, link.status) for link in links if link.usergroup_id == rank2] == [(rank2, "A")]
    _, suspended = await live.raw("GET", f"users/{w.user_id}")
    assert suspended["status"] == "D", suspended  # customers.yaml disable_when_suspended
    assert list((settings.data_dir / "smile" / "archive").rglob("customers_021.txt"))

    # customer_prices: 得意先別単価 and a 数量別単価 tier for the ranked customer, one row for an unknown product
    prices = [CustomerPrice(ranked.code, w.product_code, Decimal(1800)),
              CustomerPrice(ranked.code, w.product_code, Decimal(1650), min_quantity=Decimal(12)),
              CustomerPrice(ranked.code, "NO-SUCH-PRODUCT", Decimal(1))]
    deliver(settings, "customer_prices", prices, 22)
    result = await run(settings, "customer_prices")
    assert result.failed == 1 and any(f"{ranked.code}/NO-SUCH-PRODUCT" in note for note in result.notes), result
    rows = await asyncio.to_thread(price_rows, console, [ranked_id])
    assert [(int(r["product_id"]), int(r["min_quantity"]), Decimal(r["price"])) for r in rows] == [
        (w.product_id, 1, Decimal(1800)), (w.product_id, 12, Decimal(1650))], rows
    deliver(settings, "customer_prices", prices[:1], 23)  # the tier is gone from SMILE: gone from the store too
    await run(settings, "customer_prices")
    rows = await asyncio.to_thread(price_rows, console, [ranked_id])
    assert [(int(r["min_quantity"]), Decimal(r["price"])) for r in rows] == [(1, Decimal(1800))], rows

    # drift: an amount changed by hand in CS-Cart goes back to what the stock job wrote
    before = await live.amount(w.product_id)
    status, body = await live.raw("PUT", f"products/{w.product_id}", json_body={"amount": before + 77})
    assert status == 200, body
    result = await run(settings, "drift")
    assert result.failed == 0 and result.changed == 1, result
    assert await live.amount(w.product_id) == before
    result = await run(settings, "drift")
    assert result.changed == 0, result  # nothing left to put back
