"""kill -9 of the orders job between the batch record, the 受注 file, the status writes and at random moments: every
order reaches SMILE exactly once (one 受注 file row set per order over all files) and ends 出荷指示 in CS-Cart."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import random
import signal
import sys
from pathlib import Path

import pytest

from bridge.cscart.simulator import Simulator, run_simulator
from bridge.store import Store
from tests.orders.conftest import bind_catalog, write_rules

WORKER = Path(__file__).with_name("orders_worker.py")
ROOT = Path(__file__).resolve().parents[2]
NAMED_KILLS = ("before_file", "after_file", "after_enqueue", "before_file", "after_file", "after_enqueue")
RANDOM_KILLS = 6
ORDERS_PER_ROUND = 40


def write_config(tmp_path: Path, sim: Simulator) -> Path:
    config = tmp_path / "bridge.yaml"
    config.write_text(json.dumps({
        "data_dir": str(tmp_path / "data"), "rules_dir": str(write_rules(tmp_path / "rules")),
        "cscart": {"url": sim.url, "email": sim.email, "api_key": sim.api_key, "timeout": 10},
        "orders": {"initial_lookback_hours": 24},
        "dispatch": {"idle_poll": 0.05, "lease_seconds": 600},
    }), encoding="utf-8")
    return config


async def start(config: Path, kill_at: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return await asyncio.create_subprocess_exec(sys.executable, str(WORKER), str(config), kill_at, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def place(sim: Simulator, rng: random.Random, count: int) -> list[int]:
    return [sim.state.place_order(user_id=rng.randint(1, 19), lines=[(rng.randint(1, 40), rng.randint(1, 4))]
                                  ).order_id for _ in range(count)]


def slips_per_file(outbox: Path) -> list[set[int]]:
    return [{int(row["オーダー№"]) for row in csv.DictReader(io.StringIO(path.read_bytes().decode("cp932")))}
            for path in sorted(outbox.glob("juchu_*.csv"))]


@pytest.mark.slow
async def test_sigkill_anywhere_in_the_orders_cycle_never_duplicates_and_never_loses(tmp_path: Path) -> None:
    rng = random.Random(20261124)
    async with run_simulator(products=50, users=20, orders=0, seed=3) as sim:
        config = write_config(tmp_path, sim)
        store = await Store.open(tmp_path / "data" / "state.sqlite3")
        await bind_catalog(store, sim)
        await store.close()
        placed: list[int] = []

        for kill_at in NAMED_KILLS:
            placed += await place(sim, rng, ORDERS_PER_ROUND)
            worker = await start(config, kill_at)
            _, err = await worker.communicate()
            assert worker.returncode == -signal.SIGKILL, f"{kill_at}: the kill point was not reached: {err.decode()}"

        for _ in range(RANDOM_KILLS):
            placed += await place(sim, rng, ORDERS_PER_ROUND)
            worker = await start(config, "none")
            assert worker.stdout is not None
            while (line := await worker.stdout.readline()) and line.strip() != b"started":
                pass  # log lines come first
            assert line, "the worker ended before it started"
            await asyncio.sleep(rng.uniform(0.0, 0.4))
            if worker.returncode is None:
                worker.send_signal(signal.SIGKILL)
            await worker.wait()

        final = await start(config, "none")
        out, err = await final.communicate()
        assert final.returncode == 0, err.decode()

    outbox = tmp_path / "data" / "smile" / "outbox"
    per_file = slips_per_file(outbox)
    exported = [order_id for slips in per_file for order_id in slips]
    assert len(exported) == len(set(exported)), "an order reached SMILE twice"
    assert sorted(exported) == sorted(placed), "an order was lost"
    assert {sim.state.orders[order_id].status for order_id in placed} == {"E"}
    assert list(outbox.glob(".*.tmp")) == []  # cut-short writes cleaned up, never renamed
    store = await Store.open(tmp_path / "data" / "state.sqlite3")
    try:
        states = await store.fetchall("SELECT state, COUNT(*) FROM order_export_batches GROUP BY state")
        outbox_rows = await store.fetchall("SELECT state, COUNT(*) FROM outbox GROUP BY state")
    finally:
        await store.close()
    assert dict(map(tuple, states)) == {"written": len(per_file)}
    assert {state for state, _ in outbox_rows} == {"done"}
