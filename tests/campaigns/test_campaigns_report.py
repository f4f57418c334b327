"""``bridge campaigns report`` on a seeded order history: every figure recomputed here, independently, from the
orders the test made; plus the 受注 slip's 値引 and bonus lines."""

from __future__ import annotations

import asyncio
import json
import random
import shutil
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bridge.cli import app
from bridge.config import Settings
from bridge.domain.catalog import Product
from bridge.domain.customers import Address
from bridge.domain.orders import AppliedPromotion, Order, OrderLine, WorkflowState
from bridge.domain.time import JST
from bridge.smile.generator import layouts_for
from bridge.smile.writer import write_records
from bridge.store import Store, usergroups
from bridge.store import orders as mirror
from bridge.sync.orders import export

ROOT = Path(__file__).resolve().parents[2]
RULES = """\
version: 1
costs: {free_shipping_per_order: 700}
campaigns:
  - id: spring
    name: 春
    period: {start: 2026-03-01, end: 2026-03-10}
    target: {all: true}
    benefits: [{type: discount, percent: 10}, {type: free_shipping}, {type: bonus_item, product_code: GIFT}]
    fixed_cost: 5000
  - id: tokyo
    name: 東京限定
    period: {start: 2026-03-05, end: 2026-03-08}
    target: {regions: [東京都]}
    benefits: [{type: discount, amount: 300, applies_to: order}]
  - id: rank1
    name: ランク1限定
    period: {start: 2026-03-01, end: 2026-03-10}
    target: {customer_groups: [ランク1]}
    benefits: [{type: discount, amount: 100, applies_to: order}]
  - id: gold
    name: ゴールド限定
    period: {start: 2026-03-01, end: 2026-03-10}
    target: {customer_groups: [ゴールド]}
    benefits: [{type: discount, amount: 100, applies_to: order}]
"""
# ランク1 members as the campaigns job read them: users 1-5 at the first read (2026-02-01), then on 2026-03-05
# users 1 and 2 had left and 6-8 had joined. ゴールド was never read.
FIRST_READ = datetime(2026, 2, 1, tzinfo=JST)
SECOND_READ = datetime(2026, 3, 5, 12, tzinfo=JST)


def in_rank1(user_id: int, moment: datetime) -> bool:
    """Independent of bridge/store/usergroups.py: the membership the two reads imply."""
    if user_id in (1, 2):
        return moment < SECOND_READ  # members since before the first read, gone at the second
    if user_id in (3, 4, 5):
        return True
    return user_id in (6, 7, 8) and moment >= SECOND_READ
PRICES = {"A": Decimal(1200), "B": Decimal(800), "C": Decimal(4500)}
COSTS = {"A": Decimal(700), "B": Decimal(500), "C": Decimal(3000), "GIFT": Decimal(250)}
START = datetime(2026, 3, 1, tzinfo=JST)
END = datetime(2026, 3, 11, tzinfo=JST)


def history(seed: int) -> list[tuple[Order, WorkflowState]]:
    rng = random.Random(seed)
    made = []
    for order_id in range(1, 121):
        placed = datetime(2026, 2, 10, tzinfo=JST) + timedelta(minutes=rng.randrange(0, 40 * 24 * 60))
        lines = []
        for code in rng.sample(sorted(PRICES), rng.randint(1, 3)):
            lines.append(OrderLine(code, code, Decimal(rng.randint(1, 5)), PRICES[code]))
        promotions: list[AppliedPromotion] = []
        subtotal_discount = Decimal(0)
        if START <= placed < END and rng.random() < 0.6:  # the spring campaign applied: 10 % on every line
            lines = [OrderLine(l.product_code, l.name, l.quantity, l.unit_price, discount=l.unit_price / 10)
                     for l in lines]
            lines.append(OrderLine("GIFT", "おまけ", Decimal(1), Decimal(0), bonus_of=1))
            off = sum((l.discount * l.quantity for l in lines), Decimal(0))
            promotions.append(AppliedPromotion(1, "spring", off, rng.random() < 0.5, (("GIFT", Decimal(1)),)))
        prefecture = rng.choice(["東京都", "大阪府"])
        if datetime(2026, 3, 5, tzinfo=JST) <= placed < datetime(2026, 3, 9, tzinfo=JST) and \
                prefecture == "東京都" and rng.random() < 0.7:
            subtotal_discount = Decimal(300)
            promotions.append(AppliedPromotion(2, "tokyo", Decimal(300)))
        if START <= placed < datetime(2026, 3, 10, tzinfo=JST) and in_rank1(order_id % 17, placed) and \
                rng.random() < 0.5:
            subtotal_discount += Decimal(100)
            promotions.append(AppliedPromotion(3, "rank1", Decimal(100)))
        goods = sum(((l.unit_price - l.discount) * l.quantity for l in lines), Decimal(0)) - subtotal_discount
        shipping = Decimal(0) if any(p.free_shipping for p in promotions) else Decimal(700)
        order = Order(order_id=order_id, status="O", placed_at=placed, updated_at=placed, user_id=order_id % 17,
                      email="x@example.jp", total=goods + shipping, lines=tuple(lines),
                      shipping=Address(prefecture=prefecture), customer_code=f"{order_id % 17:06d}",
                      promotions=tuple(promotions), subtotal_discount=subtotal_discount, shipping_cost=shipping)
        state = WorkflowState.CANCELLED if rng.random() < 0.05 else WorkflowState.RECEIVED
        made.append((order, state))
    return made


