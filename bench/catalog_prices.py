"""Benchmark: the prices job's run — everything read and compiled (``--full``) beside runs against the memo
(``bridge/sync/catalog/prices_memo.py``) with 1 % of the 商品マスター changed and with nothing changed — at 100,000
products, with its floor (reading the file's bytes), the csv module's read of the same file, whole-process figures
and the load average beside every number.

Setup: the sample generator's 商品マスター (UTF-16, the shipped layout, 新単価 dates and 数量別単価 included), a
CS-Cart simulator with every product (and the add-on) in its own process, and a first sync (`bridge sync prices`, empty state, all
tier sets delivered); the state folder is copied then and restored before every measured run. The changed file has
the 標準売上単価 of 1 % of the products raised by 10 yen. Interleaved for ``--rounds`` rounds, the order rotating, each
run in its own fresh process:

* ``floor``: the file's bytes read (what a run with nothing changed cannot go below);
* ``csv``: the file decoded and split by the csv module alone (no validation, no records);
* ``full_0`` / ``full_1``: a new job with ``--full`` (everything read and compiled), nothing changed / 1 % changed;
* ``memo_0`` / ``memo_1``: a new job (as ``bridge sync prices``) reading against the memo on disk;
* ``resident_0`` / ``resident_1``: a long-lived job (the daemon) that already ran once, then the measured run;
* ``cli_full_0`` / ``cli_0``: ``bridge sync prices [--full]`` as a whole process (interpreter start, imports,
  rules), nothing changed (so nothing to deliver).

The job rows time ``job.run`` in-process (read, resolve, compile, ledger diff, enqueue; delivery not included: it
is the same for every mode). CPU seconds and peak RSS are the child's.

    nice -n 10 python bench/catalog_prices.py [--products 100000] [--changed 0.01] [--rounds 3] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from machine import describe  # noqa: E402
from report import publish  # noqa: E402
from stockworld import cpu_s, environment, load, median, peak_mb  # noqa: E402

ORDER = ("floor", "csv", "full_0", "memo_0", "resident_0", "full_1", "memo_1", "resident_1", "cli_full_0", "cli_0")
LABELS = {
    "floor": "floor: the file's bytes read",
    "csv": "csv module alone (decode + split, no validation)",
    "full_0": "`--full` (everything read and compiled), nothing changed",
    "memo_0": "new job against the memo on disk, nothing changed",
    "resident_0": "long-lived job, nothing changed",
    "full_1": "`--full`, 1 % changed",
    "memo_1": "new job against the memo on disk, 1 % changed",
    "resident_1": "long-lived job, 1 % changed",
    "cli_full_0": "`bridge sync prices --full`, whole process, nothing changed",
    "cli_0": "`bridge sync prices`, whole process, nothing changed",
}


def config_file(folder: Path, url: str) -> Path:
    from bridge.config import JobsSettings

    others = "".join(f"  {name}: {{enabled: false, interval: 3600}}\n"
                     for name in JobsSettings.model_fields if name != "prices")
    path = folder / "config.yaml"
    path.write_text(
        f"data_dir: {folder / 'data'}\nrules_dir: {ROOT / 'rules'}\nhttp: {{host: 127.0.0.1, port: 0}}\n"
        f"log: {{format: json, level: WARNING}}\nsmile: {{stable_seconds: 0}}\ndispatch: {{idle_poll: 0.05}}\n"
        f"cscart: {{url: '{url}', email: 'admin@example.jp', timeout: 300}}\nanalytics: {{enabled: false}}\n"
        f"jobs:\n  prices: {{enabled: true, interval: 3600, jitter: 0}}\n{others}", encoding="utf-8")
    return path


def write_files(folder: Path, products: int, share: float, seed: int) -> tuple[Path, Path, Path, int]:
    """(the 商品マスター, the same with ``share`` of the standard prices changed, the 数量別単価 file, changed)."""
    from bridge.smile.generator import generate, layouts_for
    from bridge.smile.settings import SmileSettings
    from bridge.smile.writer import write_records

    made = generate(folder / "smile", products=products + 1, customers=5, seed=seed)
    master = [p for p in made.products if p.code != "10000000"]  # simulator product N has code 10000000 + N
    layout = layouts_for(SmileSettings(), None)["products"]
    first = write_records(folder / "products_1.csv", "products", master, layout=layout)
    rng = random.Random(seed)
    chosen = set(rng.sample(range(len(master)), int(len(master) * share)))
    changed = [p._replace(standard_price=(p.standard_price or Decimal(0)) + 10) if n in chosen else p
               for n, p in enumerate(master)]
    second = write_records(folder / "products_2.csv", "products", changed, layout=layout)
    return first, second, made.paths["quantity_prices"], len(chosen)


def deliver(data: Path, source: Path, name: str) -> None:
    inbox = data / "smile" / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, inbox / name)
    (inbox / (name + ".done")).touch()


# ---- children ----------------------------------------------------------------------------------------------------


async def job_run(config: Path, mode: str, changed_file: Path) -> dict[str, Any]:
    from bridge.cli.in_process import in_process
    from bridge.config import load_settings
    from bridge.logging import configure
    from bridge.sync import RunOptions, registered_jobs

    settings = load_settings(config)
    configure("WARNING", "json")
    kind, share = mode.rsplit("_", 1)
    async with in_process(settings) as run:
        job = registered_jobs()["prices"].factory(run.context)
        warm = 0.0
        if kind == "resident":
            started = time.perf_counter()
            await job.run(RunOptions())
            warm = time.perf_counter() - started
        if share == "1":
            deliver(settings.data_dir, changed_file, "products_2.csv")
        cpu0, started = cpu_s(), time.perf_counter()
        result = await job.run(RunOptions(full=kind == "full"))
        seconds = time.perf_counter() - started
        cpu = cpu_s() - cpu0
    how = getattr(job, "last_read", ("", 0, 0))
    return {"seconds": seconds, "cpu": cpu, "warm_seconds": warm, "read": result.read, "changed": result.changed,
            "how": list(how), "peak_mb": peak_mb()}


def floor(path: Path) -> dict[str, Any]:
    cpu0, started = cpu_s(), time.perf_counter()
    data = path.read_bytes()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "cpu": cpu_s() - cpu0, "bytes": len(data), "peak_mb": peak_mb()}


def csv_only(path: Path) -> dict[str, Any]:
    import csv

    cpu0, started = cpu_s(), time.perf_counter()
    with path.open(encoding="utf-16", newline="") as handle:
        rows = sum(1 for _ in csv.reader(handle))
    return {"seconds": time.perf_counter() - started, "cpu": cpu_s() - cpu0, "rows": rows, "peak_mb": peak_mb()}


# ---- the parent side ---------------------------------------------------------------------------------------------


def child(*args: str) -> dict[str, Any]:
    before = load()
    started = time.perf_counter()
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", *args], check=True,
                         capture_output=True, text=True, cwd=ROOT, env=environment())
    row = json.loads(out.stdout.strip().splitlines()[-1])
    row.update({"wall": time.perf_counter() - started, "load": before})
    return row


def cli(config: Path, *extra: str) -> dict[str, Any]:
    before = load()
    started = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-f", "TIME %e %U %S %M", sys.executable, "-m", "bridge", "sync",
                          "prices", *extra, "--config", str(config)], capture_output=True, text=True, cwd=ROOT,
                         env=environment())
    wall = time.perf_counter() - started
    if out.returncode != 0:
        raise SystemExit(f"bridge sync prices failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    timing = [line for line in out.stderr.splitlines() if line.startswith("TIME ")][-1].split()
    summary = next((line for line in out.stdout.splitlines() if line.startswith("prices:")), "")
    return {"seconds": wall, "wall": wall, "cpu": float(timing[2]) + float(timing[3]),
            "peak_mb": round(int(timing[4]) / 1024, 1), "summary": summary, "load": before}


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        mode, *args = sys.argv[2:]
        if mode == "files":
            first, second, quantity, count = write_files(Path(args[0]), int(args[1]), float(args[2]), int(args[3]))
            print(json.dumps({"first": str(first), "second": str(second), "quantity": str(quantity),
                              "changed": count}))
        elif mode == "floor":
            print(json.dumps(floor(Path(args[0]))))
        elif mode == "csv":
            print(json.dumps(csv_only(Path(args[0]))))
        else:
            print(json.dumps(asyncio.run(job_run(Path(args[0]), mode, Path(args[1])))))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261204)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    from serving import spawn

    runs: dict[str, list[dict[str, Any]]] = {}
    load_at_start = load()
    with tempfile.TemporaryDirectory(prefix="bench-prices-") as name:
        folder = Path(name)
        # in a child, so that this process stays small (a child's peak RSS would otherwise start at this one's)
        made = child("files", str(folder), str(args.products), str(args.changed), str(args.seed))
        first_file, changed_file, quantity_file = (Path(made[k]) for k in ("first", "second", "quantity"))
        changed = int(made["changed"])
        size_mb = first_file.stat().st_size / 1e6
        process, url = spawn([sys.executable, str(HERE / "stockworld.py"), "serve", str(args.products + 1), "0",
                              "1", "-"])
        try:
            bridge = folder / "bridge"
            bridge.mkdir()
            config = config_file(bridge, url)
            deliver(bridge / "data", first_file, "products_1.csv")
            deliver(bridge / "data", quantity_file, "quantity_prices_1.csv")
            first_sync = cli(config)
            print("first sync", first_sync, flush=True)
            saved = folder / "data.after_first_sync"
            shutil.copytree(bridge / "data", saved)
            for number in range(args.rounds):
                order = ORDER[number % len(ORDER):] + ORDER[:number % len(ORDER)]
                for what in order:
                    shutil.rmtree(bridge / "data", ignore_errors=True)
                    shutil.copytree(saved, bridge / "data")
                    if what == "floor":
                        row = child("floor", str(first_file))
                    elif what == "csv":
                        row = child("csv", str(first_file))
                    elif what == "cli_full_0":
                        row = cli(config, "--full")
                    elif what == "cli_0":
                        row = cli(config)
                    else:
                        row = child(what, str(config), str(changed_file))
                    print(what, {k: v for k, v in row.items() if k != "summary"}, flush=True)
                    runs.setdefault(what, []).append(row)
        finally:
            process.terminate()
            process.wait(timeout=30)

    floor_s = median([float(r["seconds"]) for r in runs["floor"]])
    lines = [
        (f"## {time.strftime('%Y-%m-%d %H:%M')} UTC — prices job, {args.products:,} products: full run vs runs "
         f"against the memo, {args.changed:.0%} changed ({changed:,}) and nothing changed, {args.rounds} rounds "
         f"interleaved"),
        f"Machine: {describe()}; load average (1 min) at the start {load_at_start}, at the end {load()}",
        (f"Command: `nice -n 10 python bench/catalog_prices.py --products {args.products} --changed {args.changed} "
         f"--rounds {args.rounds}`; 商品マスター UTF-16 (the shipped layout), "
         f"{size_mb:.1f} MB; simulator (add-on shop: tier sets in batches of 500) in its own process, no added "
         f"latency"),
        "",
        (f"First sync (`bridge sync prices`, empty state, every tier set written): {first_sync['wall']:.2f} s whole "
         f"process, {first_sync['cpu']:.2f} s CPU, peak RSS {first_sync['peak_mb']:.0f} MB; {first_sync['summary']}"),
        "",
        "| run | seconds, median (all) | CPU s (median) | peak RSS MB | load avg at each start | ÷ floor | ÷ full |",
        "|---|---:|---:|---:|---|---:|---:|",
    ]
    full = {"0": median([float(r["seconds"]) for r in runs["full_0"]]),
            "1": median([float(r["seconds"]) for r in runs["full_1"]])}
    for what in ORDER:
        rows = runs[what]
        values = [float(r["seconds"]) for r in rows]
        versus = full["1" if what.endswith("_1") else "0"]
        ratio = f"{median(values) / versus:.2f}×" if what not in ("floor", "csv") else ""
        lines.append(
            f"| {LABELS[what]} | {median(values):.3f} ({', '.join(f'{v:.3f}' for v in values)}) | "
            f"{median([float(r['cpu']) for r in rows]):.2f} | {max(float(r['peak_mb']) for r in rows):.0f} | "
            f"{', '.join(str(r['load']) for r in rows)} | {median(values) / floor_s:.1f}× | {ratio} |")
    how = {what: runs[what][0].get("how") for what in ORDER if "how" in runs[what][0]}
    lines += ["", "How each job run read (mode, 商品マスター lines parsed, tier sets compiled), first round: "
              + "; ".join(f"{what} {value}" for what, value in how.items()) + "."]
    publish(lines, args.out)


if __name__ == "__main__":
    main()
