"""``bridge demo``: the whole catalog flow on one machine, with no configuration.

In a temporary folder: a generated SMILE export set (商品マスター, 得意先, 在庫, 単価 files) is dropped into the inbox,
the built-in CS-Cart simulator starts with products whose product_code match the generated 商品コード, and the real
daemon (``bridge.daemon.Daemon``) runs every registered catalog job on a short interval against both. Between cycles
the demo changes some SMILE stock (and prices, one customer's 単価ランク, and one amount "by hand" in CS-Cart), then
prints what each job read, changed and wrote, and which writes CS-Cart received (from the simulator's request log).

The simulator's customers carry the generated 得意先's e-mail addresses, so the customers job matches and binds them
as it would on a real shop. The daemon's log lines go to ``bridge.log`` in the working folder (JSON lines), not to
the screen, so the demo's own report stays readable.
"""

from __future__ import annotations

import asyncio
import logging
import random
import shutil
import signal
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from bridge.config import Settings
from bridge.cscart.simulator import Simulator, run_simulator
from bridge.daemon import Daemon
from bridge.logging import configure
from bridge.smile.generator import GeneratedSet, generate, layouts_for, rewrite_stock
from bridge.smile.reader import read_file
from bridge.smile.settings import SmileDirs, SmileSettings
from bridge.smile.writer import write_records
from bridge.sync import registered_jobs
from bridge.sync.base import JobResult
from bridge.domain.time import utcnow
from bridge.i18n import _, format_local, ngettext

# Catalog jobs the demo runs when they are registered, in the order they are reported.
CATALOG_JOBS = ("products", "prices", "customers", "stock", "drift")
# The rules shipped with the repository (rules/*.yaml), copied into the demo folder so they can be edited there.
SHIPPED_RULES = Path(__file__).resolve().parents[1] / "rules"
FIRST_CODE = 10_000_000  # the generator's first 商品コード; the simulator's product N has code FIRST_CODE + N
LOG_FILE = "bridge.log"  # in the working folder: the daemon's structured log


@dataclass(slots=True)
class DemoOptions:
    cycles: int | None = None  # None: until Ctrl-C
    products: int = 300
    customers: int = 30
    interval: float = 3.0  # seconds from the start of one cycle to the start of the next
    seed: int = 1
    keep: Path | None = None  # keep the working folder here instead of a temporary one
    details: bool = False  # every job's figures and every change, instead of one line per cycle


@dataclass(slots=True)
class JobFigures:
    name: str
    read: int
    changed: int
    queued: int
    notes: list[str]
    errors: list[str]


@dataclass(slots=True)
class _Tally:
    """Results of every job run since the last report, collected while the daemon runs."""

    seen_runs: dict[str, int] = field(default_factory=dict)
    results: dict[str, list[JobResult]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)