def expected(made: list[tuple[Order, WorkflowState]], campaign: str, start: datetime, end: datetime,
             fixed: Decimal, reach: Callable[[Order], bool] = lambda o: True) -> dict[str, Decimal | int | None]:
    live = [o for o, state in made if state is not WorkflowState.CANCELLED]
    inside = [o for o in live if start <= o.placed_at < end]
    before = [o for o in live if start - (end - start) <= o.placed_at < start]
    mine = [o for o in inside if any(p.campaign_id == campaign for p in o.promotions)]
    rest = [o for o in inside if o not in mine]

    def margin(o: Order) -> Decimal:
        total = Decimal(0)
        for line in o.lines:
            if line.bonus_of is None:
                total += (line.unit_price - line.discount) * line.quantity
            total -= COSTS[line.product_code] * line.quantity
        return total - o.subtotal_discount

    def mean(values: list[Decimal]) -> Decimal | None:
        return (sum(values) / len(values)).quantize(Decimal("0.01")) if values else None

    applied = [p for o in mine for p in o.promotions if p.campaign_id == campaign]
    discounts = sum((p.discount for p in applied), Decimal(0))
    bonus = sum((COSTS[code] * q for p in applied for code, q in p.bonus_items), Decimal(0))
    free = Decimal(700) * sum(1 for p in applied if p.free_shipping)
    cost = discounts + bonus + free + fixed
    eligible = [o for o in inside if reach(o)]
    base = mean([margin(o) for o in rest]) or Decimal(0)
    incremental = sum((margin(o) for o in mine), Decimal(0)) - len(mine) * base - free - fixed
    return {
        "orders": len(mine), "customers": len({o.customer_code for o in mine}), "eligible_orders": len(eligible),
        "revenue": sum((o.total for o in mine), Decimal(0)), "discounts": discounts, "bonus_cost": bonus,
        "free_shipping_cost": free, "cost": cost, "aov": mean([o.total for o in mine]),
        "aov_before": mean([o.total for o in before]), "aov_non_participants": mean([o.total for o in rest]),
        "incremental_gross_margin": incremental,
        "usage_rate": (Decimal(len(mine)) / len(eligible)).quantize(Decimal("0.0001")),
        "roi": (incremental / cost).quantize(Decimal("0.0001")) if cost else None,
    }


async def seed(settings: Settings, made: list[tuple[Order, WorkflowState]]) -> None:
    store = await Store.open(settings.state_path)
    async with store.transaction() as tx:
        await mirror.insert_many(tx, [(order, state, None) for order, state in made])
        await usergroups.record_members(tx, "ランク1", [1, 2, 3, 4, 5], FIRST_READ)
        await usergroups.record_members(tx, "ランク1", [3, 4, 5, 6, 7, 8], SECOND_READ)
    await store.close()
    archive = settings.smile.dirs(settings.data_dir).archive / "20260301"
    archive.mkdir(parents=True)
    write_records(archive / "products_001.csv", "products",
                  [Product(code=c, name=c, cost_price=cost) for c, cost in COSTS.items()],
                  layout=layouts_for(settings.smile, None)["products"])


