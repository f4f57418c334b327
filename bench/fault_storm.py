"""Fault storm (issue 13): the catalog and orders jobs together against a CS-Cart that fails 20 % of requests.

One scripted scenario (seeded: the same SMILE files, the same orders, in the same order) runs twice, each against its
own simulator (with the smile_bridge add-on) and state folder: once clean, once with every fault kind the simulator
knows injected into ``--rate`` of all API requests (500, 429, connection reset before the request is handled,
reset after it was handled, i.e. after the write, and an answer so slow the client times out after the write).
Each round delivers a changed SMILE 在庫 file and new orders, then runs the stock, prices and orders jobs and one
dispatch round, in this process, with the shipped rules (this store's status letters) and shortened retry delays.
After the last round the faults stop and the jobs and the dispatcher run until the outbox is empty.

Prints and records (``--out``): final-state differences from the clean run (CS-Cart amounts, prices, order statuses,
orders in 受注 files), dead letters, extra writes, and extra customer-visible status changes. Goal: 0 of each but
extra writes (retries of writes whose answer was lost are expected; they must be the same value).

    python bench/fault_storm.py --rounds 12 --out bench/results/fault_storm.md
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from collections import Counter, deque
from pathlib import Path
from typing import Any

from crash_storm import store_rules  # bench/ is on sys.path when this script runs
from report import write

from bridge.cli.in_process import in_process
from bridge.config import Settings
from bridge.logging import configure
from bridge.cscart.simulator import FaultConfig, FaultRule, Simulator, run_simulator
from bridge.smile.generator import generate, rewrite_stock
from bridge.smile.reader import read_file
from bridge.store import bindings
from bridge.store import outbox as ob
from bridge.sync import RunOptions, registered_jobs
from bridge.sync.base import NoProgress

JOBS = ("stock", "prices", "orders")
RETRIES = {"short_attempts": 2, "short_initial": 0.05, "short_max": 0.2, "long_initial": 0.2, "long_max": 1.0,
           "max_attempts": 8}


def fault_rules(rate: float) -> list[FaultRule]:
    share = rate / 6  # every kind the simulator knows, equally often
    return [
        FaultRule(kind="error", status=500, rate=share),
        FaultRule(kind="error", status=429, rate=share),
        FaultRule(kind="reset", rate=share),
        FaultRule(kind="reset_after", rate=share),
        FaultRule(kind="slow_body", slow_body_ms=400, rate=share),  # 8 chunks × 0.4 s > the 1.5 s client timeout
        FaultRule(kind="error", status=503, rate=share),
    ]


def settings_for(folder: Path, sim: Simulator) -> Settings:
    client = sim.client_settings(timeout=1.5).model_dump()
    client["api_key"] = sim.api_key
    return Settings(
        data_dir=folder / "data", rules_dir=store_rules(folder),
        cscart=client, http={"port": 0}, log={"level": "ERROR", "format": "json"},
        smile={"stable_seconds": 0}, orders={"initial_lookback_hours": 24, "unbound_product_wait_seconds": 1800},
        dispatch={"idle_poll": 0.05, "retry": RETRIES},
    )


def deliver(source: Path, inbox: Path, name: str) -> None:
    inbox.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, inbox / name)
    (inbox / (name + ".done")).touch()


async def record_success(store: Any, job: str) -> None:
    """What the daemon's scheduler records after a successful run (the orders job reads it for late bindings)."""
    from bridge.domain.time import iso, utcnow

    async with store.transaction() as tx:
        await tx.execute("INSERT INTO job_state (job, last_success_at, runs, failures) VALUES (?, ?, 1, 0) "
                         "ON CONFLICT (job) DO UPDATE SET last_success_at = excluded.last_success_at", (job, iso(utcnow())))


