"""The world the stock benchmarks share (``catalog_stock.py``, ``naive_baseline.py``): SMILE 在庫 files, a CS-Cart
simulator in its own process whose amounts match the first file, a bridge state file right after the first full
sync, and the measured runs — each in its own fresh process, so wall time, CPU and peak RSS are the run's own.

Runs (children of this module, ``python bench/stockworld.py MODE …``):

* ``floor``: the least work a stock cycle can do — read the changed file with the csv module alone, then send the
  changed amounts (add-on: batch POSTs of 500; REST: one PUT per SKU; at the client's concurrency, 4);
* ``resident``: the daemon's case — one long-lived stock job that already ran on the previous file, then a new
  file with a share changed arrives: the job's run plus the delivery of what it enqueued;
* ``fresh``: what ``bridge sync stock`` does, timed in-process (a new job: it reads against the memo on disk);
* ``cli``: ``bridge sync stock`` as a whole process (the real CLI, interpreter start and imports included);
* ``daemon``: ``bridge run`` with the stock job (interval 600 s): the time from a complete file landing in the
  inbox (its ``.done``) to the last changed SKU written to CS-Cart — the inbox watcher's trigger, the long-lived
  job's run and the delivery;
* ``naive``: ``naive_baseline.py``'s script — csv read, list every product, write each change.

Every measurement starts from the same state: the simulator is restarted with the first file's amounts and the
bridge's state folder is restored from the copy taken after the first sync.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
FIRST_CODE = 10_000_000  # simulator product N has product_code FIRST_CODE + N
EMAIL, API_KEY = "admin@example.jp", "sim-api-key"
CONCURRENCY = 4  # the bridge's default CS-Cart client concurrency; the floor and the naive script use it too


def load() -> float:
    return round(os.getloadavg()[0], 2)


# ---- files -------------------------------------------------------------------------------------------------------


def amounts_for(skus: int, changed: set[int], seed: int) -> dict[int, int]:
    rng = random.Random(seed)
    return {pid: rng.randint(1, 900) + (1000 if pid in changed else 0) for pid in range(1, skus + 1)}


def write_stock(path: Path, amounts: dict[int, int]) -> None:
    """A SMILE 在庫 file (the configured layout): one warehouse, 現在庫 = ``amounts``, nothing allocated."""
    from bridge.domain.catalog import StockLevel
    from bridge.smile.generator import layouts_for
    from bridge.smile.settings import SmileSettings
    from bridge.smile.writer import write_records

    as_of = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    records = [StockLevel(product_code=str(FIRST_CODE + pid), warehouse_code="01", on_hand=Decimal(amount),
                          allocated=Decimal(0), on_order=Decimal(0), expected_on=None, available=Decimal(amount),
                          as_of=as_of) for pid, amount in amounts.items()]
    write_records(path, "stock", records, layout=layouts_for(SmileSettings(), None)["stock"])


# ---- children ----------------------------------------------------------------------------------------------------


async def serve(products: int, latency_ms: float, addon: bool, amounts_file: str) -> None:
    """The simulator; product amounts from ``amounts_file`` (JSON {pid: amount}); prints its URL, serves until
    killed."""
    from bridge.cscart.simulator import FaultConfig, run_simulator

    amounts = json.loads(Path(amounts_file).read_text()) if amounts_file != "-" else {}
    async with run_simulator(products=products, users=1, orders=0, addon=addon,
                             faults=FaultConfig(latency_ms=latency_ms)) as sim:
        for pid, amount in amounts.items():
            sim.state.products[int(pid)].amount = amount
        print(f"URL {sim.url}", flush=True)
        await asyncio.Event().wait()


def config_file(folder: Path, url: str, analytics: bool = True, watch_inbox: bool = True) -> Path:
    from bridge.config import JobsSettings

    others = "".join(f"  {name}: {{enabled: false, interval: 3600}}\n"
                     for name in JobsSettings.model_fields if name != "stock")
    path = folder / "config.yaml"
    path.write_text(
        f"data_dir: {folder / 'data'}\nrules_dir: {ROOT / 'rules'}\nhttp: {{host: 127.0.0.1, port: 0}}\n"
        f"log: {{format: json, level: WARNING}}\nsmile: {{stable_seconds: 0, watch_inbox: {'true' if watch_inbox else 'false'}}}\ndispatch: {{idle_poll: 0.05}}\n"
        f"cscart: {{url: '{url}', email: '{EMAIL}', timeout: 300}}\n"
        f"analytics: {{enabled: {'true' if analytics else 'false'}}}\n"
        f"jobs:\n  stock: {{enabled: true, interval: 600, jitter: 0}}\n{others}", encoding="utf-8")
    return path


def environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("BRIDGE_")}
    env["BRIDGE_CSCART__API_KEY"] = API_KEY
    return env


def deliver(data_dir: Path, stock_file: Path) -> None:
    inbox = data_dir / "smile" / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    target = inbox / f"stock_{time.time_ns()}.csv"
    shutil.copy(stock_file, target)
    target.with_name(target.name + ".done").touch()


def peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def resident(config: Path, stock_file: Path) -> dict[str, Any]:
    """A long-lived stock job (as in ``bridge run``): a warm-up run on the last applied file, then the new file."""
    from bridge.cli.in_process import in_process
    from bridge.config import load_settings
    from bridge.logging import configure
    from bridge.sync import RunOptions, registered_jobs

    settings = load_settings(config)
    configure("WARNING", "json")
    async with in_process(settings) as run:
        job = registered_jobs()["stock"].factory(run.context)
        started = time.perf_counter()
        warm = await job.run(RunOptions())
        await run.dispatcher.drain_all()
        warm_s = time.perf_counter() - started
        deliver(settings.data_dir, stock_file)
        cpu0, started = cpu_s(), time.perf_counter()
        async with run.dispatcher.delivering() as stats:  # as the daemon's dispatcher: woken when the job enqueues
            result = await job.run(RunOptions())
        seconds = time.perf_counter() - started
        cpu = cpu_s() - cpu0
    return {"seconds": seconds, "cpu": cpu, "warm_seconds": warm_s, "warm_read": warm.read, "read": result.read,
            "changed": result.changed, "delivered": stats.done, "dead": stats.dead, "peak_mb": peak_mb()}


async def fresh(config: Path, stock_file: Path) -> dict[str, Any]:
    """What ``bridge sync stock`` does in-process (a new job, reading against the memo on disk), timed from the moment the
    store is opened; the whole-process figure is the parent's wall time of this process."""
    imported = time.perf_counter()
    from bridge.cli.sync_cmd import _run
    from bridge.config import load_settings
    from bridge.logging import configure

    imports = time.perf_counter() - imported
    settings = load_settings(config)
    configure("WARNING", "json")
    deliver(settings.data_dir, stock_file)
    cpu0, started = cpu_s(), time.perf_counter()
    result = await _run(settings, "stock", False, False)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "cpu": cpu_s() - cpu0, "imports": imports, "read": result.read,
            "changed": result.changed, "notes": [n for n in result.notes if n.startswith("delivered")],
            "peak_mb": peak_mb()}


