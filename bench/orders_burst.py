"""Benchmark: a burst of orders placed on the CS-Cart simulator, through detection, rules and the SMILE 受注 export,
push-triggered and by polling alone, side by side.

* push: the simulator plays the smile_bridge add-on: every order writes an event and the add-on POSTs its signed
  wake-up to the daemon's /hooks/cscart after the request; the orders job reads the event feed (bridge/sync/
  order_events.py), with the polling safety net behind it;
* polling: no add-on; the orders job polls ``updated_at_from`` with its overlap window every ``--poll-interval``.

The real daemon (``bridge run``) runs in its own process with only the orders job; this process runs the simulator,
places the orders through its storefront endpoint at ``--rate`` per second (the shoppers) and watches the SMILE
outbox. An order's latency is the time from its placement to the moment the 受注 file carrying it appears (the
file's mtime); the burst's wall time runs from the first placement to the last order in a file. Every run also
checks that no order is in two files and that every order ends 出荷指示 in CS-Cart.

    python bench/orders_burst.py [--orders 10000] [--rate 500] [--poll-interval 60] [--base OLDER_CHECKOUT] \
        [--out FILE]

``--base``: a tree holding an older ``bridge/`` (``git archive REF bridge | tar -x -C DIR``); each mode then runs
twice, this tree's code and the base's (daemon and simulator both), one after the other in its own process, the
order turning from mode to mode: an A/B on the same machine minutes apart.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from machine import describe as describe_machine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CODE = [ROOT]  # the tree whose bridge/ the daemon and the simulator run (--tree: an older checkout, for --base)

SECRET = "bench-secret"
USERS = 50
PRODUCTS = 200


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


async def prepare(root: Path, sim: Any, port: int, poll_interval: float) -> Path:
    from bridge.config import JobsSettings
    from bridge.cscart.sim.seed import ORDER_FLOW_YAML
    from bridge.store import Store, bindings

    rules = root / "rules"
    rules.mkdir(parents=True)
    (rules / "order_flow.yaml").write_text(ORDER_FLOW_YAML, encoding="utf-8")
    config = root / "bridge.yaml"
    config.write_text(json.dumps({
        "data_dir": str(root / "data"), "rules_dir": str(rules),
        "cscart": {"url": sim.url, "email": sim.email, "api_key": sim.api_key, "hmac_secret": SECRET, "timeout": 60},
        "http": {"host": "127.0.0.1", "port": port},
        "log": {"level": os.environ.get("BENCH_DAEMON_LOG_LEVEL", "WARNING"), "format": "json"},
        "jobs": {name: {"enabled": name == "orders", "interval": poll_interval, "jitter": 0.0}
                 for name in JobsSettings.model_fields},
        "dispatch": {"idle_poll": 0.05},
        "smile": {"stable_seconds": 0.0},
        # BENCH_DAEMON_ANALYTICS=0: without the analytics feed (diagnosis: what the feed costs the daemon)
        "analytics": {"enabled": os.environ.get("BENCH_DAEMON_ANALYTICS", "1") != "0"},
    }), encoding="utf-8")
    store = await Store.open(root / "data" / "state.sqlite3")
    async with store.transaction() as tx:
        for product in sim.state.products.values():
            await bindings.bind(tx, "cscart", "product", str(product.product_id), "smile", "product",
                                product.product_code)
        for user_id in range(1, USERS + 1):
            await bindings.bind(tx, "cscart", "user", str(user_id), "smile", "customer", f"{100000 + user_id}")
    await store.close()
    return config


async def wait_ready(port: int, daemon: asyncio.subprocess.Process) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            if daemon.returncode is not None:
                raise RuntimeError("the daemon ended at start-up")
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the daemon did not answer /healthz")


def read_files(outbox: Path, seen: dict[str, float], exported: dict[int, float], duplicates: list[int]) -> None:
    for path in outbox.glob("juchu_*.csv"):
        if path.name in seen:
            continue
        at = path.stat().st_mtime
        seen[path.name] = at
        ids = {int(row["オーダー№"]) for row in csv.DictReader(io.StringIO(path.read_bytes().decode("cp932")))}
        for order_id in ids:
            if order_id in exported:
                duplicates.append(order_id)
            exported[order_id] = at


async def shoppers(url: str, orders: int, rate: float, out: Path) -> None:
    """Child process: place ``orders`` at ``rate`` per second through the storefront, each at its due time (a slow
    answer does not hold the next shopper back), and write {order_id: placed_at} to ``out``."""
    import aiohttp

    placed: dict[int, float] = {}
    limit = asyncio.Semaphore(256)
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.time()

        async def shop(n: int) -> None:
            body = {"user_id": 1 + n % USERS, "payment_id": 1, "lines": [
                {"product_id": 1 + n % PRODUCTS, "amount": 1 + n % 3},
                {"product_id": 1 + (n * 7) % PRODUCTS, "amount": 1}]}
            async with limit:
                async with session.post(f"{url}/_sim/orders", json=body) as response:  # a shopper checks out
                    order_id = int((await response.json())["order_id"])
            placed[order_id] = time.time()  # the order exists from the moment the storefront answered

        tasks = []
        for n in range(orders):
            due = started + n / rate if rate > 0 else started
            if due > time.time():
                await asyncio.sleep(due - time.time())
            tasks.append(asyncio.create_task(shop(n)))
        await asyncio.gather(*tasks)
    out.write_text(json.dumps({"placed": placed, "started": started, "done": time.time()}), encoding="utf-8")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def settled_cpu(pid: int, *, quiet: float = 2.0, longest: float = 45.0) -> float:
    """The daemon's CPU once its work after the burst is over (the analytics copy that follows the burst's pause):
    read when it has used under 40 ms a second for ``quiet`` seconds, or after ``longest`` seconds."""
    deadline = time.time() + longest
    last, quiet_since = cpu_seconds(pid), time.time()
    while time.time() < deadline:
        await asyncio.sleep(0.5)
        now = cpu_seconds(pid)
        if now - last > 0.02:
            quiet_since = time.time()
        elif time.time() - quiet_since >= quiet:
            return now
        last = now
    return cpu_seconds(pid)


def burners(count: int) -> list[subprocess.Popen[bytes]]:
    """Processes that only burn CPU (another tenant's test suite), beside the benchmark."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


async def one_mode(mode: str, orders: int, rate: float, poll_interval: float) -> dict[str, Any]:
    from bridge.cscart.simulator import run_simulator

    push = mode.startswith("push")
    load_at_start = os.getloadavg()[0]
    burning = burners(2) if mode.endswith("busy") else []
    with tempfile.TemporaryDirectory(prefix=f"orders-burst-{mode}-") as tmp:
        root = Path(tmp)
        port = free_port()
        async with run_simulator(products=PRODUCTS, users=USERS, orders=0, seed=11, addon=push,
                                 daemon_url=f"http://127.0.0.1:{port}", hmac_secret=SECRET) as sim:
            for product in sim.state.products.values():
                product.amount = 10_000_000
            config = await prepare(root, sim, port, poll_interval)
            env = {**os.environ, "PYTHONPATH": str(CODE[0])}
            log_file = (root / "daemon.log").open("wb")
            profile = os.environ.get("BENCH_DAEMON_PROFILE")  # a cProfile output file for the daemon (diagnosis)
            profiler: list[str] = []
            if profile and os.environ.get("BENCH_DAEMON_PROFILE_CPU"):  # CPU time, not wall time, per function
                profiler = [str(Path(__file__).with_name("cpu_profile.py")), f"{profile}.{mode}", "bridge"]
            elif profile:
                profiler = ["-m", "cProfile", "-o", f"{profile}.{mode}", "-m", "bridge"]
            daemon = await asyncio.create_subprocess_exec(
                sys.executable, *(profiler or ["-m", "bridge"]), "run", "--config", str(config), env=env,
                stdout=asyncio.subprocess.DEVNULL, stderr=log_file)  # a file: a full pipe would stall the daemon
            try:
                await wait_ready(port, daemon)
                await asyncio.sleep(3.0)  # the start-up run (nothing to do) is over
                daemon_cpu_before = cpu_seconds(daemon.pid)
                own_before = os.times()
                outbox = root / "data" / "smile" / "outbox"
                placed: dict[int, float] = {}
                exported: dict[int, float] = {}
                seen: dict[str, float] = {}
                duplicates: list[int] = []
                placed_file = root / "placed.json"
                generator = await asyncio.create_subprocess_exec(
                    sys.executable, __file__, "--shoppers", sim.url, str(orders), str(rate), str(placed_file),
                    env=env)
                started = time.time()
                while generator.returncode is None:
                    read_files(outbox, seen, exported, duplicates)
                    try:
                        await asyncio.wait_for(generator.wait(), timeout=0.2)
                    except TimeoutError:
                        pass
                shopped = json.loads(placed_file.read_text(encoding="utf-8"))
                placed = {int(k): v for k, v in shopped["placed"].items()}
                started, placing_done = shopped["started"], shopped["done"]
                deadline = placing_done + max(600.0, 3 * poll_interval)
                while len(exported) < orders and time.time() < deadline:
                    await asyncio.sleep(0.05)
                    read_files(outbox, seen, exported, duplicates)
                last_export = max(exported.values(), default=time.time())
                while time.time() < deadline and any(sim.state.orders[i].status != "E" for i in placed):
                    await asyncio.sleep(0.2)
                statuses_done = time.time()
                wake_ups = list(sim.state.addon.wake_ups) if push else []
                daemon_cpu = cpu_seconds(daemon.pid) - daemon_cpu_before
                own = os.times()
                simulator_cpu = (own.user - own_before.user) + (own.system - own_before.system)
                daemon_cpu_tail = await settled_cpu(daemon.pid) - daemon_cpu_before
            finally:
                for burner in burning:
                    burner.kill()
                    burner.wait()
                if daemon.returncode is None:
                    daemon.send_signal(signal.SIGTERM)
                await daemon.wait()
                log_file.close()
                err = (root / "daemon.log").read_bytes()
                if os.environ.get("BENCH_DAEMON_LOG"):  # the daemon's log, for diagnosis
                    Path(f"{os.environ['BENCH_DAEMON_LOG']}.{mode}").write_bytes(err)
            latencies = [exported[i] - placed[i] for i in placed if i in exported]
            if os.environ.get("BENCH_DUMP"):  # per-order placement and export times, for diagnosis
                Path(f"{os.environ['BENCH_DUMP']}.{mode}").write_text(json.dumps(
                    {"placed": placed, "exported": exported, "files": seen}), encoding="utf-8")
            return {"load": round(load_at_start, 2),
                "mode": mode, "orders": orders, "rate": rate, "poll_interval": poll_interval,
                "placing_s": placing_done - started, "wall_s": last_export - started,
                "statuses_s": statuses_done - started, "exported": len(exported), "files": len(seen),
                "duplicates": len(duplicates), "not_exported": orders - len(exported),
                "not_instructed": sum(1 for i in placed if sim.state.orders[i].status != "E"),
                "p50": statistics.median(latencies) if latencies else float("nan"),
                "p99": percentile(latencies, 0.99) if latencies else float("nan"),
                "max": max(latencies, default=float("nan")),
                "daemon_errors": err.decode(errors="replace").count('"level": "error"'),
                "wake_ups": len(wake_ups), "wake_ups_refused": sum(1 for w in wake_ups if w != 202),
                "daemon_cpu_s": round(daemon_cpu, 2), "simulator_cpu_s": round(simulator_cpu, 2),
                "daemon_cpu_with_tail_s": round(daemon_cpu_tail, 2),
                "load_end": round(os.getloadavg()[0], 2),
            }


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [
        "# Orders burst: detection → gates → SMILE 受注 file (push-triggered vs polling)", "",
        f"Machine: {describe_machine()}; load average at the end {os.getloadavg()[0]:.1f} (shared machine: other "
        "processes ran beside the benchmark)", "",
        f"Command: `nice -n {os.nice(0)} python bench/orders_burst.py --orders {args.orders} --rate {args.rate:g} "
        f"--poll-interval {args.poll_interval:g} --modes {args.modes}"
        f"{f' --base {args.base}' if args.base else ''}` (the daemon, simulator and shoppers inherit "
        "the niceness)", "",
        "Daemon CPU: user + system CPU of the `bridge run` process from the first order to the last status in CS-Cart "
        "(/proc); with the work after it: until the daemon has been idle for 2 s (the analytics copy that follows "
        "the burst); simulator CPU: this process (the simulator and the outbox watcher) over the same span. Load: "
        "the 1-minute load average at the mode's start.", "",
        f"{args.orders:,} orders placed through the simulator's storefront at {args.rate:g}/s (2 lines each, 掛売, "
        "known customers and products: every order passes the gates). Push: the simulator plays the smile_bridge "
        "add-on (event outbox, signed wake-up to /hooks/cscart after each request); the job reads the event feed. "
        "Polling: no add-on; `updated_at_from` with the 120 s overlap. The real daemon (`bridge run`, orders job only) "
        "runs in its own process, the shoppers in another (each order placed at its due time, 256 at most in flight), "
        "the simulator in this one; push-busy adds two processes that only burn CPU. Latency = placement → the 受注 file carrying the order "
        "is in the SMILE outbox. Wall = first placement → last order in a file. 出荷指示 = first placement → every "
        "order's status written back to CS-Cart (push: the add-on's batch kind order_status, one call per up to 500 orders; polling, no add-on: a status-only PUT + re-read per order).", "",
        "| mode | orders | files | wall (s) | p50 latency (s) | p99 latency (s) | max (s) | 出荷指示 in CS-Cart (s) "
        "| duplicates | lost | daemon CPU (s) | daemon CPU / order (ms) | with the work after it (s) "
        "| simulator CPU (s) | wake-ups sent / refused |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        label = {"push": "push (add-on events + /hooks/cscart)",
                 "push-busy": "push, two CPU-burning processes beside it"}.get(
            r["mode"], f"polling every {r['poll_interval']:g} s")
        if r.get("tree"):
            label += f", at {Path(r['tree']).name} (the base)"
        lines.append(f"| {label} (load {r['load']}) | {r['orders']:,} | {r['files']} | {r['wall_s']:.1f} | {r['p50']:.2f} | "
                     f"{r['p99']:.2f} | {r['max']:.2f} | {r['statuses_s']:.1f} | {r['duplicates']} | "
                     f"{r['not_exported']} | {r['daemon_cpu_s']:.1f} | {1000 * r['daemon_cpu_s'] / r['orders']:.2f} | "
                     f"{r['daemon_cpu_with_tail_s']:.1f} | {r['simulator_cpu_s']:.1f} | "
                     f"{r['wake_ups']:,} / {r['wake_ups_refused']:,} |")
    for push in (r for r in results if r["mode"].startswith("push") and not r.get("tree")):
        lines += ["", f"Goals (issues 6, 16), {push['mode']}: burst under 60 s — "
                  f"{'met' if push['wall_s'] < 60 else 'NOT met'} ({push['wall_s']:.1f} s); push-triggered p99 under "
                  f"3 s — {'met' if push['p99'] < 3 else 'NOT met'} ({push['p99']:.2f} s)."]
    return "\n".join(lines) + "\n"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=500.0, help="orders placed per second (0 = all at once)")
    parser.add_argument("--poll-interval", type=float, default=60.0, help="orders job interval (the daemon default)")
    parser.add_argument("--modes", default="push,push-busy,polling",
                        help="push, push-busy (push with two CPU-burning processes beside it), polling")
    parser.add_argument("--base", type=Path, help="an older checkout's tree: each mode runs on it too, in turns")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--shoppers", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # child: run this mode, print its result
    parser.add_argument("--tree", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.shoppers:
        url, count, rate, out = args.shoppers
        await shoppers(url, int(count), float(rate), Path(out))
        return
    if args.tree:
        CODE[0] = args.tree.resolve()
        sys.path.insert(0, str(CODE[0]))
    if args.one:
        import bridge

        result = await one_mode(args.one, args.orders, args.rate, args.poll_interval)
        result["code"] = str(Path(bridge.__file__).resolve().parents[1])  # the tree the simulator ran from
        print(json.dumps(result), flush=True)
        return
    results = []
    for number, mode in enumerate(args.modes.split(",")):
        if args.base is None:
            result = await one_mode(mode, args.orders, args.rate, args.poll_interval)
            print(json.dumps(result), flush=True)
            results.append(result)
            continue
        trees = [None, args.base] if number % 2 == 0 else [args.base, None]
        for tree in trees:
            result = _child(mode, args, tree)
            print(json.dumps(result), flush=True)
            results.append(result)
    text = report(results, args)
    print(text)
    if args.out:
        from report import append

        append(args.out, text)


def _child(mode: str, args: argparse.Namespace, tree: Path | None) -> dict[str, Any]:
    """One mode in its own process, on this tree's code or (``tree``) an older one's."""
    command = [sys.executable, __file__, "--one", mode, "--orders", str(args.orders), "--rate", str(args.rate),
               "--poll-interval", str(args.poll_interval)] + (["--tree", str(tree)] if tree is not None else [])
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    result["tree"] = str(tree) if tree is not None else ""
    expected = (tree or ROOT).resolve()
    if Path(result["code"]) != expected:
        raise SystemExit(f"the {mode} run took bridge/ from {result['code']}, not from {expected}")
    return result


if __name__ == "__main__":
    asyncio.run(main())