async def scenario(folder: Path, args: argparse.Namespace, faulty: bool) -> dict[str, Any]:
    rng = random.Random(args.seed)
    made = generate(folder / "smile_export", products=args.products, customers=5, seed=args.seed)
    faults = FaultConfig(seed=args.seed)
    async with run_simulator(products=args.products + 1, users=20, orders=0, seed=args.seed, addon=True,
                             faults=faults) as sim:
        sim.requests.entries = deque(maxlen=5_000_000)
        for product in sim.state.products.values():
            product.amount = 100_000
        settings = settings_for(folder, sim)
        dirs = settings.smile.dirs(settings.data_dir)
        dirs.create()
        failures = Counter()
        async with in_process(settings) as run:
            async with run.context.store.transaction() as tx:  # SMILE's customers (the customers job's binding)
                for user_id in sim.state.users:
                    await bindings.bind(tx, "cscart", "user", str(user_id), "smile", "customer", f"{100000 + user_id}")
            deliver(made.paths["products"], dirs.inbox, "products_000.csv")
            if faulty:
                faults.rules = fault_rules(args.rate)
            codes = sorted(lv.product_code for lv in read_file(made.paths["stock"], "stock").records)
            rewrite_stock(made.paths["stock"], dict.fromkeys(codes, 5000))  # stocked: orders are never Backordered
            placed: list[int] = []
            for round_no in range(1, args.rounds + 1):
                rewrite_stock(made.paths["stock"], {c: rng.randint(1000, 5000) for c in rng.sample(codes, 10)})
                deliver(made.paths["stock"], dirs.inbox, f"stock_{round_no:03d}.csv")
                for _ in range(args.orders):
                    product = rng.randint(1, min(args.products, 40))
                    placed.append(sim.state.place_order(user_id=rng.randint(1, 19),
                                                        lines=[(product, rng.randint(1, 3))]).order_id)
                for name in JOBS:
                    try:
                        await registered_jobs()[name].factory(run.context).run(RunOptions(progress=NoProgress()))
                        if name in ("stock", "prices"):
                            await record_success(run.context.store, name)
                    except Exception as exc:  # noqa: BLE001 - a job failing under faults runs again next round
                        failures[f"{name}: {type(exc).__name__}"] += 1
                await run.dispatcher.drain_all(max_batches=3)
            faults.rules = []
            for _ in range(30):  # settle: no faults, until nothing is left to do
                for name in JOBS:
                    await registered_jobs()[name].factory(run.context).run(RunOptions(progress=NoProgress()))
                await asyncio.sleep(RETRIES["long_max"] * 1.3)
                await run.dispatcher.drain_all()
                async with run.context.store.transaction() as tx:
                    depth = await ob.depth_by_state(tx)
                if depth[ob.PENDING] == 0 and depth[ob.IN_FLIGHT] == 0:
                    break
            async with run.context.store.transaction() as tx:
                depth = await ob.depth_by_state(tx)
                dead = await ob.dead_letters(tx)
        files = sorted(dirs.outbox.glob("juchu_*.csv"))
        exported = Counter(int(row["オーダー№"]) for path in files
                           for row in {tuple(r.items()) for r in csv.DictReader(
                               io.StringIO(path.read_bytes().decode("cp932")))} for row in [dict(row)])
        puts = Counter((r.entity, r.method) for r in sim.requests if r.method in ("PUT", "POST"))
        names = {500: "500", 503: "503", 429: "429", -1: "reset before handling", -2: "reset after the write"}
        injected = Counter(f"{r.method} {names[r.status]}" for r in sim.requests if r.status in names)
        injected["requests in all"] = len(sim.requests)
        visible = Counter(n.order_id for n in sim.state.notifications if n.to_customer)
        transitions = Counter(n.order_id for n in sim.state.notifications)
        return {
            "amounts": {p.product_id: p.amount for p in sim.state.products.values()},
            "prices": {p.product_id: (p.price, tuple(p.tiers or ())) for p in sim.state.products.values()},
            "statuses": {o: sim.state.orders[o].status for o in placed},
            "exported": exported, "dead": dead, "depth": depth, "writes": puts, "visible": visible,
            "transitions": transitions, "failures": failures, "placed": placed, "injected": injected,
        }


def diff(clean: dict[Any, Any], faulty: dict[Any, Any]) -> list[Any]:
    return sorted(k for k in set(clean) | set(faulty) if clean.get(k) != faulty.get(k))


