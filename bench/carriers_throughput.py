"""Benchmark: carrier label files and result files at volume.

Side by side in one run, on the same orders (every text trap of carriers.md §7 repeated, so the text guard, the
address split and the COD and slot checks all work):

* ``build_label_files`` for N orders, once per carrier (B2クラウド, e飛伝, ゆうプリR): the pure part of an export;
* ``parse_result`` of an N-row generic shipping-result CSV: the pure part of an import;
* ``import_result`` of the same file against a real state file holding the N orders in 出荷指示: the whole-file check
  against the mirror and the one transaction that records the parcels, enqueues the CS-Cart shipments and moves
  every order to 出荷済 (durability on: WAL, ``synchronous=FULL``).

    python bench/carriers_throughput.py [--orders 10000] [--repeat 3] [--out bench/results/carriers_throughput.md]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from machine import describe
from report import append

from bridge.carriers.export import build_label_files
from bridge.carriers.results import parse_result
from bridge.domain.time import JST
from tests.carriers.samples import NOW, shipped_rules, trap_orders

SHIPPING_IDS = {"yamato": 1, "sagawa": 4, "japanpost": 5}


def orders_for(carrier: str, count: int) -> list:  # type: ignore[type-arg]
    base = [o for o in trap_orders(SHIPPING_IDS[carrier]) if o.order_id != 2003 or carrier != "sagawa"]
    return [replace(base[i % len(base)], order_id=100_000 + i) for i in range(count)]


def tracking(i: int) -> str:
    body = f"{38971107401 + i * 7:011d}"[-11:]
    return body + str(int(body) % 7)


def result_csv(count: int) -> bytes:
    lines = ["order_no,delivery_no,delivery_date"]
    lines += [f"{100_000 + i},{tracking(i)},2026-11-24 15:00:00" for i in range(count)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def timed(work, repeat: int) -> tuple[float, float, object]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times), result


async def import_once(count: int, data: bytes) -> tuple[float, object]:
    from bridge.config import Settings
    from bridge.domain.orders import WorkflowState
    from bridge.domain.time import Clock
    from bridge.store import Store
    from bridge.store import orders as mirror
    from bridge.sync import JobContext
    from bridge.sync.registry import shipping_context
    from bridge.sync.shipping.results import import_result
    from bridge.wiring import offline_services

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder), rules_dir=ROOT / "rules")
        store = await Store.open(settings.state_path)
        try:
            async with store.transaction() as tx:
                for order in orders_for("yamato", count):
                    await mirror.upsert(tx, order, initial_state=WorkflowState.SHIPPING_INSTRUCTED)
            sc = shipping_context(JobContext(settings=settings, store=store, clock=Clock(),
                                    services=offline_services(settings)))
            started = time.perf_counter()
            outcome = await import_result(sc, data, "bench.csv", datetime.now(JST))
            return time.perf_counter() - started, outcome
        finally:
            await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    rules = shipped_rules()
    rows = []
    for carrier in ("yamato", "sagawa", "japanpost"):
        orders = orders_for(carrier, args.orders)
        median, best, built = timed(lambda orders=orders: build_label_files(orders, rules, NOW), args.repeat)
        [label] = built.files  # type: ignore[attr-defined]
        assert not built.rejections, built.rejections[:3]  # type: ignore[attr-defined]
        rows.append((f"label file, {carrier}", median, best, len(label.order_ids), len(label.content)))
    data = result_csv(args.orders)
    median, best, parsed = timed(lambda: parse_result(data, "bench.csv", NOW), args.repeat)
    assert parsed.ok and len(parsed.shipments) == args.orders  # type: ignore[attr-defined]
    rows.append(("result file, parse", median, best, args.orders, len(data)))
    seconds, outcome = asyncio.run(import_once(args.orders, data))
    assert outcome.ok and len(outcome.shipped) == args.orders, outcome.report()[:500]  # type: ignore[attr-defined]
    rows.append(("result file, check + apply (state file)", seconds, seconds, args.orders, len(data)))

    stamp = datetime.now(JST).strftime("%Y-%m-%d %H:%M")
    lines = [f"## {stamp} JST: {args.orders:,} orders", "",
             (f"Machine: {describe()}; load average at start {load}. Label and parse times: median (best) of "
             f"{args.repeat}; the import runs once (it changes the state file)."), "",
             "| step | seconds | orders/s | orders | bytes |", "|---|---:|---:|---:|---:|"]
    for name, med, low, count, size in rows:
        lines.append(f"| {name} | {med:.2f} ({low:.2f}) | {count / med:,.0f} | {count:,} | {size:,} |")
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        if not args.out.exists():
            args.out.write_text(
                "# Carriers: label files and result files at volume\n\nWritten by `python bench/carriers_throughput.py "
                "--orders 10000 --out bench/results/carriers_throughput.md` (see `bench/README.md`); each run appends "
                "a section.\n\n", encoding="utf-8")
        append(args.out, report)


if __name__ == "__main__":
    main()
