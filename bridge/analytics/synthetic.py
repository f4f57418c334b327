"""A seeded synthetic shop history for tests and ``bench/analytics.py``, written through the jobs' own paths:
orders go into the state store's orders mirror with ``bridge.store.orders.insert_many`` (as the orders job writes
them), state changes and shipments into the tables the orders and shipping jobs write, then the analytics store is
fed with ``feed.orders_from_state`` and the SMILE snapshots with ``feed.stock/products/customers`` — exactly what
the job hooks call.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bridge.analytics import feed
from bridge.analytics.regions import REGION_OF
from bridge.analytics.store import AnalyticsStore
from bridge.domain.catalog import Product, StockLevel
from bridge.domain.customers import Address, Customer
from bridge.domain.orders import Order, OrderLine, PaymentState, WorkflowState
from bridge.domain.time import JST, UTC, iso
from bridge.store import orders as mirror
from bridge.store.db import Store

PREFECTURES = tuple(REGION_OF)
PAYMENTS = (("掛売", PaymentState.ON_ACCOUNT), ("銀行振込", PaymentState.PAID), ("クレジットカード", PaymentState.AUTHORISED),
            ("代金引換", PaymentState.COD))
CARRIERS = ("yamato", "sagawa", "japanpost")


@dataclass(slots=True)
class Seeded:
    products: list[Product] = field(default_factory=list)
    customers: list[Customer] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    payment: dict[int, PaymentState] = field(default_factory=dict)
    cancelled: set[int] = field(default_factory=set)
    shipped_at: dict[int, datetime] = field(default_factory=dict)
    completed_at: dict[int, datetime] = field(default_factory=dict)
    carrier: dict[int, str] = field(default_factory=dict)
    stock: dict[date, list[StockLevel]] = field(default_factory=dict)  # snapshots fed, by day
    returns: list[feed.ReturnedItem] = field(default_factory=list)


def _products(rng: random.Random, count: int) -> list[Product]:
    out = []
    for n in range(count):
        price = Decimal(rng.randrange(10, 500) * 10)
        cost = (price * Decimal(rng.choice(("0.5", "0.6", "0.7")))).quantize(Decimal(1))
        out.append(Product(code=f"{20000000 + n}", name=f"商品{n:05d}", category_code=f"C{n % 7:02d}",
                           maker_name="山田製作所", standard_price=price, cost_price=cost, case_quantity=Decimal(12)))
    return out


def _customers(rng: random.Random, count: int) -> list[Customer]:
    out = []
    for n in range(count):
        pref = rng.choice(PREFECTURES)
        rank = rng.choice((None, 1, 2, 3))
        out.append(Customer(code=f"{100000 + n}", name=f"得意先{n:04d}株式会社",
                            address=Address(prefecture=pref, city="市"), price_rank=rank,
                            credit_limit=Decimal(1_000_000)))
    return out


def build_orders(rng: random.Random, products: list[Product], customers: list[Customer], count: int,
                 start: date, end: date, lines_per_order: int = 10, first_id: int = 1) -> Seeded:
    """Orders spread over [start, end] (JST), Zipf-ish product popularity, a weekly and yearly rhythm."""
    seeded = Seeded(products=products, customers=customers)
    span = (end - start).days + 1
    weights = [1 / (i + 1) ** 0.8 for i in range(len(products))]
    cumulative: list[float] = []
    acc = 0.0
    for w in weights:
        acc += w
        cumulative.append(acc)
    pick = _picker(rng, products, cumulative)
    customer_weights = [rng.uniform(0.2, 3) for _ in customers]
    for n in range(count):
        order_id = first_id + n
        day = start + timedelta(days=int(rng.random() * span))
        local = datetime(day.year, day.month, day.day, tzinfo=JST) + timedelta(seconds=rng.randrange(86400))
        customer = rng.choices(customers, customer_weights)[0]
        method, payment = rng.choice(PAYMENTS)
        lines = []
        for number in range(rng.randint(1, 2 * lines_per_order - 1)):  # mean lines_per_order
            product = pick()
            quantity = Decimal(rng.randrange(1, 13))
            price = product.standard_price or Decimal(100)
            lines.append(OrderLine(product.code, product.name, quantity, price, item_id=str(number)))
        subtotal = sum((line.quantity * line.unit_price for line in lines), Decimal(0))
        shipping_pref = customer.address.prefecture if rng.random() < 0.8 else rng.choice(PREFECTURES)
        requested = day + timedelta(days=rng.randrange(2, 8)) if rng.random() < 0.5 else None
        order = Order(order_id=order_id, status="O", placed_at=local.astimezone(UTC), updated_at=local.astimezone(UTC),
                      user_id=1000 + int(customer.code) - 100000, email=f"c{customer.code}@example.jp",
                      total=subtotal + 800, subtotal=subtotal, shipping_cost=Decimal(800), payment_method=method,
                      lines=tuple(lines), billing=customer.address,
                      shipping=Address(prefecture=shipping_pref, city="市"), customer_code=customer.code,
                      direct_ship=shipping_pref != customer.address.prefecture, delivery_date=requested)
        seeded.orders.append(order)
        seeded.payment[order_id] = payment
        if rng.random() < 0.04:
            seeded.cancelled.add(order_id)
            continue
        shipped = local + timedelta(hours=rng.uniform(4, 96))
        seeded.shipped_at[order_id] = shipped.astimezone(UTC)
        seeded.carrier[order_id] = rng.choice(CARRIERS)
        seeded.completed_at[order_id] = (shipped + timedelta(hours=rng.uniform(1, 30))).astimezone(UTC)
    return seeded


def _picker(rng: random.Random, products: list[Product], cumulative: list[float]) -> Callable[[], Product]:
    import bisect

    total = cumulative[-1]

    def pick() -> Product:
        return products[min(bisect.bisect_left(cumulative, rng.random() * total), len(products) - 1)]
    return pick


async def write_state(store: Store, seeded: Seeded, now: datetime | None = None) -> None:
    """Into the orders mirror as the jobs write it: insert_many, then the state changes and parcels."""
    batch = 5000
    for start in range(0, len(seeded.orders), batch):
        chunk = seeded.orders[start:start + batch]
        async with store.transaction() as tx:
            await mirror.insert_many(tx, [(o, WorkflowState.RECEIVED, seeded.payment[o.order_id]) for o in chunk])
            transitions, parcels, states = [], [], []
            for order in chunk:
                oid = order.order_id
                if oid in seeded.cancelled:
                    at = iso(order.placed_at + timedelta(hours=2))
                    transitions.append((oid, "received", "cancelled", "cancelled in CS-Cart", at))
                    states.append(("cancelled", at, oid))
                    continue
                shipped, done = seeded.shipped_at[oid], seeded.completed_at[oid]
                transitions += [
                    (oid, "received", "shipping_instructed", "released", iso(order.placed_at + timedelta(hours=1))),
                    (oid, "shipping_instructed", "shipped", "result file", iso(shipped)),
                    (oid, "shipped", "notified", "mail sent", iso(shipped + timedelta(minutes=5))),
                    (oid, "notified", "complete", "complete", iso(done))]
                parcels.append((oid, seeded.carrier[oid], f"{4000_0000_0000 + oid}", iso(shipped), "{}",
                                "seed:1", iso(shipped)))
                states.append(("complete", iso(done), oid))
            await tx.executemany("INSERT INTO order_transitions (order_id, from_state, to_state, reason, at) "
                                 "VALUES (?, ?, ?, ?, ?)", transitions)
            await tx.executemany("INSERT INTO carrier_shipments (order_id, carrier, tracking_number, shipped_at, "
                                 "items, source, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?)", parcels)
            await tx.executemany("UPDATE orders SET workflow_state = ?, updated_at = ? WHERE order_id = ?", states)


def stock_history(rng: random.Random, products: list[Product], start: date, end: date,
                  change_share: float = 0.1, warehouses: int = 1,
                  every: int = 1) -> dict[date, list[StockLevel]]:
    """Daily snapshots: each day a share of the SKUs changes (sales, arrivals, some run out)."""
    return dict(stock_snapshots(rng, products, start, end, change_share, warehouses, every))


def stock_snapshots(rng: random.Random, products: list[Product], start: date, end: date,
                    change_share: float = 0.1, warehouses: int = 1,
                    every: int = 1) -> Iterator[tuple[date, list[StockLevel]]]:
    """``stock_history`` one day at a time (a year of 100k SKUs does not fit in memory as objects)."""
    current = {(p.code, f"{w:06d}"): Decimal(rng.randrange(0, 200)) for p in products for w in range(1, warehouses + 1)}
    day = start
    keys = list(current)
    arrival: dict[tuple[str, str], date] = {}  # 入荷予定日 of a SKU ordered when it ran low
    twenty, none, on_order = Decimal(20), Decimal(0), Decimal(24)
    while day <= end:
        for key in rng.sample(keys, max(1, int(len(keys) * change_share))):
            roll = rng.random()
            current[key] = Decimal(0) if roll < 0.15 else Decimal(rng.randrange(0, 300))
            if current[key] < twenty:
                arrival[key] = day + timedelta(days=10)
            else:
                arrival.pop(key, None)
        if (day - start).days % every == 0:
            yield day, [StockLevel(code, wh, qty, on_order=on_order if (code, wh) in arrival else none,
                                   expected_on=arrival.get((code, wh)))
                        for (code, wh), qty in current.items()]
        day += timedelta(days=1)


def returns_for(rng: random.Random, seeded: Seeded, share: float = 0.03) -> list[feed.ReturnedItem]:
    """A return of part of one line for ``share`` of the shipped orders, 1–20 days after shipping (so some fall in
    the month after the order), priced as the order line; a few returns carry two products."""
    out: list[feed.ReturnedItem] = []
    reasons = ("破損 / damaged", "誤配送 / wrong item", "数量違い / wrong quantity", "")
    for order in seeded.orders:
        oid = order.order_id
        if oid in seeded.cancelled or oid not in seeded.shipped_at or rng.random() >= share:
            continue
        at = seeded.shipped_at[oid] + timedelta(days=rng.uniform(1, 20))
        chosen = {line.product_code: line for line in rng.sample(list(order.lines), min(len(order.lines),
                                                                                        rng.choice((1, 1, 1, 2))))}
        for line in chosen.values():
            quantity = Decimal(rng.randint(1, int(line.quantity)))
            out.append(feed.ReturnedItem(f"R{oid}", oid, order.customer_code or "", line.product_code, quantity,
                                         quantity * line.unit_price, at, rng.choice(reasons)))
    return out


def feed_all(state_path: Path, analytics: AnalyticsStore, seeded: Seeded, day: date) -> None:
    feed.products(analytics, seeded.products, day)
    feed.customers(analytics, seeded.customers, day)
    feed.orders_from_state(state_path, analytics)
    feed.record_returns(analytics, seeded.returns)
    for snapshot_day, levels in sorted(seeded.stock.items()):
        feed.stock(analytics, levels, snapshot_day)