async def main_async(args: argparse.Namespace) -> str:
    root = Path(tempfile.mkdtemp(prefix="fault_storm_"))
    started = time.monotonic()
    clean = await scenario(root / "clean", args, faulty=False)
    clean_seconds = time.monotonic() - started
    faulty = await scenario(root / "faulty", args, faulty=True)
    faulty_seconds = time.monotonic() - started - clean_seconds
    amounts, prices = diff(clean["amounts"], faulty["amounts"]), diff(clean["prices"], faulty["prices"])
    statuses = diff(clean["statuses"], faulty["statuses"])
    exported = diff(dict(clean["exported"]), dict(faulty["exported"]))
    extra_visible = {o: faulty["visible"][o] - clean["visible"].get(o, 0) for o in faulty["visible"]
                     if faulty["visible"][o] > clean["visible"].get(o, 0)}
    extra_transitions = {o: faulty["transitions"][o] - clean["transitions"].get(o, 0) for o in faulty["transitions"]
                         if faulty["transitions"][o] > clean["transitions"].get(o, 0)}
    writes = {f"{e} {m}": (clean["writes"].get((e, m), 0), n) for (e, m), n in sorted(faulty["writes"].items())}
    figures = {
        "rounds / orders placed": f"{args.rounds} / {len(faulty['placed'])}",
        "CS-Cart amounts differing from the clean run": len(amounts),
        "CS-Cart prices differing from the clean run": len(prices),
        "order statuses differing from the clean run": len(statuses),
        "orders in 受注 files differing from the clean run (missing or twice)": len(exported),
        "final CS-Cart statuses of the placed orders (clean)": dict(Counter(clean["statuses"].values())),
        "final CS-Cart statuses of the placed orders (faulty)": dict(Counter(faulty["statuses"].values())),
        "dead letters (clean / faulty)": f"{len(clean['dead'])} / {len(faulty['dead'])}",
        "outbox left pending or in flight (faulty)": faulty["depth"][ob.PENDING] + faulty["depth"][ob.IN_FLIGHT],
        "extra customer-visible status changes": sum(extra_visible.values()),
        "extra status changes of any kind": sum(extra_transitions.values()),
        "faults injected (from the simulator's request log; slow answers are not counted)": dict(faulty["injected"]),
        "job runs that failed under faults": dict(faulty["failures"]),
        "wall time clean / faulty (s)": f"{clean_seconds:.0f} / {faulty_seconds:.0f}",
    }
    goal = not (amounts or prices or statuses or exported or faulty["dead"] or extra_visible)
    lines = [
        "# Fault storm (issue 13)",
        "",
        f"`{' '.join(['python', 'bench/fault_storm.py', *sys.argv[1:]])}` — "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()}, {os.cpu_count()} CPUs (shared), "
        f"Python {platform.python_version()}",
        "",
        f"{int(args.rate * 100)} % of all CS-Cart API requests fail (500, 503, 429, reset before handling, reset after "
        "handling = after the write, answer slower than the client timeout = timeout after the write), stock + "
        "prices + orders jobs and the dispatcher in one process, shipped rules with this store's letters; compared "
        "with the same scenario without faults.",
        "",
        "| figure | value |",
        "|---|---|",
        *[f"| {name} | {value} |" for name, value in figures.items()],
        "",
        "Writes (PUT/POST) per entity, clean → faulty (the extra ones repeat writes whose answer was lost):",
        "",
        "| entity, method | clean | faulty |",
        "|---|---|---|",
        *[f"| {name} | {c} | {f} |" for name, (c, f) in writes.items()],
        "",
        f"Goal (no final-state difference, no dead letter, no extra customer-visible status change): "
        f"**{'met' if goal else 'NOT met'}**",
    ]
    if not goal:
        lines += ["", f"amounts: {amounts[:10]}", f"prices: {prices[:10]}", f"statuses: {statuses[:10]}",
                  f"exported: {exported[:10]}", f"extra visible: {dict(list(extra_visible.items())[:10])}",
                  f"dead: {[(d.id, d.op, d.key, d.last_error) for d in faulty['dead'][:5]]}"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--orders", type=int, default=15, help="orders placed per round")
    parser.add_argument("--products", type=int, default=120)
    parser.add_argument("--rate", type=float, default=0.20, help="share of API requests that fail")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    configure("ERROR", "console")
    write(asyncio.run(main_async(args)), args.out)


if __name__ == "__main__":
    main()