class Demo:
    def __init__(self, options: DemoOptions, out: Callable[[str], None] = print) -> None:
        self.options = options
        self.out = out
        self.rng = random.Random(options.seed)
        self.jobs = [name for name in CATALOG_JOBS if name in registered_jobs()]
        self.tally = _Tally()
        self._stop = asyncio.Event()
        self._raised: set[str] = set()  # products whose price the demo already raised (each is raised once)

    async def run(self) -> int:
        if self.options.keep is not None:
            self.options.keep.mkdir(parents=True, exist_ok=True)
            return await self._run_in(self.options.keep)
        with tempfile.TemporaryDirectory(prefix="bridge-demo-") as tmp:
            return await self._run_in(Path(tmp))

    async def _run_in(self, root: Path) -> int:
        opts = self.options
        if not (root / "rules").is_dir():
            if not SHIPPED_RULES.is_dir():
                raise FileNotFoundError(_("{folder}: the shipped rules folder is missing; install the bridge from a "
                                          "checkout (pip install -e .) so rules/*.yaml are present").format(
                                              folder=SHIPPED_RULES))
            shutil.copytree(SHIPPED_RULES, root / "rules")
        made = generate(root / "smile-export", products=opts.products, customers=opts.customers, seed=opts.seed)
        with (root / LOG_FILE).open("a", encoding="utf-8") as log_stream:
            _log_to(log_stream)
            async with run_simulator(products=opts.products + 1, users=opts.customers, orders=0,
                                     seed=opts.seed) as sim:
                return await self._with_simulator(root, sim, made)

    async def _with_simulator(self, root: Path, sim: Simulator, made: GeneratedSet) -> int:
        _shop_accounts_for(sim, made)
        settings = self._settings(root, sim)
        dirs = settings.smile.dirs(settings.data_dir)
        dirs.create()
        self._deliver_all(made, dirs)
        self._introduce(root, sim, made, dirs)
        daemon = Daemon(settings)
        await daemon.start()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, self._stop.set)
        try:
            return await self._cycles(daemon, sim, made, dirs)
        finally:
            loop.remove_signal_handler(signal.SIGINT)
            await daemon.shutdown()

    def _settings(self, root: Path, sim: Simulator) -> Settings:
        # The demo triggers every cycle itself (--interval apart); the jobs' own schedule only starts them once, and
        # the inbox watcher stays off: its run would take the cycle's new files before the demo's own run, whose
        # report then shows nothing changed.
        interval = max(3600.0, 100 * self.options.interval)
        base = Settings(data_dir=root / "data")
        jobs = {name: {"interval": interval if name in self.jobs else job.interval, "jitter": 0.0,
                       "enabled": name in self.jobs}
                for name, job in base.jobs.items()}
        return Settings(
            data_dir=root / "data", rules_dir=root / "rules", cscart=sim.client_settings(),
            http={"port": 0}, log={"level": "INFO", "format": "json"}, jobs=jobs,
            dispatch={"idle_poll": 0.1}, smile={"stable_seconds": 0.0, "watch_inbox": False},
        )

    def _introduce(self, root: Path, sim: Simulator, made: GeneratedSet, dirs: SmileDirs) -> None:
        self.out(_("bridge demo — working folder {root}").format(root=root))
        self.out("  " + _("CS-Cart simulator: {url}/api/2.1/ with {products} products (product_code {first}…{last}) "
                          "and {users} customer accounts (e-mail addresses as in SMILE's 得意先)").format(
            url=sim.url, products=len(sim.state.products), first=FIRST_CODE + 1,
            last=FIRST_CODE + len(sim.state.products), users=len(sim.state.users)))
        self.out("  " + _("SMILE folder: {folder} — generated {products} products ({first}…{last}), {customers} "
                          "customers, {stock} stock rows").format(
            folder=dirs.inbox.parent, products=len(made.products), first=FIRST_CODE,
            last=FIRST_CODE + len(made.products) - 1, customers=len(made.customers), stock=len(made.stock)))
        self.out("  " + _("{code} is not in CS-Cart yet: the products job creates it, its prices and stock follow on "
                          "their next run").format(code=FIRST_CODE))
        cycles = (_("{count} cycle(s)").format(count=self.options.cycles) if self.options.cycles
                  else _("until Ctrl-C"))
        self.out("  " + _("a cycle every {interval:g} s ({cycles}): SMILE files change, then the jobs {jobs} run "
                          "and CS-Cart gets what changed").format(
            interval=self.options.interval, cycles=cycles, jobs=", ".join(self.jobs)))
        keep = "" if self.options.keep else " " + _("(--keep DIR keeps it)")
        self.out("  " + _("daemon log: {path}").format(path=root / LOG_FILE) + keep)
        if not self.options.details:
            self.out("  " + _("one line per cycle: per job changed/read → queued writes; --details shows more"))

    # ---- cycles --------------------------------------------------------------------------------------------------

    async def _cycles(self, daemon: Daemon, sim: Simulator, made: GeneratedSet, dirs: SmileDirs) -> int:
        cycle = 0
        mark = 0
        cycle_started = time.monotonic()
        while not self._stop.is_set():
            cycle += 1
            changes: list[str] = []
            if cycle > 1:
                # a cycle every --interval seconds, start to start, as printed (the first one, the initial sync,
                # counts from its end): wait out the rest, then change the SMILE files and run the jobs
                rest = self.options.interval - (time.monotonic() - cycle_started)
                if rest > 0 and await self._stopped_within(rest):
                    break
                cycle_started = time.monotonic()
                changes = self._change(cycle, sim, made, dirs)
                for name in self.jobs:
                    daemon.scheduler.trigger(name)
            began = utcnow()
            started = {name: daemon.scheduler.coordinators[name].runs + int(daemon.scheduler.coordinators[name].running)
                       for name in self.jobs}
            if not await self._wait_for_cycle(daemon, started):
                break
            writes = list(sim.requests)[mark:]
            mark += len(writes)
            figures = self._figures()
            if self.options.details:
                self.out("")
                if changes:
                    self.out(_("changes before cycle {cycle}:").format(cycle=cycle))
                    self.out("\n".join(f"  {line}" for line in changes))
                self.out(_("cycle {cycle} ({time}):").format(cycle=cycle, time=format_local(began, seconds=True)))
                for line in self._detail_lines(figures):
                    self.out(f"  {line}")
                self.out("  " + _("CS-Cart received: {writes}").format(writes=describe_writes(writes)))
            else:
                self.out(self._compact_line(cycle, began, figures, writes))
            if cycle == 1:
                cycle_started = time.monotonic()
            if self.options.cycles is not None and cycle >= self.options.cycles:
                break
        self.out(_("demo finished after {count} cycle(s).").format(count=cycle))
        return 0

    async def _stopped_within(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)
        except TimeoutError:
            return False
        return True

    async def _wait_for_cycle(self, daemon: Daemon, started: dict[str, int]) -> bool:
        """Until every job has finished a run begun after the changes and the outbox has nothing due."""
        assert daemon.store is not None
        while not self._stop.is_set():
            self._collect(daemon)
            coordinators = daemon.scheduler.coordinators
            done = all(coordinators[n].runs > started[n] and not coordinators[n].running for n in self.jobs)
            if done:
                row = await daemon.store.fetchone(
                    "SELECT COUNT(*) FROM outbox WHERE state = 'in_flight' OR (state = 'pending' "
                    "AND next_attempt_at <= ?)", (time.time(),))
                if row is not None and row[0] == 0:
                    return True
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=0.1)
            except TimeoutError:
                pass
        return False

    def _collect(self, daemon: Daemon) -> None:
        for name in self.jobs:
            coordinator = daemon.scheduler.coordinators[name]
            if coordinator.runs == self.tally.seen_runs.get(name, 0) or coordinator.running:
                continue
            self.tally.seen_runs[name] = coordinator.runs
            if coordinator.last_exception is not None:
                self.tally.errors.setdefault(name, []).append(f"{type(coordinator.last_exception).__name__}: "
                                                              f"{coordinator.last_exception}")
            elif isinstance(coordinator.last_result, JobResult):
                self.tally.results.setdefault(name, []).append(coordinator.last_result)

    def _figures(self) -> list[JobFigures]:
        """Each job's runs since the last report, added up (several runs add their reads too: changed ≤ read)."""
        figures = []
        for name in self.jobs:
            results = self.tally.results.pop(name, [])
            figures.append(JobFigures(
                name, read=sum(r.read for r in results), changed=sum(r.changed for r in results),
                queued=sum(r.enqueued for r in results),
                notes=[n for r in results for n in r.notes if _worth_saying(n)],
                errors=self.tally.errors.pop(name, [])))
        return figures

    def _detail_lines(self, figures: list[JobFigures]) -> list[str]:
        lines = []
        for job in figures:
            line = f"{job.name:<10} " + _("read {read}, changed {changed}, queued for CS-Cart {queued}").format(
                read=job.read, changed=job.changed, queued=job.queued)
            if job.notes:
                line += f" — {job.notes[0]}"
            lines.append(line)
            lines.extend(f"{'':<10} " + _("failed: {error}").format(error=error) for error in job.errors[:1])
        return lines

    def _compact_line(self, cycle: int, began: Any, figures: list[JobFigures], writes: list[Any]) -> str:
        """``cycle 2 01:19:05 JST  stock 4/20→4 · prices 3/20→3 · … · CS-Cart: 5 writes``"""
        parts = []
        for job in figures:
            part = f"{job.name} {job.changed}/{job.read}→{job.queued}"
            if job.errors:
                part += " " + _("FAILED")
            parts.append(part)
        sent = sum(1 for request in writes if request.method != "GET")
        return (_("cycle {cycle}").format(cycle=cycle) + f" {format_local(began, seconds=True)[11:]}  "
                + " · ".join(parts) + "  " + _("CS-Cart: {count} write(s)").format(count=sent))

    # ---- what changes between cycles ------------------------------------------------------------------------------

    def _change(self, cycle: int, sim: Simulator, made: GeneratedSet, dirs: SmileDirs) -> list[str]:
        said: list[str] = []
        stocked = sorted({level.product_code for level in made.stock} - {str(FIRST_CODE)})
        picked = self.rng.sample(stocked, min(5, max(0, len(stocked) - 1)))  # one stays for the hand edit
        changes = {code: self.rng.choice((0, 3, 25, 120, 800)) for code in picked}
        rewrite_stock(made.paths["stock"], changes)
        _deliver(made.paths["stock"], dirs, "stock", cycle)
        said.append(_("SMILE stock (現在庫数量): {changes}").format(
            changes=", ".join(f"{c} → {q}" for c, q in changes.items()) or _("no change")))
        if "prices" in self.jobs or "products" in self.jobs:
            said.append(_("SMILE prices (標準売上単価): {changes}").format(
                changes=self._change_prices(made, dirs, cycle)))
        if "customers" in self.jobs:
            said.append(_("SMILE 得意先 (単価ランク): {change}").format(change=self._change_rank(made, dirs, cycle)))
        untouched = [code for code in stocked if code not in changes]
        if "drift" in self.jobs and cycle == 2 and untouched:
            product = sim.state.products[int(self.rng.choice(untouched)) - FIRST_CODE]
            product.amount += 1000
            said.append(_("by hand in CS-Cart: product {code} amount set to {amount} (the drift check puts the "
                          "bridge's figure back)").format(code=product.product_code, amount=product.amount))
        return said

    def _change_prices(self, made: GeneratedSet, dirs: SmileDirs, cycle: int) -> str:
        path = made.paths["products"]
        layout = layouts_for(SmileSettings(), None)["products"]
        products = read_file(path, "products", layout=layout).records
        fresh = [index for index, product in enumerate(products) if product.code not in self._raised]
        picks = self.rng.sample(fresh, min(3, len(fresh)))  # a price is raised once, never again every cycle
        self._raised.update(products[index].code for index in picks)
        described = []
        for index in picks:
            product = products[index]
            new = ((product.standard_price or Decimal(100)) * Decimal("1.1")).quantize(Decimal(1))
            products[index] = product._replace(standard_price=new)
            described.append(f"{product.code} {product.standard_price} → {new}")
        write_records(path, "products", products, layout=layout)
        _deliver(path, dirs, "products", cycle)
        return ", ".join(described) or _("no change")

    def _change_rank(self, made: GeneratedSet, dirs: SmileDirs, cycle: int) -> str:
        """Move one customer to another price rank: its usergroup membership moves in CS-Cart."""
        path = made.paths["customers"]
        layout = layouts_for(SmileSettings(), None)["customers"]
        customers = read_file(path, "customers", layout=layout).records
        index = self.rng.randrange(len(customers))
        customer = customers[index]
        rank = self.rng.choice([r for r in (1, 2, 3, 4, 5) if r != customer.price_rank])
        customers[index] = replace(customer, price_rank=rank)
        write_records(path, "customers", customers, layout=layout)
        _deliver(path, dirs, "customers", cycle)
        before = f"ランク{customer.price_rank}" if customer.price_rank else _("no rank")
        return f"{customer.code} {before} → ランク{rank}"

    def _deliver_all(self, made: GeneratedSet, dirs: SmileDirs) -> None:
        for file_type, path in made.paths.items():
            _deliver(path, dirs, file_type, 1)


