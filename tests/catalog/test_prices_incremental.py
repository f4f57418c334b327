"""The prices job's runs against its memo plan exactly what a full run (``--full``: everything read and compiled)
plans, and leave CS-Cart (the simulator) with the same tier sets, whatever happens between runs: 商品マスター edits,
new 数量別単価 files, other pricing rules, a product bound, the clock crossing 新単価実施日 and quantity validity
dates, bad files, and restarts with the memo deleted, damaged or stale. Three twins, each with its own state file and
simulator: a long-lived job (its memory), a new job per run (as ``bridge sync prices``: the memo on disk) and a new
``--full`` job per run."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bridge import wiring
from bridge.config import Settings
from bridge.cscart.simulator import Simulator, run_simulator
from bridge.dispatch import Dispatcher
from bridge.domain.catalog import Product
from bridge.domain.money import Rounding
from bridge.domain.time import JST
from bridge.rules.common import RoundingRule
from bridge.rules.loader import RuleSet, load_rules
from bridge.rules.pricing import QuantityTiers, ScheduledPrices
from bridge.smile.generator import layouts_for
from bridge.smile.records import QuantityPrice
from bridge.smile.writer import write_records
from bridge.store import Store, ledger
from bridge.sync import JobContext, RunOptions
from bridge.sync.catalog import index as catalog_index
from bridge.sync.catalog import prices_memo
from bridge.sync.catalog.prices import PricesJob
from bridge.sync.registry import prices_job
from tests.foundation.fakes import PinnedClock

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 24, 9, 0, tzinfo=JST)
DAY0 = START.date()
# 10000001–10000010 are simulator products 1–10; 10000000 is in no shop; 10000010's product is renamed, so the code
# is missing until a step binds it (as the products job does when it creates a product).
CODES = [str(10_000_000 + n) for n in range(11)]
HIDDEN, HIDDEN_ID = "10000010", 10
SHIPPED = load_rules(ROOT / "rules")

RULES = {
    "shipped": SHIPPED.pricing,
    "no_quantity_tiers": SHIPPED.pricing.model_copy(update={"quantity_tiers": QuantityTiers(enabled=False)}),
    "yen_down": SHIPPED.pricing.model_copy(
        update={"price_rounding": RoundingRule(mode=Rounding.DOWN, unit=Decimal(10))}),
    "no_schedule": SHIPPED.pricing.model_copy(update={"scheduled_prices": ScheduledPrices(enabled=False)}),
}

days = st.integers(-3, 8).map(lambda n: DAY0 + timedelta(days=n))
money = st.integers(50, 2000).map(Decimal)


@st.composite
def products(draw: Any, code: str) -> Product:
    standard = draw(st.one_of(st.none(), money) if draw(st.integers(0, 9)) == 0 else money)
    ranks = tuple(draw(st.lists(st.one_of(st.none(), money), min_size=5, max_size=5)))
    scheduled = draw(st.booleans())
    return Product(
        code=code, name=f"商品{code[-2:]}", standard_price=standard, rank_prices=ranks,
        list_price=draw(st.one_of(st.none(), money)),
        new_price_date=draw(days) if scheduled else None,
        new_standard_price=draw(st.one_of(st.none(), money)) if scheduled else None,
        new_rank_prices=tuple(draw(st.lists(st.one_of(st.none(), money), min_size=5, max_size=5)))
        if scheduled else (None,) * 5)


@st.composite
def quantity_files(draw: Any) -> list[QuantityPrice]:
    rows: dict[tuple[str, int, date | None], QuantityPrice] = {}
    for _ in range(draw(st.integers(0, 8))):
        code = draw(st.sampled_from(CODES))
        quantity = draw(st.integers(2, 30))
        start = draw(st.one_of(st.none(), days))
        end = draw(st.one_of(st.none(), days))
        if start and end and end < start:
            start, end = end, start
        rows[(code, quantity, start)] = QuantityPrice(product_code=code, price=draw(money),
                                                      min_quantity=Decimal(quantity), valid_from=start,
                                                      valid_to=end)
    return list(rows.values())


step_strategy = st.one_of(
    st.tuples(st.just("edit"), st.sampled_from(CODES), st.data()),
    st.tuples(st.just("drop"), st.sampled_from(CODES)),
    st.tuples(st.just("quantity"), quantity_files()),
    st.tuples(st.just("rules"), st.sampled_from(sorted(RULES))),
    st.tuples(st.just("bind")),
    st.tuples(st.just("clock"), st.sampled_from([1, 6, 15, 24, 49, 24 * 4])),
    st.tuples(st.just("bad")),
    st.tuples(st.just("bad_quantity")),
    st.tuples(st.just("restart"), st.sampled_from(["deleted", "garbage", "stale", "kept"])),
    st.tuples(st.just("nothing")),
    st.tuples(st.just("forget"), st.sampled_from(CODES)),  # a ledger entry dropped (as a drift repair does)
)


@dataclasses.dataclass
class SwitchedRules:
    """The rules in force, switched by a step (as a reload would)."""

    current: RuleSet


class Twin:
    """One state file, data folder and simulator; ``mode``: "kept" (one long-lived job), "memo" (a new job per run,
    reading the memo on disk) or "full" (a new job per run with ``--full``)."""

    def __init__(self, root: Path, sim: Simulator, mode: str) -> None:
        self.root, self.sim, self.mode = root, sim, mode
        self.settings = Settings(data_dir=root / "data", cscart=sim.client_settings(), http={"port": 0},
                                 log={"level": "WARNING", "format": "json"}, dispatch={"idle_poll": 0.05},
                                 smile={"stable_seconds": 0.0})
        self.dirs = self.settings.smile.dirs(self.settings.data_dir)
        self.dirs.create()
        self.clock = PinnedClock(START)
        self.rules = SwitchedRules(SHIPPED)
        self.job: PricesJob | None = None
        self.modes: list[str] = []
        self.store: Store | None = None
        self.wired: Any = None
        self.first_memo: bytes | None = None

    async def open(self) -> None:
        self.store = await Store.open(self.settings.state_path)
        self.wired = await wiring.build(self.settings, self.store)
        self.wired.services.rules = self.rules
        self.dispatcher = Dispatcher(self.store, self.wired.sinks, self.settings.dispatch, clock=self.clock)
        self.sim.state.products[HIDDEN_ID].product_code = "renamed-10"

    async def close(self) -> None:
        if self.wired is not None:
            await self.wired.aclose()
        if self.store is not None:
            await self.store.close()

    def make_job(self) -> PricesJob:
        assert self.store is not None
        context = JobContext(settings=self.settings, store=self.store, clock=self.clock,
                             wake_dispatcher=self.dispatcher.wake, services=self.wired.services)
        return prices_job(context)

    @property
    def memo_path(self) -> Path:
        return prices_memo.path_for(self.settings.state_path)

    async def step(self, number: int, step: tuple[Any, ...], master: dict[str, Product],
                   quantity: list[QuantityPrice] | None, deliver: bool = True) -> tuple[Any, ...]:
        kind = step[0]
        if kind in ("edit", "drop", "bad", "nothing") or number == 0:
            self.products_file(number, master, bad=kind == "bad")
        if quantity is not None or kind == "bad_quantity":
            self.quantity_file(number, quantity or [], bad=kind == "bad_quantity")
        if kind == "rules":
            self.rules.current = dataclasses.replace(SHIPPED, pricing=RULES[step[1]])
        elif kind == "bind":
            assert self.store is not None
            async with self.store.transaction() as tx:
                if HIDDEN not in await catalog_index.bound_ids_for(tx, [HIDDEN]):
                    await catalog_index.bind_created(tx, HIDDEN, HIDDEN_ID)
        elif kind == "forget":
            assert self.store is not None
            async with self.store.transaction() as tx:
                await ledger.forget(tx, "cscart", "product_prices", [step[1]])
        elif kind == "clock":
            self.clock.at = self.clock.at + timedelta(hours=step[1])
        elif kind == "restart":
            self.job = None
            if step[1] == "deleted":
                self.memo_path.unlink(missing_ok=True)
            elif step[1] == "garbage":
                self.memo_path.write_bytes(b"\x00not a memo" * 7)
            elif step[1] == "stale" and self.first_memo is not None:
                self.memo_path.write_bytes(self.first_memo)
        if self.job is None or self.mode != "kept":
            self.job = self.make_job()
        result = await self.job.run(RunOptions(full=self.mode == "full"))
        self.modes.append(self.job.last_read[0])
        if self.first_memo is None and self.memo_path.exists():
            self.first_memo = self.memo_path.read_bytes()
        assert self.store is not None
        pending = await self.store.fetchall("SELECT key, payload FROM outbox WHERE state = 'pending' ORDER BY id")
        if deliver:  # else the run's writes stay queued until the next run's delivery
            await self.dispatcher.drain_all()
        shop = {pid: (p.price, tuple(p.tiers or ())) for pid, p in sorted(self.sim.state.products.items())}
        notes = tuple(str(note).replace(str(self.root), "ROOT") for note in result.notes)
        return ((result.read, result.changed, result.enqueued, result.failed, notes),
                tuple(map(tuple, pending)), shop)

    def products_file(self, number: int, master: dict[str, Product], *, bad: bool) -> None:
        target = self.dirs.inbox / f"products_{number:03d}.csv"
        layout = layouts_for(self.settings.smile, None)["products"]
        write_records(target, "products", list(master.values()), layout=layout)
        if bad and master:  # one value no 標準売上単価 can be
            text = target.read_bytes().decode("utf-16")
            lines = text.split("\n")
            cells = lines[1].split(",")
            cells[6] = "12x"
            lines[1] = ",".join(cells)
            target.write_bytes("\n".join(lines).encode("utf-16"))
        target.with_name(target.name + ".done").touch()

    def quantity_file(self, number: int, rows: list[QuantityPrice], *, bad: bool) -> None:
        target = self.dirs.inbox / f"quantity_prices_{number:03d}.csv"
        layout = layouts_for(self.settings.smile, None)["quantity_prices"]
        write_records(target, "quantity_prices", rows, layout=layout)
        if bad:
            target.write_bytes(target.read_bytes() + "10000001,x,12,,\r\n".encode("cp932"))
        target.with_name(target.name + ".done").touch()


async def play(root: Path, sims: tuple[Simulator, ...], first: dict[str, Product],
               steps: list[tuple[Any, ...]], held: frozenset[int] = frozenset(),
               edits: dict[str, Product] | None = None) -> tuple[Twin, Twin, Twin]:
    """Run the steps on the three twins; after each run the writes are delivered, except after the runs ``held``."""
    kept, memo, full = (Twin(root / mode, sim, mode) for mode, sim in zip(("kept", "memo", "full"), sims))
    for twin in (kept, memo, full):
        await twin.open()
    try:
        master = dict(first)
        for number, step in enumerate([("nothing",), *steps]):
            quantity = None
            if step[0] == "edit":
                master[step[1]] = edits[step[1]] if edits else step[2].draw(products(step[1]))
                master = dict(sorted(master.items()))
            elif step[0] == "drop":
                master.pop(step[1], None)
            elif step[0] == "quantity":
                quantity = step[1]
            deliver = number not in held
            expected = await full.step(number, step, master, quantity, deliver)
            assert await kept.step(number, step, master, quantity, deliver) == expected, (number, step)
            assert await memo.step(number, step, master, quantity, deliver) == expected, (number, step)
        return kept, memo, full
    finally:
        for twin in (kept, memo, full):
            await twin.close()


def fresh_sims() -> Any:
    return [run_simulator(products=10, users=1, orders=0, seed=5) for _ in range(3)]


# No shrinking: each example runs three simulators and state files through several runs.
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(first=st.fixed_dictionaries({code: products(code) for code in CODES}),
       steps=st.lists(step_strategy, min_size=2, max_size=7), held=st.frozensets(st.integers(0, 7), max_size=3))
async def test_runs_against_the_memo_plan_and_write_what_full_runs_do(tmp_path_factory: pytest.TempPathFactory,
                                                                      first: dict[str, Product],
                                                                      steps: list[tuple[Any, ...]],
                                                                      held: frozenset[int]) -> None:
    root = tmp_path_factory.mktemp("prices")
    a, b, c = fresh_sims()
    async with a as sim_a, b as sim_b, c as sim_c:
        _kept, _memo, full = await play(root, (sim_a, sim_b, sim_c), first, steps, held)
    assert set(full.modes) <= {"full", ""}
    shutil.rmtree(root, ignore_errors=True)


def _master(**changes: Any) -> dict[str, Product]:
    master = {code: Product(code=code, name=f"商品{code[-2:]}", standard_price=Decimal(1000 + n),
                            rank_prices=(Decimal(900 + n),) * 5) for n, code in enumerate(CODES)}
    master["10000003"] = master["10000003"]._replace(new_price_date=DAY0 + timedelta(days=1),
                                             new_standard_price=Decimal(1500))
    for code, fields in changes.items():
        master[code] = master[code]._replace(**fields)
    return master


async def test_a_run_parses_and_compiles_only_what_changed(tmp_path: Path) -> None:
    sims = fresh_sims()
    async with sims[0] as a:
        twin = Twin(tmp_path / "one", a, "kept")
        await twin.open()
        try:
            await twin.step(0, ("nothing",), _master(), [])
            job = twin.job
            assert job is not None and job.last_read[0] == "full"
            # one line changed: one line parsed, one tier set compiled
            outcome, pending, _ = await twin.step(1, ("edit",), _master(**{"10000005": {"standard_price": Decimal(7)}}),
                                                  None)
            assert job.last_read == ("memo", 1, 1)
            assert [key for key, _ in pending] == ["10000005"] and outcome[1] == 1
            # nothing changed: nothing parsed or compiled, nothing written, the memo not rewritten
            written = twin.memo_path.stat().st_mtime_ns
            outcome, pending, _ = await twin.step(2, ("nothing",), _master(**{"10000005": {"standard_price": Decimal(7)}}),
                                                  None)
            assert job.last_read == ("memo", 0, 0) and pending == () and outcome[1] == 0
            assert twin.memo_path.stat().st_mtime_ns == written
            # midnight JST of 10000003's 新単価実施日: that code only
            twin.clock.at = datetime.combine(DAY0 + timedelta(days=1), datetime.min.time(), JST)
            outcome, pending, _ = await twin.step(3, ("clock", 0), _master(**{"10000005": {"standard_price": Decimal(7)}}),
                                                  None)
            assert job.last_read == ("memo", 0, 1) and [key for key, _ in pending] == ["10000003"]
            # a new 数量別単価 file naming one code: that code only
            rows = [QuantityPrice(product_code="10000004", price=Decimal(500), min_quantity=Decimal(10))]
            outcome, pending, _ = await twin.step(4, ("quantity", rows), _master(**{"10000005": {"standard_price": Decimal(7)}}),
                                                  rows)
            assert job.last_read == ("memo", 0, 1) and [key for key, _ in pending] == ["10000004"]
            # the hidden code bound: that code only
            outcome, pending, _ = await twin.step(5, ("bind",), _master(), None)
            assert job.last_read[0] == "memo" and "10000010" in [key for key, _ in pending]
            # other rules: everything read and compiled
            await twin.step(6, ("rules", "yen_down"), _master(), None)
            assert job.last_read[0] == "full"
            # --full reads everything although the memo holds
            result = await job.run(RunOptions(full=True))
            assert job.last_read[0] == "full" and result.changed == 0
        finally:
            await twin.close()


@pytest.mark.parametrize("how", ["deleted", "garbage", "stale", "token"])
async def test_a_lost_or_stale_memo_means_a_full_read(tmp_path: Path, how: str) -> None:
    sims = fresh_sims()
    async with sims[0] as a:
        twin = Twin(tmp_path, a, "memo")
        await twin.open()
        try:
            await twin.step(0, ("nothing",), _master(), [])
            old = twin.memo_path.read_bytes()
            await twin.step(1, ("edit",), _master(**{"10000002": {"standard_price": Decimal(5)}}), None)
            assert twin.modes[-1] == "memo"
            if how == "deleted":
                twin.memo_path.unlink()
            elif how == "garbage":
                twin.memo_path.write_bytes(old[:50])
            elif how == "stale":  # an older memo (e.g. a crash before the new one was saved)
                twin.memo_path.write_bytes(old)
            else:  # the state file restored from a backup taken before the memo's run
                assert twin.store is not None
                async with twin.store.transaction() as tx:
                    await tx.execute("UPDATE cursors SET value = 'restored' WHERE name = 'prices.memo'")
            _, pending, _ = await twin.step(2, ("edit",), _master(**{"10000002": {"standard_price": Decimal(6)}}),
                                                  None)
            assert twin.modes[-1] == "full" and [key for key, _ in pending] == ["10000002"]
            await twin.step(3, ("edit",), _master(**{"10000002": {"standard_price": Decimal(8)}}), None)
            assert twin.modes[-1] == "memo"  # the full run wrote a new memo
        finally:
            await twin.close()


async def test_a_bad_line_is_refused_with_its_line_number_and_nothing_applied(tmp_path: Path) -> None:
    sims = fresh_sims()
    async with sims[0] as a:
        twin = Twin(tmp_path, a, "kept")
        await twin.open()
        try:
            await twin.step(0, ("nothing",), _master(), [])
            outcome, pending, _ = await twin.step(1, ("bad",), _master(**{"10000001": {"standard_price": Decimal(3)}}),
                                                  None)
            notes = " ".join(outcome[4])
            assert "products_001.csv" in notes and ":2" in notes, notes  # file and line (the first data line)
            assert pending == () and outcome[2] == 0
        finally:
            await twin.close()


async def test_each_date_that_changes_a_tier_set_is_crossed_day_by_day(tmp_path: Path) -> None:
    """新単価実施日, valid_from and the day after valid_to, one day at a time (and two at once): the same as full."""
    rows = [QuantityPrice(product_code="10000004", price=Decimal(500), min_quantity=Decimal(10),
                          valid_from=DAY0 + timedelta(days=1), valid_to=DAY0 + timedelta(days=2)),
            QuantityPrice(product_code="10000006", price=Decimal(400), min_quantity=Decimal(5),
                          valid_to=DAY0 + timedelta(days=3))]
    steps: list[tuple[Any, ...]] = [("quantity", rows), *[("clock", 24)] * 3, ("clock", 49)]
    sims = fresh_sims()
    async with sims[0] as a, sims[1] as b, sims[2] as c:
        kept, memo, _full = await play(tmp_path, (a, b, c), _master(), steps)
    assert kept.modes[1:] == ["memo"] * 5 and memo.modes[1:] == ["memo"] * 5


@pytest.mark.parametrize("held", [frozenset({0}), frozenset({1}), frozenset({1, 2})])
async def test_writes_still_queued_are_planned_again_as_a_full_run_plans_them(tmp_path: Path,
                                                                             held: frozenset[int]) -> None:
    steps: list[tuple[Any, ...]] = [("edit", "10000002", None), ("nothing",), ("forget", "10000005"), ("nothing",)]
    master = _master(**{"10000002": {"standard_price": Decimal(5)}})
    sims = fresh_sims()
    async with sims[0] as a, sims[1] as b, sims[2] as c:
        kept, memo, _full = await play(tmp_path, (a, b, c), _master(), steps, held, edits={"10000002": master["10000002"]})
    assert kept.modes[1:] == ["memo"] * 4 and memo.modes[1:] == ["memo"] * 4


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "cp932", "utf-8-sig"])
def test_a_read_against_the_memo_gives_the_full_reads_records_in_every_encoding(tmp_path: Path,
                                                                                 encoding: str) -> None:
    from bridge.smile.reader import read_file
    from bridge.smile.settings import SmileSettings

    settings = SmileSettings()
    layout = layouts_for(settings, "utf-16" if encoding == "utf-16-be" else encoding)["products"]

    def written(name: str, master: dict[str, Product]) -> Path:
        path = write_records(tmp_path / name, "products", list(master.values()), layout=layout)
        if encoding == "utf-16-be":  # SMILE may write big-endian with its BOM
            path.write_bytes(b"\xfe\xff" + path.read_bytes().decode("utf-16").encode("utf-16-be"))
        return path

    first = written("products_1.csv", _master())
    full = read_file(first, "products", settings, layout)
    lines = prices_memo.lines_by_record(first.read_bytes(), full, layout)
    assert lines is not None
    cut, digests, codes = lines
    assert codes == [p.code for p in full.records]
    base = prices_memo.PricesMemo("k", "t", 0, {}, prices_memo.checksum(first.read_bytes()), cut.header, digests,
                                  codes, "", {}, {}, [], [], 0, {})
    same = prices_memo.lean_read(base, first, settings, layout)
    assert same is not None and same.cut is None and same.result.records == [] and same.touched == set()
    master = _master(**{"10000004": {"standard_price": Decimal(77), "name": "新しい名前"}})
    master.pop("10000006")
    second = written("products_2.csv", master)
    lean = prices_memo.lean_read(base, second, settings, layout)
    assert lean is not None
    again = read_file(second, "products", settings, layout)
    assert lean.codes == [p.code for p in again.records]
    assert lean.result.records == [p for p in again.records if p.code == "10000004"]
    assert lean.touched == {"10000004", "10000006"} and lean.result.record_count == len(again.records)
    # a new line with the code of an unchanged line: the full reader must report the duplicate
    duplicated = dict(master)
    duplicated["x"] = master["10000005"]._replace(name="二重")
    assert prices_memo.lean_read(base, written("products_3.csv", duplicated), settings, layout) is None
