"""Benchmark: the stock job over a 100,000-SKU catalog — the first full sync, then a cycle with 1 % of SKUs changed —
through the real ``bridge sync stock`` path (SMILE inbox → rules → ledger diff → outbox → dispatcher → CS-Cart).

The CS-Cart simulator runs in its own process with 20 ms added to every request. Each cycle runs in its own fresh
process (state in one sqlite file), so its wall time and peak RSS are its own. Two shops side by side in one
invocation: core REST only (one ``PUT /products/:id`` per SKU) and with the smile_bridge add-on (batch API).

Measured per cycle: wall time (read the file, bind or look up, diff, enqueue, deliver), CS-Cart calls by method,
SKUs written (ops delivered) against SKUs changed, and peak RSS.

    python bench/catalog_stock.py [--skus 100000] [--changed 0.01] [--latency-ms 20] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from machine import describe as describe_machine
from report import publish
from serving import spawn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FIRST_CODE = 10_000_000  # simulator product N has product_code FIRST_CODE + N


async def serve(products: int, latency_ms: float, addon: bool) -> None:
    """Child: the simulator; prints its URL, then serves until killed."""
    from bridge.cscart.simulator import FaultConfig, run_simulator

    async with run_simulator(products=products, users=1, orders=0, addon=addon,
                             faults=FaultConfig(latency_ms=latency_ms)) as sim:
        print(f"URL {sim.url}", flush=True)
        await asyncio.Event().wait()


def write_stock(path: Path, skus: int, changed: set[int], seed: int) -> None:
    """A SMILE 在庫 file (the configured layout) of ``skus`` SKUs; ``changed`` SKUs get another 現在庫数量."""
    from bridge.domain.catalog import StockLevel
    from bridge.smile.generator import layouts_for
    from bridge.smile.settings import SmileSettings
    from bridge.smile.writer import write_records

    rng = random.Random(seed)
    as_of = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    records = []
    for pid in range(1, skus + 1):
        on_hand = Decimal(rng.randint(1, 900) + (1000 if pid in changed else 0))
        records.append(StockLevel(product_code=str(FIRST_CODE + pid), warehouse_code="01", on_hand=on_hand,
                                  allocated=Decimal(0), on_order=Decimal(0), expected_on=None,
                                  available=on_hand, as_of=as_of))
    write_records(path, "stock", records, layout=layouts_for(SmileSettings(), None)["stock"])


async def cycle(url: str, data_dir: Path, stock_file: Path) -> dict[str, object]:
    """Child: deliver ``stock_file`` into the inbox and run ``bridge sync stock`` (job + delivery) once."""
    from pydantic import SecretStr

    from bridge import metrics
    from bridge.cli.sync_cmd import _run
    from bridge.config import Settings
    from bridge.logging import configure

    configure("WARNING", "json")
    settings = Settings(data_dir=data_dir, rules_dir=ROOT / "rules",
                        cscart={"url": url, "email": "admin@example.jp", "api_key": SecretStr("sim-api-key"),
                                "timeout": 300},
                        smile={"stable_seconds": 0.0}, http={"port": 0})
    inbox = settings.smile.dirs(settings.data_dir).inbox
    inbox.mkdir(parents=True, exist_ok=True)
    target = inbox / f"stock_{time.time_ns()}.csv"
    shutil.copy(stock_file, target)
    target.with_name(target.name + ".done").touch()
    started = time.perf_counter()
    result = await _run(settings, "stock", False, False)
    seconds = time.perf_counter() - started
    calls: dict[str, int] = {}
    for family in metrics.REGISTRY.collect():
        if family.name == "bridge_api_requests":
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    calls[sample.labels["method"]] = calls.get(sample.labels["method"], 0) + int(sample.value)
    delivered = next((n for n in result.notes if n.startswith("delivered ")), "")
    done = int(re.search(r"delivered (\d+)", delivered).group(1)) if delivered else 0  # type: ignore[union-attr]
    dead = int(re.search(r"dead (\d+)", delivered).group(1)) if delivered else 0  # type: ignore[union-attr]
    return {"seconds": round(seconds, 2), "read": result.read, "changed": result.changed,
            "enqueued": result.enqueued, "delivered": done, "dead": dead, "failed": result.failed, "calls": calls,
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def start_simulator(products: int, latency: float, addon: bool) -> tuple[subprocess.Popen[str], str]:
    return spawn([sys.executable, __file__, "--serve", str(products), str(latency), str(int(addon))])


def run_cycle(url: str, data_dir: Path, stock_file: Path) -> dict[str, object]:
    out = subprocess.run([sys.executable, __file__, "--cycle", url, str(data_dir), str(stock_file)],
                         check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return json.loads(out.strip().splitlines()[-1])


def shop(skus: int, latency: float, addon: bool, full: Path, changed: Path, work: Path) -> list[dict[str, object]]:
    process, url = start_simulator(skus, latency, addon)
    data_dir = work / ("addon" if addon else "rest")
    rows = []
    try:
        for name, stock_file in (("first full sync", full), ("1 % changed", changed)):
            row = run_cycle(url, data_dir, stock_file)
            row.update({"shop": "add-on batch API" if addon else "core REST", "cycle": name})
            print(row, flush=True)
            rows.append(row)
    finally:
        process.terminate()
        process.wait(timeout=10)
    return rows


def calls_text(calls: dict[str, int]) -> str:
    return ", ".join(f"{method} {count:,}" for method, count in sorted(calls.items())) or "none"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=100_000)
    parser.add_argument("--changed", type=float, default=0.01, help="share of SKUs changed in the second cycle")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="added to every simulator request")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--serve", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--cycle", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(int(args.serve[0]), float(args.serve[1]), args.serve[2] == "1"))
        return
    if args.cycle:
        url, data_dir, stock_file = args.cycle
        print(json.dumps(asyncio.run(cycle(url, Path(data_dir), Path(stock_file)))))
        return

    rng = random.Random(args.seed)
    changed_ids = set(rng.sample(range(1, args.skus + 1), int(args.skus * args.changed)))
    with tempfile.TemporaryDirectory(prefix="bench-catalog-") as folder:
        work = Path(folder)
        full, changed = work / "stock_full.csv", work / "stock_changed.csv"
        write_stock(full, args.skus, set(), args.seed)
        write_stock(changed, args.skus, changed_ids, args.seed)
        rows = [*shop(args.skus, args.latency_ms, False, full, changed, work),
                *shop(args.skus, args.latency_ms, True, full, changed, work)]

    lines = [
        (f"## {time.strftime('%Y-%m-%d %H:%M')} — stock job, {args.skus:,} SKUs: first full sync, then "
         f"{args.changed:.0%} changed ({len(changed_ids):,} SKUs); {args.latency_ms:g} ms per CS-Cart request"),
        f"Machine: {describe_machine()}",
        ("Real `bridge sync stock` path (inbox → read → bind/lookup → ledger diff → outbox → dispatcher → CS-Cart), "
         "each cycle in its own fresh process (peak RSS is the cycle's own); simulator in its own process; default "
         "settings (CS-Cart client concurrency 4, 250 items per listing page, shipped rules/)."),
        "",
        "| shop | cycle | SKUs read | SKUs changed | SKUs written | CS-Cart calls | wall s | peak RSS MB |",
        "|---|---|---:|---:|---:|---|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['shop']} | {r['cycle']} | {r['read']:,} | {r['changed']:,} | {r['delivered']:,} | "
                     f"{calls_text(r['calls'])} | {r['seconds']} | {r['peak_mb']} |")  # type: ignore[arg-type]
    small = [r for r in rows if r["cycle"] == "1 % changed"]
    worst = max(float(r["seconds"]) for r in small)  # type: ignore[arg-type]
    peak = max(float(r["peak_mb"]) for r in rows)  # type: ignore[arg-type]
    # write calls (a batch call carries up to 500 SKUs) and SKUs delivered, each at most the SKUs changed
    one_write = all(int(r["delivered"]) <= int(r["changed"])  # type: ignore[call-overload]
                    and sum(n for m, n in r["calls"].items() if m != "GET") <= int(r["changed"])  # type: ignore[union-attr]
                    for r in small)
    lines += ["", (f"Goals (issue 5): a {args.changed:.0%}-change cycle under 15 s — slowest {worst:.2f} s; at most "
                   f"one write per changed SKU — {'yes' if one_write else 'NO'}; peak memory under 300 MB — "
                   f"highest {peak:.0f} MB. Dead letters: {sum(int(r['dead']) for r in rows)}.")]  # type: ignore[call-overload]
    publish(lines, args.out)


if __name__ == "__main__":
    main()