def _log_to(stream: Any) -> None:
    """The daemon's structured log (and the standard library's) into the working folder's log file."""
    configure("INFO", "json", stream=stream)
    logging.basicConfig(level=logging.INFO, stream=stream, format="%(levelname)s %(name)s %(message)s", force=True)


def _shop_accounts_for(sim: Simulator, made: GeneratedSet) -> None:
    """Give the simulator's customers the generated 得意先's e-mail addresses (one account per 得意先), as a shop
    whose customers registered with the address SMILE has; the customers job matches them by that address."""
    for user, customer in zip(sorted(sim.state.users.values(), key=lambda u: u.user_id), made.customers,
                              strict=False):
        user.email = customer.email


def _deliver(path: Path, dirs: SmileDirs, file_type: str, cycle: int) -> None:
    """Copy an export into the inbox under a new name, then its NAME.done sentinel (as SMILE's export job does)."""
    stem, dot, suffix = path.name.partition(".")
    target = dirs.inbox / f"{stem}_{cycle:03d}{dot}{suffix}"
    shutil.copy(path, target)
    target.with_name(target.name + ".done").touch()


def _worth_saying(note: str) -> bool:
    """Not the routine notes (the dispatcher's tally, no stock file yet), in whichever language they were said."""
    routine = (_("delivered {done}, retry later {retried}, dead {dead}"),
               _("no SMILE stock file yet (looking for {pattern} in {inbox})"))
    return not note.startswith(tuple(text.split("{", 1)[0] for text in routine))