def floor(url: str, addon: bool, stock_file: Path, writes_file: Path) -> dict[str, Any]:
    """csv-only read of the file, then the writes of the changed amounts (``writes_file``: {pid: amount})."""
    import csv

    import aiohttp

    from bridge.cscart.client import basic_auth

    cpu0, started = cpu_s(), time.perf_counter()
    with stock_file.open(encoding="cp932", newline="") as handle:
        rows = list(csv.reader(handle))
    read_s = time.perf_counter() - started
    writes = {int(k): v for k, v in json.loads(writes_file.read_text()).items()}

    async def send() -> int:
        headers = {"Authorization": basic_auth(EMAIL, API_KEY), "Content-Type": "application/json"}
        limit = asyncio.Semaphore(CONCURRENCY)
        async with aiohttp.ClientSession(headers=headers,
                                         connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as session:
            async def call(method: str, path: str, body: Any) -> None:
                async with limit, session.request(method, f"{url}/api/{path}", json=body) as response:
                    response.raise_for_status()
                    await response.read()

            items = sorted(writes.items())
            if addon:
                batches = [[{"id": n, "kind": "stock", "product_id": pid, "amount": amount}
                            for n, (pid, amount) in enumerate(items[i:i + 500])] for i in range(0, len(items), 500)]
                await asyncio.gather(*(call("POST", "smile_bridge_batch", {"items": b}) for b in batches))
                return len(batches)
            await asyncio.gather(*(call("PUT", f"products/{pid}", {"amount": amount}) for pid, amount in items))
            return len(items)

    started = time.perf_counter()
    calls = asyncio.run(send())
    write_s = time.perf_counter() - started
    return {"seconds": read_s + write_s, "read_s": read_s, "write_s": write_s, "rows": len(rows) - 1,
            "calls": calls, "cpu": cpu_s() - cpu0, "peak_mb": peak_mb()}


# ---- the parent side ---------------------------------------------------------------------------------------------


@dataclass
class World:
    skus: int
    share: float
    latency_ms: float
    seed: int
    folder: Path
    changed_ids: set[int] = field(default_factory=set)
    first: dict[int, int] = field(default_factory=dict)
    second: dict[int, int] = field(default_factory=dict)
    first_sync: dict[str, Any] = field(default_factory=dict)
    analytics: bool = True  # the analytics store fed by the stock job (its default); False: analytics.enabled off

    @property
    def full_file(self) -> Path:
        return self.folder / "stock_full.csv"

    @property
    def changed_file(self) -> Path:
        return self.folder / "stock_changed.csv"

    @property
    def bridge_folder(self) -> Path:
        return self.folder / "bridge"

    def prepare(self) -> None:
        """Files, then the first full sync through ``bridge sync stock`` (add-on shop), then the state copy."""
        rng = random.Random(self.seed)
        self.changed_ids = set(rng.sample(range(1, self.skus + 1), int(self.skus * self.share)))
        self.first = amounts_for(self.skus, set(), self.seed)
        self.second = amounts_for(self.skus, self.changed_ids, self.seed)
        write_stock(self.full_file, self.first)
        write_stock(self.changed_file, self.second)
        (self.folder / "first.json").write_text(json.dumps(self.first))
        (self.folder / "writes.json").write_text(json.dumps({pid: self.second[pid] for pid in self.changed_ids}))
        with self.simulator(addon=True) as url:
            self.bridge_folder.mkdir(parents=True, exist_ok=True)
            config = config_file(self.bridge_folder, url, self.analytics)
            deliver(self.bridge_folder / "data", self.full_file)
            self.first_sync = self.cli(config)
        shutil.copytree(self.bridge_folder / "data", self.folder / "data.after_first_sync")

    def restore(self, url: str, *, watch_inbox: bool = True) -> Path:
        data = self.bridge_folder / "data"
        shutil.rmtree(data, ignore_errors=True)
        shutil.copytree(self.folder / "data.after_first_sync", data)
        return config_file(self.bridge_folder, url, self.analytics, watch_inbox)

    def simulator(self, *, addon: bool) -> Any:
        world = self

        class Running:
            def __enter__(self) -> str:
                from serving import spawn

                self.process, url = spawn([sys.executable, str(HERE / "stockworld.py"), "serve", str(world.skus),
                                           str(world.latency_ms), str(int(addon)), str(world.folder / "first.json")])
                return url

            def __exit__(self, *exc: object) -> None:
                self.process.terminate()
                self.process.wait(timeout=30)

        return Running()

    # ---- one measured run each, in its own process --------------------------------------------------------------

    def child(self, *args: str) -> dict[str, Any]:
        before = load()
        started = time.perf_counter()
        out = subprocess.run([sys.executable, str(HERE / "stockworld.py"), *args], check=True, capture_output=True,
                             text=True, cwd=ROOT, env=environment())
        wall = time.perf_counter() - started
        row = json.loads(out.stdout.strip().splitlines()[-1])
        row.update({"wall": wall, "load": before})
        return row

    def cli(self, config: Path, tree: Path = ROOT) -> dict[str, Any]:
        """``bridge sync stock`` (the real CLI) under /usr/bin/time: whole-process wall, CPU and peak RSS; ``tree``: a
        checkout whose ``bridge/`` runs instead of this one's (an A/B on the same state)."""
        before = load()
        started = time.perf_counter()
        out = subprocess.run(["/usr/bin/time", "-f", "TIME %e %U %S %M", sys.executable, "-m", "bridge", "sync",
                              "stock", "--config", str(config)], capture_output=True, text=True, cwd=tree,
                             env=environment())
        wall = time.perf_counter() - started
        if out.returncode != 0:
            raise SystemExit(f"bridge sync stock failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
        timing = [line for line in out.stderr.splitlines() if line.startswith("TIME ")][-1].split()
        summary = next((line for line in out.stdout.splitlines() if line.startswith("stock:")), "")
        delivered = next((line for line in out.stdout.splitlines() if "delivered" in line), "")
        return {"wall": wall, "cpu": float(timing[2]) + float(timing[3]), "peak_mb": round(int(timing[4]) / 1024, 1),
                "summary": summary, "delivered": delivered, "load": before, "stdout": out.stdout}

    def started_daemon(self, config: Path) -> tuple[subprocess.Popen[bytes], int]:
        """``bridge run`` once its start-up run (the last applied file read again) has finished; with the outbox's
        newest id then."""
        import sqlite3

        daemon = subprocess.Popen([sys.executable, "-m", "bridge", "run", "--config", str(config)], cwd=ROOT,
                                  env=environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        state = self.bridge_folder / "data" / "state.sqlite3"
        deadline = time.monotonic() + 600
        while True:
            with sqlite3.connect(state, timeout=30) as db:
                row = db.execute("SELECT last_success_at FROM job_state WHERE job = 'stock'").fetchone()
                top = db.execute("SELECT COALESCE(MAX(id), 0) FROM outbox").fetchone()[0]
            if row and row[0]:
                break
            if daemon.poll() is not None or time.monotonic() > deadline:
                daemon.kill()
                raise SystemExit(f"bridge run did not finish its start-up run: {daemon.stderr.read()[-2000:]!r}")
            time.sleep(0.2)
        time.sleep(1.0)
        return daemon, top

    def cli_in_daemon(self, config: Path) -> dict[str, Any]:
        """``bridge sync stock`` (the whole CLI process) while ``bridge run`` holds the state, its inbox watcher
        off so the file waits for the CLI: the daemon's long-lived job runs it (bridge/control)."""
        daemon, _top = self.started_daemon(config)
        try:
            deliver(self.bridge_folder / "data", self.changed_file)
            row = self.cli(config)
        finally:
            daemon.terminate()
            daemon.wait(timeout=60)
        if "run by the running daemon" not in row["stdout"]:
            raise SystemExit(f"`bridge sync stock` did not run in the daemon:\n{row['stdout']}")
        return row

    def daemon(self, config: Path) -> dict[str, Any]:
        """``bridge run`` (stock job only) on the restored state: once its start-up run is over, the changed file
        lands in the inbox with its ``.done``; measured: landing → the last changed SKU written to CS-Cart (its
        outbox op done), observed every 20 ms from another connection."""
        import sqlite3

        data = self.bridge_folder / "data"
        before = load()
        daemon, top = self.started_daemon(config)
        state = data / "state.sqlite3"
        try:
            inbox = data / "smile" / "inbox"
            target = inbox / f"stock_{time.time_ns()}.csv"
            shutil.copy(self.changed_file, target)
            landed = time.perf_counter()
            target.with_name(target.name + ".done").touch()
            wanted = len(self.changed_ids)
            done = 0
            while done < wanted:
                if time.perf_counter() - landed > 600:
                    raise SystemExit(f"only {done} of {wanted} changed SKUs written after 600 s")
                time.sleep(0.02)
                with sqlite3.connect(state, timeout=30) as db:
                    done = db.execute("SELECT COUNT(*) FROM outbox WHERE entity = 'product_stock' AND state = 'done' "
                                      "AND id > ?", (top,)).fetchone()[0]
            seconds = time.perf_counter() - landed
        finally:
            daemon.terminate()
            daemon.wait(timeout=60)
        return {"seconds": seconds, "written": done, "load": before, "wall": seconds, "cpu": float("nan"),
                "peak_mb": float("nan")}

    def measure(self, what: str, addon: bool, base: Path | None = None) -> dict[str, Any]:
        with self.simulator(addon=addon) as url:
            if what == "floor":
                return self.child("floor", url, str(int(addon)), str(self.changed_file),
                                  str(self.folder / "writes.json"))
            if what == "naive":
                before = load()
                started = time.perf_counter()
                out = subprocess.run([sys.executable, str(HERE / "naive_baseline.py"), "--run", url, str(int(addon)),
                                      str(self.changed_file)], check=True, capture_output=True, text=True, cwd=ROOT)
                wall = time.perf_counter() - started
                row = json.loads(out.stdout.strip().splitlines()[-1])
                row.update({"wall": wall, "load": before})
                return row
            config = self.restore(url)
            if what == "resident":
                return self.child("resident", str(config), str(self.changed_file))
            if what == "fresh":
                return self.child("fresh", str(config), str(self.changed_file))
            if what in ("cli", "cli_base"):
                deliver(self.bridge_folder / "data", self.changed_file)
                return self.cli(config, base if what == "cli_base" and base is not None else ROOT)
            if what == "daemon":
                return self.daemon(config)
            if what == "cli_daemon":
                return self.cli_in_daemon(self.restore(url, watch_inbox=False))
        raise ValueError(what)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def main() -> None:
    mode, *args = sys.argv[1:]
    if mode == "serve":
        asyncio.run(serve(int(args[0]), float(args[1]), args[2] == "1", args[3]))
    elif mode == "resident":
        print(json.dumps(asyncio.run(resident(Path(args[0]), Path(args[1])))))
    elif mode == "fresh":
        print(json.dumps(asyncio.run(fresh(Path(args[0]), Path(args[1])))))
    elif mode == "floor":
        print(json.dumps(floor(args[0], args[1] == "1", Path(args[2]), Path(args[3]))))
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