@pytest.mark.parametrize("seed_value", [7, 2026])
def test_the_report_figures_match_an_independent_computation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             seed_value: int) -> None:
    rules_dir = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules_dir)
    (rules_dir / "campaigns.yaml").write_text(RULES, encoding="utf-8")
    monkeypatch.setenv("BRIDGE_RULES_DIR", str(rules_dir))
    monkeypatch.setenv("BRIDGE_DATA_DIR", str(tmp_path / "data"))
    settings = Settings(data_dir=tmp_path / "data", rules_dir=rules_dir)
    made = history(seed_value)
    asyncio.run(seed(settings, made))
    result = CliRunner().invoke(app, ["campaigns", "report", "--format", "json"])
    assert result.exit_code == 0, result.output
    report = {row["campaign_id"]: row for row in json.loads(result.output)["campaigns"]}
    tenth = datetime(2026, 3, 11, tzinfo=JST)
    for campaign, start, end, fixed, reach in (
            ("spring", START, END, Decimal(5000), lambda o: True),
            ("tokyo", datetime(2026, 3, 5, tzinfo=JST), datetime(2026, 3, 9, tzinfo=JST), Decimal(0),
             lambda o: o.shipping.prefecture == "東京都"),
            ("rank1", START, tenth, Decimal(0), lambda o: in_rank1(o.user_id, o.placed_at)),
            ("gold", START, tenth, Decimal(0), lambda o: True)):  # never read: the group cannot filter
        want = expected(made, campaign, start, end, fixed, reach)
        got = report[campaign]
        assert want["orders"] > 0 or campaign == "gold"
        for name, value in want.items():
            assert (None if got[name] is None else (got[name] if isinstance(got[name], int)
                                                     else Decimal(got[name]))) == value, (campaign, name)
        assert got["uncosted"] == []
        assert got["unread_groups"] == (["ゴールド"] if campaign == "gold" else [])
    rank1 = report["rank1"]
    assert 0 < rank1["eligible_orders"] < report["gold"]["eligible_orders"]  # the groups did narrow it
    table = CliRunner().invoke(app, ["campaigns", "report", "spring"])
    assert table.exit_code == 0 and "spring" in table.output and "products_001.csv" in table.output
    csv_out = CliRunner().invoke(app, ["campaigns", "report", "tokyo", "--format", "csv"])
    assert csv_out.exit_code == 0 and csv_out.output.splitlines()[1].startswith("tokyo,")
    unknown = CliRunner().invoke(app, ["campaigns", "report", "nope"])
    assert unknown.exit_code != 0 and "known: spring, tokyo, rank1, gold" in unknown.output
    gold = CliRunner().invoke(app, ["campaigns", "report", "gold"])
    assert gold.exit_code == 0 and "ゴールド" in gold.output and "not filtered" in gold.output


def test_the_juchu_slip_shows_each_campaign_discount_as_its_own_line_and_the_bonus_at_zero() -> None:
    lines = (OrderLine("A", "商品A", Decimal(3), Decimal(1200), discount=Decimal(120)),
             OrderLine("B", "商品B", Decimal(2), Decimal(800)),
             OrderLine("GIFT", "おまけ", Decimal(1), Decimal(0), bonus_of=1))
    order = Order(order_id=51, status="O", placed_at=datetime(2026, 3, 2, 10, tzinfo=JST), updated_at=None,
                  user_id=4, email="x@example.jp", total=Decimal(3600 + 1600 - 360 - 300 + 700),
                  shipping_cost=Decimal(700), lines=lines, subtotal_discount=Decimal(300),
                  promotions=(AppliedPromotion(1, "spring", Decimal(360), False, (("GIFT", Decimal(1)),)),
                              AppliedPromotion(2, "tokyo", Decimal(300))))
    rows = export.slip_rows(order, export.Party("000004", "x"), export.ExportRules())
    table = [(r["商品ｺｰﾄﾞ"], r["商品名"], r["数量"], r["単価"], r["金額"]) for r in rows]
    assert table == [
        ("A", "商品A", "3", "1200", "3600"),  # the price before the discount
        ("B", "商品B", "2", "800", "1600"),
        ("GIFT", "おまけ (spring)", "1", "0", "0"),  # the bonus item: ¥0 with the campaign id
        ("NB-01", "値引 spring", "1", "-360", "-360"),
        ("NB-01", "値引 tokyo", "1", "-300", "-300"),
        ("SF-01", "送料", "1", "700", "700"),
    ]
    assert sum(Decimal(r[4]) for r in table) == order.total  # the slip still adds up to the order
    cancel = export.slip_rows(order, export.Party("000004", "x"), export.ExportRules(), sign=-1)
    assert [r["金額"] for r in cancel][3:5] == ["360", "300"]  # 赤伝 reverses the 値引 too
    plain = Order(order_id=52, status="O", placed_at=order.placed_at, updated_at=None, user_id=4, email="",
                  total=Decimal(100), lines=(OrderLine("A", "A", Decimal(1), Decimal(200), discount=Decimal(100)),),
                  promotions=(AppliedPromotion(8),))
    rows = export.slip_rows(plain, export.Party("000004", "x"), export.ExportRules())
    assert [(r["商品名"], r["金額"]) for r in rows] == [("A", "200"), ("値引 promotion 8", "-100")]