def describe_writes(requests: list[Any]) -> str:
    """The simulator's request log as plain words: which kinds of writes arrived, how many."""
    kinds: Counter[str] = Counter()
    for request in requests:
        if request.method == "GET":
            continue
        body = request.json() if request.body else {}
        if request.entity == "products" and request.method == "PUT":
            keys = set(body or {})
            if keys == {"amount"}:
                kinds["stock"] += 1
            elif keys & {"price", "prices"}:
                kinds["price"] += 1
            else:
                kinds["product"] += 1
        elif request.entity == "products" and request.method == "POST":
            kinds["product_created"] += 1
        elif request.entity == "users" and "/usergroups/" in request.path:
            kinds["membership"] += 1
        elif request.entity == "users" and request.method == "PUT":
            kinds["customer"] += 1
        elif request.entity == "usergroups" and request.method == "POST":
            kinds["usergroup_created"] += 1
        else:
            kinds[f"{request.method} {request.entity}"] += 1
    if not kinds:
        return _("no writes")
    return ", ".join(_kind_text(kind, count) for kind, count in kinds.most_common())


def _kind_text(kind: str, count: int) -> str:
    """``3 stock writes``, ``1 product created`` … in the operator's language."""
    if kind == "stock":
        text = ngettext("{count} stock write", "{count} stock writes", count)
    elif kind == "price":
        text = ngettext("{count} price write", "{count} price writes", count)
    elif kind == "product":
        text = ngettext("{count} product update", "{count} product updates", count)
    elif kind == "product_created":
        text = ngettext("{count} product created", "{count} products created", count)
    elif kind == "membership":
        text = ngettext("{count} usergroup membership", "{count} usergroup memberships", count)
    elif kind == "customer":
        text = ngettext("{count} customer update", "{count} customer updates", count)
    elif kind == "usergroup_created":
        text = ngettext("{count} usergroup created", "{count} usergroups created", count)
    else:
        return f"{count} {kind}"  # an unexpected request, named by its method and entity
    return text.format(count=count)


async def run_demo(options: DemoOptions, out: Callable[[str], None] = print) -> int:
    return await Demo(options, out).run()
