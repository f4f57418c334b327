"""Benchmark: the stock cycle against its floor — 1 % of 100,000 SKUs changed, a CS-Cart simulator with 20 ms per
request in its own process — with whole-process figures and the load average beside every number.

In one run, interleaved A/B for ``--rounds`` rounds (see ``stockworld.py`` for what each run is; each in its own
fresh process, from the same state: the simulator restarted with the first file's amounts, the bridge's state
folder as right after the first full sync):

* **floor**: the least work the cycle could do — the changed file read with the csv module alone, plus the writes
  of the changed amounts at the configured latency (add-on: 2 batch POSTs; REST: 1,000 PUTs, 4 at a time);
* **long-lived job** (the daemon, ``bridge run``): the job already ran on the previous file; the new file arrives;
  its run and the delivery of what it enqueued, in-process;
* **new job**: what ``bridge sync stock`` does (a new job: it reads the new file against the memo on disk that the
  last applied run wrote, ``stock_memo.py``), timed in-process;
* **daemon**: ``bridge run`` (stock job, interval 600 s) — from the complete file landing in the inbox to the last
  changed SKU written (the inbox watcher triggers the job at once);
* **``bridge sync stock``**: the real CLI as a whole process (interpreter start, imports, settings and rules, the
  read against the memo on disk), under ``/usr/bin/time``, with no daemon running: the job runs in it;
* **``bridge sync stock`` with ``bridge run`` up** (its inbox watcher off, so the file waits for the command): the
  CLI as a whole process, which asks the daemon to run its long-lived job (bridge/control) and waits for the writes.

Also printed: the first full sync (``bridge sync stock`` on an empty state, add-on shop), wall and peak RSS.

    python bench/catalog_stock.py [--skus 100000] [--changed 0.01] [--latency-ms 20] [--rounds 3]
                                  [--shops addon,rest] [--out FILE]

Goals (issue 16), at 100k: the long-lived cycle ≤ 3× the floor; the whole ``bridge sync stock`` process ≤ 2× the
in-process cycle (the daemon's: where the command's work runs when ``bridge run`` is up; the figures without a daemon
are printed beside it); at 1,000,000 SKUs the cycle stays linear and peak memory < 1 GB (first sync too).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from machine import compile_bytecode, describe  # noqa: E402
from report import publish  # noqa: E402
from stockworld import ROOT, World, load, median  # noqa: E402

ORDER = ("floor", "resident", "fresh", "cli", "cli_daemon", "daemon")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=100_000)
    parser.add_argument("--changed", type=float, default=0.01, help="share of SKUs changed in the measured cycle")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="added to every simulator request")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shops", default="addon,rest", help="addon, rest or both (comma-separated)")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--base", type=Path,
                        help="an older checkout (a folder holding its bridge/, e.g. `git archive main bridge | tar -x "
                             "-C /tmp/base`): its `bridge sync stock` runs interleaved with this tree's, on the same "
                             "state")
    parser.add_argument("--no-analytics", action="store_true",
                        help="analytics.enabled: false (the stock job then feeds no analytics store and runs no "
                             "low-stock check)")
    parser.add_argument("--first-and-cycle", action="store_true",
                        help="only the first full sync and one 1 %%-changed `bridge sync stock` (add-on shop): "
                             "whole-process wall and peak RSS of each, for the 1,000,000-SKU figure")
    args = parser.parse_args()
    shops = [s.strip() for s in args.shops.split(",") if s.strip()]
    order = ORDER + (("cli_base",) if args.base else ())

    compiled = compile_bytecode(ROOT, *([args.base] if args.base else []))
    runs: dict[tuple[str, str], list[dict]] = {}  # type: ignore[type-arg]
    with tempfile.TemporaryDirectory(prefix="bench-catalog-") as folder:
        world = World(args.skus, args.changed, args.latency_ms, args.seed, Path(folder),
                      analytics=not args.no_analytics)
        load_at_start = load()
        world.prepare()
        print("first sync", world.first_sync, flush=True)
        if args.first_and_cycle:
            cycle = world.measure("cli", addon=True)
            print("cycle", cycle, flush=True)
            publish(_first_and_cycle(args, world, cycle, load_at_start, compiled), args.out)
            return
        for number in range(args.rounds):
            for shop in shops:
                turn = order[number % len(order):] + order[:number % len(order)]
                for what in turn:
                    row = world.measure(what, addon=shop == "addon", base=args.base)
                    print(shop, what, {k: v for k, v in row.items() if k != "summary"}, flush=True)
                    runs.setdefault((shop, what), []).append(row)

    first = world.first_sync
    lines = [
        (f"## {time.strftime('%Y-%m-%d %H:%M')} UTC — stock cycle vs its floor, {args.skus:,} SKUs, "
         f"{args.changed:.0%} changed ({len(world.changed_ids):,}), {args.latency_ms:g} ms per CS-Cart request, "
         f"{args.rounds} rounds interleaved"),
        f"Machine: {describe()}; load average (1 min) at the start {load_at_start}, at the end {load()}; {compiled}",
        (f"Command: `python bench/catalog_stock.py --skus {args.skus} --changed {args.changed} "
         f"--latency-ms {args.latency_ms:g} --rounds {args.rounds} --shops {args.shops}"
         f"{' --no-analytics' if args.no_analytics else ''}{f' --base {args.base}' if args.base else ''}`; "
         "analytics store fed: "
         f"{'no' if args.no_analytics else 'yes (default), with the low-stock check'}"),
        "",
        (f"First full sync (`bridge sync stock`, empty state, add-on shop): {first['wall']:.2f} s whole process, "
         f"{first['cpu']:.2f} s CPU, peak RSS {first['peak_mb']:.0f} MB, load {first['load']}; {first['summary']}; "
         f"{first['delivered']}"),
        "",
        "| shop | run | seconds, median (all) | CPU s (median) | peak RSS MB | load avg at each start | ÷ floor |",
        "|---|---|---:|---:|---:|---|---:|",
    ]
    verdicts = []
    for shop in shops:
        floor_s = median([float(r["seconds"]) for r in runs[(shop, "floor")]])
        for what in order:
            rows = runs[(shop, what)]
            values = [float(r["wall"] if what.startswith("cli") else r["seconds"]) for r in rows]
            label = {"floor": "floor: csv-only read + the writes (in-process)",
                     "resident": "long-lived job (daemon): run + delivery, in-process",
                     "fresh": "new job (as `bridge sync stock`): run + delivery, in-process",
                     "cli": "`bridge sync stock`, whole process, no daemon (the job runs in it)",
                     "cli_daemon": "`bridge sync stock`, whole process, `bridge run` up (its job runs it)",
                     "cli_base": f"`bridge sync stock` at {args.base}, whole process",
                     "daemon": "`bridge run`: file landed → last CS-Cart write"}[what]
            lines.append(
                f"| {shop} | {label} | {median(values):.2f} ({', '.join(f'{v:.2f}' for v in values)}) | "
                f"{median([float(r['cpu']) for r in rows]):.2f} | {max(float(r['peak_mb']) for r in rows):.0f} | "
                f"{', '.join(str(r['load']) for r in rows)} | {median(values) / floor_s:.1f}× |")
        resident = median([float(r["seconds"]) for r in runs[(shop, "resident")]])
        fresh = median([float(r["seconds"]) for r in runs[(shop, "fresh")]])
        cli = median([float(r["wall"]) for r in runs[(shop, "cli")]])
        cli_daemon = median([float(r["wall"]) for r in runs[(shop, "cli_daemon")]])
        landed = median([float(r["seconds"]) for r in runs[(shop, "daemon")]])
        verdicts.append(f"{shop}: file landed → last write with the daemon running {landed:.2f} s (goal < 10 s)")
        cpu = {what: median([float(r["cpu"]) for r in runs[(shop, what)]]) for what in ("resident", "fresh", "cli")}
        verdicts.append(f"{shop}: long-lived cycle {resident / floor_s:.1f}× the floor (goal ≤ 3×); whole "
                        f"`bridge sync stock` with `bridge run` up {cli_daemon / resident:.1f}× that in-process "
                        f"cycle (goal ≤ 2×: {'met' if cli_daemon <= 2 * resident else 'NOT met'}); without a daemon "
                        f"{cli / fresh:.1f}× its own job in-process and {cli / resident:.1f}× the long-lived cycle "
                        f"(by CPU time {cpu['cli'] / cpu['fresh']:.1f}× and {cpu['cli'] / cpu['resident']:.1f}×); "
                        f"its new job in-process {fresh / floor_s:.1f}× the floor")
        if args.base:
            base_cli = median([float(r["wall"]) for r in runs[(shop, "cli_base")]])
            base_cpu = median([float(r["cpu"]) for r in runs[(shop, "cli_base")]])
            cli_cpu = cpu["cli"]
            verdicts.append(f"{shop}: `bridge sync stock` at the base {base_cli:.2f} s wall, {base_cpu:.2f} s CPU "
                            f"({base_cli / resident:.1f}× the long-lived cycle); this tree {cli:.2f} s, "
                            f"{cli_cpu:.2f} s CPU")
    extra = runs[(shops[0], "resident")][0]
    lines += ["", "Goals (issue 16): " + "; ".join(verdicts) + ".",
              (f"Parsed by the long-lived job and by `bridge sync stock`: the new lines only, against the memo the "
               f"first sync wrote (the long-lived job's warm-up run on the previous file took "
               f"{float(extra['warm_seconds']):.2f} s).")]
    publish(lines, args.out)


def _first_and_cycle(args: argparse.Namespace, world: World, cycle: dict, load_at_start: float,  # type: ignore[type-arg]
                     compiled: str) -> list[str]:
    first = world.first_sync
    return [
        (f"## {time.strftime('%Y-%m-%d %H:%M')} UTC — first full sync and one {args.changed:.0%}-changed cycle, "
         f"{args.skus:,} SKUs, `bridge sync stock` whole process, add-on shop, {args.latency_ms:g} ms per request"),
        f"Machine: {describe()}; load average (1 min) at the start {load_at_start}, at the end {load()}; {compiled}",
        (f"Command: `python bench/catalog_stock.py --skus {args.skus} --changed {args.changed} "
         f"--latency-ms {args.latency_ms:g} --first-and-cycle{' --no-analytics' if args.no_analytics else ''}`"),
        "",
        "| run | wall s | CPU s | peak RSS MB | load at start | summary |",
        "|---|---:|---:|---:|---|---|",
        (f"| first full sync (empty state) | {first['wall']:.2f} | {first['cpu']:.2f} | {first['peak_mb']:.0f} | "
         f"{first['load']} | {first['summary']}; {first['delivered']} |"),
        (f"| {args.changed:.0%} changed (against the memo) | {cycle['wall']:.2f} | {cycle['cpu']:.2f} | "
         f"{cycle['peak_mb']:.0f} | {cycle['load']} | {cycle['summary']}; {cycle['delivered']} |"),
    ]


if __name__ == "__main__":
    main()
