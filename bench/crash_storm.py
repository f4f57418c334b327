"""Crash storm (issue 13): random SIGKILLs of ``bridge run`` under a steady order stream.

The CS-Cart simulator (with the smile_bridge add-on, so the shipped rules/order_flow.yaml letters exist) runs in this
process and takes orders at a steady rate the whole time. ``bridge run`` (a real subprocess, the shipped rules, the
orders job every second) is started and SIGKILLed at a random moment, ``--kills`` times; then it runs once more,
undisturbed, until every order is exported and the outbox is empty, and is stopped with SIGTERM.

Prints and records (``--out``): orders placed / exported / exported twice / lost, status PUTs per order and per
transition (max and mean), and outbox rows stuck pending or in flight.
Goal: 0 lost, 0 exported twice, 0 stuck, at most 2 status PUTs per order per transition.

    python bench/crash_storm.py --kills 220 --out bench/results/crash_storm.md
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import platform
import random
import signal
import sqlite3
import sys
import tempfile
import time
from collections import Counter, defaultdict, deque
from pathlib import Path

from report import write  # bench/ is on sys.path when this script runs

from bridge.config import JobsSettings
from bridge.cscart.simulator import Simulator, run_simulator
from bridge.store import Store, bindings

ROOT = Path(__file__).resolve().parents[1]


# The letters the add-on created on this store (the simulator's, as `bridge addon` reports them), put into a copy of the
# shipped rules as an operator does after installing the add-on; everything else in rules/ is used as shipped.
STORE_LETTERS = {"[H]": "[A]", "[J]": "[E]", "[S]": "[G]", "[W]": "[H]"}


def store_rules(folder: Path) -> Path:
    target = folder / "rules"
    target.mkdir(parents=True, exist_ok=True)
    for source in (ROOT / "rules").glob("*.yaml"):
        text = source.read_text(encoding="utf-8")
        if source.name == "order_flow.yaml":
            lines = []
            for line in text.splitlines(keepends=True):
                if line.strip().startswith("letters:"):
                    for shipped, local in STORE_LETTERS.items():
                        if shipped in line:
                            line = line.replace(shipped, local)
                            break
                lines.append(line)
            text = "".join(lines)
        (target / source.name).write_text(text, encoding="utf-8")
    return target


def write_config(folder: Path, sim: Simulator) -> Path:
    jobs = {name: {"enabled": name == "orders", "interval": 1.0, "jitter": 0.0} for name in JobsSettings.model_fields}
    config = folder / "bridge.yaml"
    config.write_text(json.dumps({
        "data_dir": str(folder / "data"), "rules_dir": str(store_rules(folder)),
        "cscart": {"url": sim.url, "email": sim.email, "timeout": 10},
        "http": {"host": "127.0.0.1", "port": 0},
        "log": {"level": "INFO", "format": "json"},
        "orders": {"initial_lookback_hours": 24},
        "dispatch": {"idle_poll": 0.05},
        "jobs": jobs,
    }), encoding="utf-8")
    return config


async def bind_catalog(state_path: Path, sim: Simulator) -> None:
    """SMILE knows every product and every customer (what the products and customers jobs would bind)."""
    store = await Store.open(state_path)
    try:
        async with store.transaction() as tx:
            for product in sim.state.products.values():
                await bindings.bind(tx, "cscart", "product", str(product.product_id), "smile", "product",
                                    product.product_code)
            for user_id in sim.state.users:
                await bindings.bind(tx, "cscart", "user", str(user_id), "smile", "customer", f"{100000 + user_id}")
    finally:
        await store.close()


async def order_stream(sim: Simulator, rng: random.Random, rate: float, placed: list[int],
                       stop: asyncio.Event) -> None:
    users = sorted(sim.state.users)
    products = sorted(sim.state.products)[:40]
    while not stop.is_set():
        order = sim.state.place_order(user_id=rng.choice(users), lines=[(rng.choice(products), rng.randint(1, 3))])
        placed.append(order.order_id)
        await asyncio.sleep(rng.expovariate(rate))


async def start(config: Path, sim: Simulator, log: Path) -> tuple[asyncio.subprocess.Process, asyncio.Event,
                                                                   asyncio.Task[None]]:
    """``bridge run``; the event is set once it logged ``daemon.started`` (its output is appended to ``log``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    env["BRIDGE_CSCART__API_KEY"] = sim.api_key
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bridge", "run", "--config", str(config),
                                                   cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.STDOUT)
    started = asyncio.Event()

    async def copy() -> None:
        assert process.stdout is not None
        with log.open("ab") as out:
            async for line in process.stdout:
                out.write(line)
                if b"daemon.started" in line:
                    started.set()

    return process, started, asyncio.create_task(copy())


