"""Benchmark: dispatch N outbox ops to a no-op sink with durability on (WAL, synchronous=FULL).

Each configuration runs in its own subprocess so peak memory (ru_maxrss) is its own. Configurations run side by side
in one invocation, so their ratios are comparable even on a noisy machine.

    python bench/dispatch_outbox.py [--ops 100000] [--batch-sizes 50,200,500,1000] [--out bench/results/dispatch_outbox.md]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import describe as describe_machine
from report import publish

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


class NoopSink:
    target = "noop"

    async def deliver(self, op: object) -> None:
        return None


async def one_run(ops: int, batch_size: int) -> dict[str, float]:
    from bridge.config import DispatchSettings
    from bridge.dispatch import Dispatcher
    from bridge.store import Store
    from bridge.store import outbox as ob

    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(Path(tmp) / "state.sqlite3")
        started = time.perf_counter()
        chunk = 10_000
        for start in range(0, ops, chunk):
            async with store.transaction() as tx:
                await ob.enqueue(tx, [ob.NewOp("noop", "set", "product_stock", f"P{i:06d}", {"amount": i})
                                      for i in range(start, min(ops, start + chunk))], 0.0)
        enqueue_seconds = time.perf_counter() - started
        dispatcher = Dispatcher(store, {"noop": NoopSink()}, DispatchSettings(batch_size=batch_size))
        started = time.perf_counter()
        stats = await dispatcher.drain_all()
        dispatch_seconds = time.perf_counter() - started
        pending = (await store.fetchone("SELECT COUNT(*) FROM outbox WHERE state != 'done'"))[0]
        synchronous = (await store.fetchone("PRAGMA synchronous"))[0]
        await store.close()
    assert stats.done == ops and pending == 0, (stats, pending)
    return {
        "ops": ops,
        "batch_size": batch_size,
        "synchronous": synchronous,
        "enqueue_seconds": round(enqueue_seconds, 2),
        "dispatch_seconds": round(dispatch_seconds, 2),
        "ops_per_second": round(ops / dispatch_seconds),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ops", type=int, default=100_000)
    parser.add_argument("--batch-sizes", default="50,200,500,1000")
    parser.add_argument("--out", type=Path, default=None, help="Append a Markdown result block to this file")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(asyncio.run(one_run(args.ops, args.child))))
        return
    results = []
    for size in [int(s) for s in args.batch_sizes.split(",")]:
        out = subprocess.run([sys.executable, __file__, "--ops", str(args.ops), "--child", str(size)],
                             check=True, capture_output=True, text=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
        print(results[-1], flush=True)
    base = next((r for r in results if r["batch_size"] == 500), results[0])
    lines = [
        f"## {time.strftime('%Y-%m-%d %H:%M')} — {args.ops:,} ops, no-op sink, WAL + synchronous=FULL",
        f"Machine: {describe_machine()}",
        "",
        "| batch size | enqueue s | dispatch s | ops/s | vs batch 500 | peak RSS MB |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(f"| {r['batch_size']} | {r['enqueue_seconds']} | {r['dispatch_seconds']} | {r['ops_per_second']:,} "
                     f"| {r['ops_per_second'] / base['ops_per_second']:.2f}× | {r['peak_rss_mb']} |")
    lines.append("")
    lines.append("Goal (issue 2): at least 2,000 ops/s on a 2-core machine with durability on (default batch 500).")
    publish(lines, args.out)


if __name__ == "__main__":
    main()
