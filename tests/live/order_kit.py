"""Setting up an order's world on a real store through the daemon's own jobs: a product from a SMILE 商品 file with
its 在庫, a customer bound from a 得意先 file (matched by e-mail), a 掛売 payment method named as the shipped
rules/order_flow.yaml expects, and the rules folder (shipped rules, with notification.mode immediate where a test
cannot wait for 12:00 / 17:00 JST)."""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from bridge.config import Settings
from bridge.domain.catalog import StockLevel
from bridge.domain.customers import Address, Customer
from bridge.smile.generator import generate
from tests.cscart.backends import LiveBackend
from tests.live.kit import ROOT, create_customer, deliver, ok, run

TRACKING = "389711074012"  # passes Yamato's 7DR check (carriers.md §5)
SHIPPED_NOTIFICATION = 'notification:\n  mode: times\n  times: ["12:00", "17:00"]'


SHIPPED_LABEL_SCHEDULE = 'schedule:\n      times: ["10:00", "15:00"]'


def rules_with_immediate_mail(folder: Path, *, labels_every_minute: bool = False) -> Path:
    """The shipped rules; only shipping.yaml's times of day change, which a test cannot wait for: the notification
    goes out at once instead of at 12:00 / 17:00 JST, and with ``labels_every_minute`` the label files are made every
    minute instead of at 10:00 / 15:00 JST (a daemon's first shipping run may come before the order's 出荷指示)."""
    shutil.copytree(ROOT / "rules", folder)
    shipping = folder / "shipping.yaml"
    text = shipping.read_text(encoding="utf-8")
    assert SHIPPED_NOTIFICATION in text, "rules/shipping.yaml changed its notification block; update this test"
    text = text.replace(SHIPPED_NOTIFICATION, "notification:\n  mode: immediate")
    if labels_every_minute:
        assert SHIPPED_LABEL_SCHEDULE in text, "rules/shipping.yaml changed its label schedules; update this test"
        text = text.replace(SHIPPED_LABEL_SCHEDULE, "schedule:\n      every_minutes: 1")
    shipping.write_text(text, encoding="utf-8")
    return folder


@dataclass
class World:
    product_id: int
    product_code: str
    user_id: int
    customer_code: str
    email: str
    payment_id: int


async def on_account_payment(live: LiveBackend) -> int:
    """A payment method named 掛売 (order_flow.yaml payment_methods: on_account), removed with the backend."""
    status, body = await live.raw("POST", "payments", json_body={
        "payment": "掛売", "status": "A", "company_id": live.company_id,
        "template": "views/orders/components/payments/cc_outside.tpl"})
    assert status == 201, body
    payment_id = int(body["payment_id"])
    live._created.append(("payments", payment_id))
    return payment_id


ON_HAND = 500  # the order kit's own product's stock: far above what its orders take (PIECES each)
PIECES = 2


async def world(live: LiveBackend, settings: Settings, tmp_path: Path) -> World:
    """One product and one customer, created and bound by the products, stock and customers jobs.

    The product is this test's own and fully pinned, so neither the generator's random draw nor another test's or an
    earlier run's stock writes can starve its order: stock-managed, 入数 1 (no min_qty / qty_step: with the drawn 入数
    50 the pieces ordered became 50, over the stock), displayed, no validity window or price change, and ``ON_HAND``
    pieces delivered by the stock job, read back before the order is placed."""
    made = generate(tmp_path / "smile_export", products=1, customers=1, seed=random.randrange(10_000))
    code = f"W{live.tag[:6].upper()}{made.products[0].code}"[:20]
    product = made.products[0]._replace(
        code=code, name=f"ライフ試験品 {live.tag}", standard_price=Decimal(2000), case_quantity=Decimal(1),
        stock_managed=True, displayed=True, valid_from=None, valid_to=None, new_price_date=None,
        new_standard_price=None, new_rank_prices=(None,) * 5, new_list_price=None)
    stock = StockLevel(product_code=code, warehouse_code="000001", on_hand=Decimal(ON_HAND), allocated=Decimal(0))
    email = f"life-{live.tag}@example.jp"
    user_id = await create_customer(live, email, lastname="ライフ")
    customer = Customer(code=f"{600_000 + int(live.tag[:5], 16) % 90_000:06d}", name=f"ライフ商事{live.tag}",
                        email=email, credit_limit=Decimal(1_000_000),
                        address=Address(postcode="1000005", prefecture="東京都", city="千代田区", street="丸の内1-1-1",
                                        phone="03-1234-5678"))
    deliver(settings, "products", [product], 11)
    ok(await run(settings, "products"))
    deliver(settings, "stock", [stock], 12)
    ok(await run(settings, "stock"))
    deliver(settings, "customers", [customer], 13)
    ok(await run(settings, "customers"))
    _, found = await live.raw("GET", "products", params={"pcode": code, "items_per_page": 10})
    [row] = [row for row in found["products"] if row["product_code"] == code]
    product_id = int(row["product_id"])
    live._created.append(("products", product_id))
    _, stored = await live.raw("GET", f"products/{product_id}")
    pinned = (int(stored["amount"]), int(stored.get("min_qty") or 0), int(stored.get("qty_step") or 0))
    assert pinned == (ON_HAND, 0, 0), f"product {product_id} ({code}): (amount, min_qty, qty_step) = {pinned}, " \
                                      f"expected ({ON_HAND}, 0, 0) from the products and stock jobs"
    return World(product_id, code, user_id, customer.code, email, await on_account_payment(live))


async def place(live: LiveBackend, w: World, amount: int = PIECES, shipping_id: int = 1) -> int:
    """An order as the storefront makes it, over REST: the bound customer, 掛売, shipping method 1 (yamato)."""
    status, body = await live.raw("POST", f"stores/{live.company_id}/orders", json_body={
        "user_id": w.user_id, "payment_id": w.payment_id, "shipping_id": shipping_id,
        "products": {str(w.product_id): {"product_id": w.product_id, "amount": amount}},
        "user_data": {"email": w.email, **{prefix + key: value for prefix in ("b_", "s_") for key, value in {
            "firstname": "太郎", "lastname": "ライフ", "country": "JP", "state": "13", "city": "千代田区",
            "address": "丸の内1-1-1", "zipcode": "1000005", "phone": "03-1234-5678"}.items()}}})
    assert status == 201, body
    order_id = int(body["order_id"])
    live._created.insert(0, ("orders", order_id))
    return order_id


def files_naming(folder: Path, needle: str, encodings: tuple[str, ...] = ("cp932", "utf-8")) -> list[Path]:
    """Files under ``folder`` whose text contains ``needle``."""
    found = []
    for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
        if not path.is_file() or path.name.endswith((".done", ".tmp")):
            continue
        data = path.read_bytes()
        for encoding in encodings:
            try:
                if needle in data.decode(encoding):
                    found.append(path)
                    break
            except UnicodeDecodeError:
                continue
    return found


async def status_of(live: LiveBackend, order_id: int) -> str:
    return str((await live.order(order_id))["status"])


def letters(report_params: dict[str, Any]) -> dict[str, str]:
    return {key.removeprefix("status."): value for key, value in report_params.items() if key.startswith("status.")}
