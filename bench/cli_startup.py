"""Start-up time of ``bridge --help``: this tree against an older commit, side by side in one run.

Each command runs as a whole process (interpreter start and imports included), alternating between the trees so a
busy machine slows both alike. The floor is a bare interpreter (``python -c pass``); the baseline is the same
``--help`` from the older tree (a git worktree of REF; each command runs in its tree's folder).

    git worktree add --detach /tmp/bridge-base d7cd03a
    python bench/cli_startup.py --base /tmp/bridge-base --runs 15 --out bench/results/cli_startup.md

``--stock`` times the imports ``bridge sync stock`` makes before its job runs instead of ``bridge --help``.

A command's own help (``bridge config check --help``) is measured too: it imports that command's module and typer
builds its parameters (pydantic TypeAdapters), which ``bridge --help`` does not.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from machine import describe
from report import publish

ROOT = Path(__file__).resolve().parents[1]


def timed(argv: list[str], pythonpath: Path | None) -> tuple[float, float]:
    """(wall seconds, CPU seconds user + system) of one whole process; CPU time is what a busy machine disturbs
    least."""
    # ``python -m`` puts the working folder first on sys.path: run in the tree to measure that tree.
    started = time.perf_counter()
    child = subprocess.Popen(argv, cwd=pythonpath or ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"{argv} exited {child.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


# What `bridge sync stock` imports before and while its job runs (the command table loads sync_cmd; the registry
# (this tree: no job module until a factory builds one); wiring adds the rules, the CS-Cart edge and the orders hook;
# the stock job brings the SMILE reader, the plan and the analytics hooks; the low-stock check its report helpers).
STOCK_MODULES = ("bridge.cli", "bridge.cli.sync_cmd", "bridge.cli.in_process", "bridge.wiring", "bridge.sync.registry",
                 "bridge.rules.provider", "bridge.sync.catalog.stock", "bridge.analytics.hooks",
                 "bridge.analytics.alerts", "bridge.sync.orders.hook", "bridge.cscart.client", "bridge.cscart.sink",
                 "bridge.cscart.batch_sink", "bridge.dispatch")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="a checkout of the older commit")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--stock", action="store_true",
                        help="time the imports `bridge sync stock` makes (CLI, wiring, stock job, CS-Cart edge, "
                             "dispatcher, orders hook) instead of `bridge --help`")
    args = parser.parse_args()
    what = "bridge --help"
    command = ["-m", "bridge", "--help"]
    if args.stock:
        what = "bridge sync stock imports"
        command = ["-c", "import " + ", ".join(STOCK_MODULES)]
    cases = {
        "floor: python -c pass": ([sys.executable, "-c", "pass"], None),
        f"baseline: {what} at {args.base.name}": ([sys.executable, *command], args.base),
        f"this tree: {what}": ([sys.executable, *command], ROOT),
    }
    if not args.stock:
        cases[f"baseline: bridge config check --help at {args.base.name}"] = (
            [sys.executable, "-m", "bridge", "config", "check", "--help"], args.base)
        cases["this tree: bridge config check --help"] = (
            [sys.executable, "-m", "bridge", "config", "check", "--help"], ROOT)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    load_before = os.getloadavg()[0]
    for _ in range(args.runs):
        for name, (argv, path) in cases.items():
            times[name].append(timed(argv, path))
    load_after = os.getloadavg()[0]
    baseline = times[f"baseline: {what} at {args.base.name}"]
    base_wall = statistics.median(w for w, _ in baseline)
    base_cpu = statistics.median(c for _, c in baseline)
    lines = [f"## {what} start-up ({time.strftime('%Y-%m-%d %H:%M %Z')})", "",
             f"Command: `nice -n {os.nice(0)} python bench/cli_startup.py {' '.join(sys.argv[1:])}`", "",
             f"Machine: {describe()}. Load average (1 min) {load_before:.2f} before, {load_after:.2f} after; "
             f"{args.runs} alternating runs each, whole processes.", "",
             "| case | wall median s | wall min s | CPU median s | wall vs baseline | CPU vs baseline |",
             "|---|---|---|---|---|---|"]
    for name, values in times.items():
        wall = statistics.median(w for w, _ in values)
        cpu = statistics.median(c for _, c in values)
        lines.append(f"| {name} | {wall:.3f} | {min(w for w, _ in values):.3f} | {cpu:.3f} | "
                     f"{wall / base_wall:.2f}× | {cpu / base_cpu:.2f}× |")
    publish(lines, args.out)


if __name__ == "__main__":
    main()
