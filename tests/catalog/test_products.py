"""The products job end to end: generated 商品マスター in the inbox → the job → the outbox → the simulator."""

from __future__ import annotations


from bridge.cscart.client import CSCartClient
from bridge.cscart.sink import CSCartSink
from bridge.rules.provider import RulesProvider
from bridge.store import Store, bindings, ledger
from bridge.store import outbox as ob
from bridge.sync.catalog.created import recorder
from tests.catalog.conftest import MISSING_CODE, CatalogWorld, sim_product_id

SHOP_OWNED = {"full_description", "short_description", "meta_keywords", "meta_description", "page_title",
              "category_ids", "weight", "main_pair", "image_pairs", "seo_name"}


def codes_in_cscart(world: CatalogWorld, code: str) -> list[int]:
    return [p.product_id for p in world.sim.state.products.values() if p.product_code == code]


async def bound_product(world: CatalogWorld, code: str) -> str | None:
    store = await Store.open(world.settings.state_path)
    try:
        async with store.transaction() as tx:
            return await bindings.reverse(tx, "smile", "product", code, "cscart", "product")
    finally:
        await store.close()


async def test_first_run_creates_the_missing_product_and_writes_only_smile_owned_fields(world: CatalogWorld) -> None:
    world.deliver("products")
    result = await world.run("products")
    created = codes_in_cscart(world, MISSING_CODE)
    assert len(created) == 1, "the product CS-Cart lacked is created exactly once"
    assert await bound_product(world, MISSING_CODE) == str(created[0])
    posts = world.sim.requests.where(method="POST", entity="products")
    assert len(posts) == 1 and posts[0].json()["product_code"] == MISSING_CODE
    owned = RulesProvider.open(world.settings.rules_dir).current.products.owned_by("smile")
    for _, body in world.product_writes():
        fields = set(body) - {"lang_code"}  # which language's description row a text goes to
        assert fields <= owned, f"only SMILE-owned fields are sent, got {sorted(fields - owned)}"
        assert not fields & SHOP_OWNED
    source = {p.code: p for p in world.made.products}
    for code, product in source.items():
        sim = world.sim.state.products[int(await bound_product(world, code) or 0)]
        # every language's description row gets the name (a Japanese store's customers read the ja row)
        assert [sim.name_in(lang, "en") for lang in ("en", "ja")] == [product.name, product.name]
    assert result.read == len(source) and result.failed == 0
    assert result.enqueued == len(source)  # 79 updates (the simulator's names differ) + 1 create


async def test_a_second_identical_cycle_writes_nothing_and_a_changed_name_writes_one_product(
        world: CatalogWorld) -> None:
    world.deliver("products")
    await world.run("products")
    world.sim.requests.clear()
    world.deliver("products")  # same bytes again: archived as a duplicate, the last applied file is planned again
    again = await world.run("products")
    assert again.changed == 0 and again.enqueued == 0
    assert not [r for r in world.sim.requests if r.method in ("PUT", "POST", "DELETE")]

    renamed = [p._replace(name="業務用ざる 特注品") if p.code == "10000005" else p for p in world.made.products]
    world.deliver("products", renamed)
    result = await world.run("products")
    assert result.changed == 1
    writes = world.product_writes()
    # one product, its name written once per language of the store (en, ja)
    assert [product_id for product_id, _ in writes] == [sim_product_id("10000005")] * 2
    assert [(body["product"], body["lang_code"]) for _, body in writes] == [
        ("業務用ざる 特注品", "en"), ("業務用ざる 特注品", "ja")]
    assert world.sim.state.products[sim_product_id("10000005")].name_in("ja", "en") == "業務用ざる 特注品"


async def test_dry_run_prints_the_plan_and_writes_nothing(world: CatalogWorld) -> None:
    path = world.deliver("products")
    result = await world.run("products", dry_run=True)
    assert result.changed == len(world.made.products) and result.enqueued == 0
    assert any(line.startswith(f"{MISSING_CODE}: product.create") for line in result.plan)
    assert any(line.startswith("10000001: (new)") for line in result.plan), "never-written updates show (new)"
    assert not [r for r in world.sim.requests if r.method != "GET"]
    assert path.exists(), "a dry run leaves the file in the inbox"
    assert await bound_product(world, "10000001") is None


async def test_a_retried_create_after_a_crash_before_binding_adopts_the_product(world: CatalogWorld,
                                                                                 store: Store) -> None:
    payload = {"product_code": "NEW-1", "fields": {"product": "新商品", "status": "A"}, "initial": {"price": "10.00"}}
    async with store.transaction() as tx:
        await ob.enqueue(tx, [ob.NewOp("cscart", "product.create", "product", "NEW-1", payload,
                                       track_ledger=False)], 0)
        op = (await ob.claim(tx, targets=["cscart"], limit=1, now=1, lease=60, owner="t"))[0]

    async def crash(op: ob.OutboxOp, product_id: int) -> None:
        raise ConnectionError("killed between POST and binding")

    async with CSCartClient(world.sim.client_settings()) as client:
        try:
            await CSCartSink(client, on_created=crash).deliver(op)
        except ConnectionError:
            pass
        await CSCartSink(client, on_created=recorder(store)).deliver(op)  # the retry
    made = codes_in_cscart(world, "NEW-1")
    assert len(made) == 1, "the retry adopted the product the first attempt created"
    async with store.transaction() as tx:
        assert await bindings.reverse(tx, "smile", "product", "NEW-1", "cscart", "product") == str(made[0])
        entry = await ledger.get(tx, "cscart", "product", "NEW-1")
    assert entry is not None and entry.value == {"product_id": made[0], "fields": payload["fields"]}
    assert len(world.sim.requests.where(method="POST", entity="products")) == 1
