"""The prices job end to end: 商品マスター + 数量別単価 → full tier sets in the simulator, at a controlled clock."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from bridge import wiring
from bridge.cscart.client import CSCartClient
from bridge.dispatch import Dispatcher
from bridge.domain.catalog import PriceTier, Product
from bridge.domain.time import JST
from bridge.rules.pricing import PricingRules, compile_tier_set
from bridge.rules.provider import RulesProvider
from bridge.store import Store
from bridge.sync import JobContext, JobResult, RunOptions, registered_jobs
from bridge.sync.catalog.prices import quantity_rows
from tests.catalog.conftest import MISSING_CODE, CatalogWorld, sim_product_id
from tests.foundation.fakes import PinnedClock

SWITCH_DAY = date(2026, 12, 1)
SCHEDULED = "10000004"


async def run_at(world: CatalogWorld, job: str, moment: datetime, *, dry_run: bool = False) -> JobResult:
    """``bridge sync JOB`` with the job's (and the dispatcher's) clock at ``moment``."""
    store = await Store.open(world.settings.state_path)
    wired = await wiring.build(world.settings, store)
    try:
        clock = PinnedClock(moment)
        dispatcher = Dispatcher(store, wired.sinks, world.settings.dispatch, clock=clock)
        context = JobContext(settings=world.settings, store=store, clock=clock, wake_dispatcher=dispatcher.wake,
                             services=wired.services)
        result = await registered_jobs()[job].factory(context).run(RunOptions(dry_run=dry_run))
        if not dry_run:
            await dispatcher.drain_all()
        return result
    finally:
        await wired.aclose()
        await store.close()


def scheduled_master(world: CatalogWorld) -> list[Product]:
    """The generated master with one scheduled price change (SCHEDULED, from SWITCH_DAY) and no other."""
    products = []
    for product in world.made.products:
        if product.code == SCHEDULED:
            assert product.standard_price is not None
            product = product._replace(new_price_date=SWITCH_DAY, new_standard_price=product.standard_price + 500,
                              new_rank_prices=tuple(p + 400 for p in product.rank_prices if p is not None))
        else:
            product = product._replace(new_price_date=None, new_standard_price=None,
                              new_rank_prices=(None,) * 5, new_list_price=None)
        products.append(product)
    return products


def jst(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=JST)


def price_puts(world: CatalogWorld) -> dict[int, dict]:
    return {pid: body for pid, body in world.product_writes() if "prices" in body}


async def read_back(world: CatalogWorld, code: str) -> tuple[Decimal, set[PriceTier]]:
    async with CSCartClient(world.sim.client_settings()) as client:
        product = await client.get_product(sim_product_id(code))
    assert product.tiers is not None
    return product.price, {t for t in product.tiers if (t.usergroup_id, t.lower_limit) != (0, 1)}


def pricing_rules(world: CatalogWorld) -> PricingRules:
    """The rules the job runs with (the shipped rules/ folder)."""
    return RulesProvider.open(world.settings.rules_dir).current.pricing


def rank_ids(world: CatalogWorld) -> dict[int, int]:
    by_name = {g.usergroup: g.usergroup_id for g in world.sim.state.usergroups.values()}
    return {rank: by_name[name] for rank, name in pricing_rules(world).rank_usergroups.items()}


async def test_full_tier_sets_survive_the_prices0_quirk_and_rank_groups_are_created(world: CatalogWorld) -> None:
    world.deliver("products", scheduled_master(world))
    world.deliver("quantity_prices")
    moment = jst(2026, 11, 24, 9, 0, 0)
    result = await run_at(world, "prices", moment)
    groups = rank_ids(world)
    assert sorted(groups) == [1, 2, 3, 4, 5], "one usergroup per rank, created by name"
    quantities = quantity_rows(world.made.quantity_prices)
    assert quantities, "the generated set has quantity tiers"
    checked = 0
    for product in world.made.products:
        if product.code == MISSING_CODE:
            continue
        expected = compile_tier_set(product, pricing_rules(world), groups, quantities.get(product.code, ()), now=moment)
        price, tiers = await read_back(world, product.code)
        assert price == expected.base_price
        assert tiers == set(expected.tiers), f"{product.code}: the full set, as read back, equals the compiled set"
        checked += 1
    assert checked == len(world.made.products) - 1 and result.failed == 0
    with_quantity = next(code for code in quantities if code != MISSING_CODE)
    assert any(t.lower_limit > 1 for t in (await read_back(world, with_quantity))[1])
    for body in price_puts(world).values():
        assert body["prices"][0]["usergroup_id"] == 0 and body["prices"][0]["lower_limit"] == 1, "base row first"


async def test_a_second_identical_cycle_writes_nothing(world: CatalogWorld) -> None:
    world.deliver("products", scheduled_master(world))
    moment = jst(2026, 11, 24, 10, 0, 0)
    await run_at(world, "prices", moment)
    world.sim.requests.clear()
    again = await run_at(world, "prices", jst(2026, 11, 24, 11, 0, 0))
    assert again.changed == 0 and again.enqueued == 0
    assert not [r for r in world.sim.requests if r.method in ("PUT", "POST", "DELETE")]


async def test_the_scheduled_price_switches_exactly_at_midnight_jst(world: CatalogWorld) -> None:
    master = {p.code: p for p in scheduled_master(world)}
    world.deliver("products", list(master.values()))
    old, new = master[SCHEDULED].standard_price, master[SCHEDULED].new_standard_price
    await run_at(world, "prices", jst(2026, 11, 30, 23, 0, 0))
    world.sim.requests.clear()

    before = await run_at(world, "prices", jst(2026, 11, 30, 23, 59, 59))
    assert before.enqueued == 0 and not price_puts(world)
    assert (await read_back(world, SCHEDULED))[0] == old

    after = await run_at(world, "prices", jst(2026, 12, 1, 0, 0, 0))
    assert after.changed == 1 and list(price_puts(world)) == [sim_product_id(SCHEDULED)]
    price, tiers = await read_back(world, SCHEDULED)
    assert price == new
    groups = rank_ids(world)
    new_ranks = master[SCHEDULED].new_rank_prices
    assert {(t.usergroup_id, t.price) for t in tiers if t.lower_limit == 1} == {
        (groups[rank], new_ranks[rank - 1]) for rank in range(1, 6)}


async def test_dry_run_plans_without_creating_groups_or_writing(world: CatalogWorld) -> None:
    world.deliver("products")
    groups_before = dict(world.sim.state.usergroups)
    result = await run_at(world, "prices", jst(2026, 11, 24, 9, 0, 0), dry_run=True)
    assert result.changed == len(world.made.products) - 1 and result.enqueued == 0
    assert result.plan and any("would" in note or "a real run creates" in note for note in result.notes)
    assert dict(world.sim.state.usergroups) == groups_before
    assert not [r for r in world.sim.requests if r.method != "GET"]
