"""CPU per phase of one long-lived stock cycle (issue 16): the ``resident`` run of ``stockworld.py`` (a stock job that
already ran on the previous file, then a 1 %-changed file: the job's run and the delivery of what it enqueued), with
each phase's process CPU (``getrusage``: every thread, DuckDB's and sqlite's included) and wall time. The phases run
one after another, so a phase's process CPU is its own. Profilers mislead here: cProfile and yappi charge a cost per
Python call, which inflates loops of 100,000 small calls several times over, and cProfile sees only the main thread.

    python bench/stock_phases.py --folder /tmp/stockworld [--tree OLDER_CHECKOUT]

``--folder`` keeps the world (files, simulator amounts, the state after the first full sync) between runs: it is
built there the first time (a first full sync of ``--skus``, ≈ 1 min at 100k). ``--tree``: a checkout whose
``bridge/`` is measured instead of this one's (run both, alternating, for an A/B). Prints one JSON line: phase →
[CPU ms, wall ms].
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PHASES: dict[str, tuple[float, float]] = {}
ON = [False]


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _add(label: str, cpu0: float, wall0: float) -> None:
    if ON[0]:
        spent, took = PHASES.get(label, (0.0, 0.0))
        PHASES[label] = (spent + cpu() - cpu0, took + time.perf_counter() - wall0)


def timed(owner: Any, name: str, label: str) -> None:
    original = getattr(owner, name)
    if asyncio.iscoroutinefunction(original):
        @functools.wraps(original)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            cpu0, wall0 = cpu(), time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                _add(label, cpu0, wall0)
    else:
        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            cpu0, wall0 = cpu(), time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                _add(label, cpu0, wall0)
    setattr(owner, name, wrapper)


async def cycle(config: Path, stock_file: Path) -> None:
    import stockworld as sw

    from bridge.cli.in_process import in_process
    from bridge.config import load_settings
    from bridge.logging import configure
    from bridge.sync import RunOptions, plan, registered_jobs
    from bridge.sync.catalog import index as catalog_index
    from bridge.sync.catalog import stock, stock_memo

    timed(stock.StockJob, "_read", "1 read the file against the memo (lean_read, worker thread)")
    timed(catalog_index, "resolve", "2 catalog_index.resolve")
    timed(stock.StockJob, "_compute_lean", "3 changed codes: unconfirmed, ledger digests, payloads, diff, guard")
    timed(plan, "enqueue", "4 outbox enqueue")
    timed(stock.StockJob, "_plan_and_commit", "3+4 the plan-and-commit transaction (3, 4, bookkeeping, COMMIT)")
    timed(stock_memo, "save", "6 memo save (worker thread)")
    import bridge

    print(f"bridge from {Path(bridge.__file__).parent}", file=sys.stderr)
    settings = load_settings(config)
    configure("WARNING", "json")
    async with in_process(settings) as run:
        job = registered_jobs()["stock"].factory(run.context)
        timed(type(job.analytics), "stock_changed", "5 analytics: difference feed + low-stock check (DuckDB)")
        await job.run(RunOptions())
        await run.dispatcher.drain_all()
        sw.deliver(settings.data_dir, stock_file)
        ON[0] = True
        cpu0, wall0 = cpu(), time.perf_counter()
        await job.run(RunOptions())
        cpu1, wall1 = cpu(), time.perf_counter()
        await run.dispatcher.drain_all()
        cpu2, wall2 = cpu(), time.perf_counter()
        ON[0] = False
    PHASES["7 delivery: claim, batch POSTs, complete + ledger"] = (cpu2 - cpu1, wall2 - wall1)
    PHASES["job.run"] = (cpu1 - cpu0, wall1 - wall0)
    PHASES["cycle: job.run + delivery"] = (cpu2 - cpu0, wall2 - wall0)
    print(json.dumps({key: [round(c * 1000), round(w * 1000)] for key, (c, w) in sorted(PHASES.items())},
                     ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--tree", type=Path, default=HERE.parent)
    parser.add_argument("--skus", type=int, default=100_000)
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=20261124)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    import stockworld as sw  # (puts this checkout first on the path: the tree goes before it)

    sys.path.insert(0, str(args.tree.resolve()))

    world = sw.World(args.skus, args.changed, args.latency_ms, args.seed, args.folder)
    if not (args.folder / "data.after_first_sync").is_dir():
        args.folder.mkdir(parents=True, exist_ok=True)
        world.prepare()
    environment = sw.environment()
    os.environ.clear()
    os.environ.update(environment)
    with world.simulator(addon=True) as url:
        config = world.restore(url)
        asyncio.run(cycle(config, world.changed_file))


if __name__ == "__main__":
    main()