def exported_per_file(outbox: Path) -> list[list[int]]:
    files = []
    for path in sorted(outbox.glob("juchu_*.csv")):
        rows = csv.DictReader(io.StringIO(path.read_bytes().decode("cp932")))
        files.append(sorted({int(row["オーダー№"]) for row in rows}))
    return files


def outbox_states(state_path: Path) -> dict[str, int]:
    with sqlite3.connect(state_path) as db:
        return dict(db.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall())


def storm_evidence(state_path: Path, log: Path) -> dict[str, int]:
    """How much the kills hit: 受注 batches written, status writes a killed dispatcher held, recovery checks."""
    with sqlite3.connect(state_path) as db:
        batches = db.execute("SELECT COUNT(*) FROM order_export_batches").fetchone()[0]
        recovered = db.execute("SELECT COUNT(*) FROM outbox WHERE recovered = 1").fetchone()[0]
    text = log.read_text(encoding="utf-8", errors="replace")
    return {"受注 batches written": batches, "status writes taken back from a killed dispatcher": recovered,
            "daemon starts logged": text.count('"daemon.started"'),
            "batches finished after a kill (orders.batch_recovered)": text.count("batch_recovered")}


async def run(args: argparse.Namespace) -> str:
    rng = random.Random(args.seed)
    folder = Path(tempfile.mkdtemp(prefix="crash_storm_"))
    log = folder / "daemon.log"
    started_at = time.monotonic()
    async with run_simulator(products=60, users=20, orders=0, seed=args.seed, addon=True) as sim:
        sim.requests.entries = deque(maxlen=5_000_000)  # keep every request of the storm
        for product in sim.state.products.values():
            product.amount = 1_000_000  # orders are placed as O, never Backordered for want of stock
        config = write_config(folder, sim)
        await bind_catalog(folder / "data" / "state.sqlite3", sim)
        placed: list[int] = []
        stop = asyncio.Event()
        stream = asyncio.create_task(order_stream(sim, rng, args.rate, placed, stop))
        kills = 0
        budget_end = time.monotonic() + args.minutes * 60 if args.minutes else None
        for _ in range(args.kills):
            if budget_end is not None and time.monotonic() > budget_end:
                print(f"  time budget of {args.minutes} min used up after {kills} kills", flush=True)
                break
            daemon, ready, copying = await start(config, sim, log)
            try:  # kill it at a random moment of its work, not while Python is still importing
                await asyncio.wait_for(ready.wait(), timeout=60)
            except TimeoutError:
                pass
            await asyncio.sleep(rng.uniform(args.min_life, args.max_life))
            if daemon.returncode is None:
                daemon.send_signal(signal.SIGKILL)
                kills += 1
            await daemon.wait()
            await copying
            if kills % 20 == 0:
                print(f"  {kills} kills, {len(placed)} orders placed", flush=True)
        stop.set()
        await stream
        storm_seconds = time.monotonic() - started_at

        final, _, final_copying = await start(config, sim, log)
        deadline = time.monotonic() + args.settle
        state_path = folder / "data" / "state.sqlite3"
        while time.monotonic() < deadline:
            await asyncio.sleep(1.0)
            done = all(sim.state.orders[o].status == "E" for o in placed)
            states = outbox_states(state_path)
            if done and not states.get("pending") and not states.get("in_flight"):
                break
        final.send_signal(signal.SIGTERM)
        await final.wait()
        await final_copying

        per_file = exported_per_file(folder / "data" / "smile" / "outbox")
        rows = Counter(order_id for ids in per_file for order_id in ids)
        exported = set(rows)
        twice = sorted(order_id for order_id, n in rows.items() if n > 1)
        lost = sorted(set(placed) - exported)
        puts: dict[int, Counter[str]] = defaultdict(Counter)
        for request in sim.requests.where(method="PUT", entity="orders"):
            order_id = int(request.path.rstrip("/").rsplit("/", 1)[1])
            puts[order_id][str((request.json() or {}).get("status"))] += 1
        per_order = [sum(puts[o].values()) for o in placed]
        per_transition = [n for o in placed for n in puts[o].values()]
        not_final = sorted(o for o in placed if sim.state.orders[o].status != "E")
        states = outbox_states(state_path)
        stuck = states.get("pending", 0) + states.get("in_flight", 0)
        status_letters = Counter(sim.state.orders[o].status for o in placed)
        evidence = storm_evidence(state_path, log)

    figures = {
        "SIGKILLs": kills,
        "storm duration (s)": round(storm_seconds),
        "orders placed (status O)": len(placed),
        "orders exported (in a 受注 file)": len(exported & set(placed)),
        "orders exported twice": len(twice),
        "orders lost": len(lost),
        "orders not at 出荷指示 (E) in CS-Cart": len(not_final),
        "status PUTs per order: max": max(per_order, default=0),
        "status PUTs per order: mean": round(sum(per_order) / max(1, len(per_order)), 3),
        "status PUTs per order per transition: max": max(per_transition, default=0),
        "status PUTs per order per transition: mean": round(sum(per_transition) / max(1, len(per_transition)), 3),
        "orders with more than one PUT of the same status": sum(1 for n in per_transition if n > 1),
        "outbox rows stuck (pending + in flight)": stuck,
        "outbox rows by state": dict(states),
        **evidence,
        "CS-Cart status of the placed orders": dict(status_letters),
    }
    goal_met = (not lost and not twice and not stuck and max(per_transition, default=0) <= 2
                and kills >= 200)
    lines = [
        "# Crash storm (issue 13)",
        "",
        f"`{' '.join(['python', 'bench/crash_storm.py', *sys.argv[1:]])}` — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{platform.node()}, {os.cpu_count()} CPUs (shared), Python {platform.python_version()}",
        "",
        f"`bridge run` (shipped rules with this store's status letters, orders job every 1 s) SIGKILLed {kills} times, "
        f"each a random {args.min_life}–{args.max_life} s after it logged `daemon.started`, while the simulator took "
        f"~{args.rate} orders/s; then one "
        "undisturbed run until every order was exported and the outbox was empty.",
        "",
        "| figure | value |",
        "|---|---|",
        *[f"| {name} | {value} |" for name, value in figures.items()],
        "",
        f"Goal (≥ 200 kills, 0 lost, 0 exported twice, 0 stuck, ≤ 2 status PUTs per order per transition): "
        f"**{'met' if goal_met else 'NOT met'}**",
    ]
    if twice or lost or not_final:
        lines += ["", f"exported twice: {twice[:20]}", f"lost: {lost[:20]}", f"not at E: {not_final[:20]}"]
    lines += ["", f"Daemon log: {log} (kept for inspection)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=220)
    parser.add_argument("--rate", type=float, default=4.0, help="orders placed per second")
    parser.add_argument("--min-life", type=float, default=0.0, help="shortest life after start-up before the kill, s")
    parser.add_argument("--max-life", type=float, default=3.0, help="longest life after start-up before the kill, s")
    parser.add_argument("--minutes", type=float, default=0.0,
                        help="stop killing after this long even if fewer than --kills (0: no limit); the report "
                             "says how many kills were made")
    parser.add_argument("--settle", type=float, default=180.0, help="limit of the final undisturbed run, s")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    write(asyncio.run(run(args)), args.out)


if __name__ == "__main__":
    main()
