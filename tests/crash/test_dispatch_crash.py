"""kill -9 at random moments never loses an op; duplicates only happen where the sink's idempotency absorbs them."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bridge.store import Store
from bridge.store import outbox as ob

WORKER = Path(__file__).with_name("dispatch_worker.py")
OPS = 6000
KILLS = 20
BATCH = 100


def start_worker(state: Path, sink: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.Popen([sys.executable, str(WORKER), str(state), str(sink)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


@pytest.mark.slow
async def test_sigkill_at_random_moments_loses_nothing(tmp_path: Path) -> None:
    state, sink = tmp_path / "state.sqlite3", tmp_path / "sink.sqlite3"
    store = await Store.open(state)
    async with store.transaction() as tx:
        await ob.enqueue(
            tx, [ob.NewOp("file", "write", "record", f"R{i:05d}", {"i": i}, idempotency_key=f"op-{i}")
                 for i in range(OPS)], 0.0
        )
    await store.close()

    rng = random.Random(20261124)
    kills = 0
    while kills < KILLS:
        worker = start_worker(state, sink)
        assert worker.stdout is not None
        # blocks until it delivers, or it exits having nothing to do (log lines may come first)
        line = ""
        while line != "dispatching":
            line = worker.stdout.readline()
            if not line:
                break
            line = line.strip()
        if line != "dispatching":
            worker.wait(timeout=30)
            pytest.fail(f"worker ended before {KILLS} kills ({kills} done); make OPS larger: {worker.stderr.read()}")
        time.sleep(rng.uniform(0.0, 0.12))
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        kills += 1

    final = start_worker(state, sink)
    out, err = final.communicate(timeout=120)
    assert final.returncode == 0, err
    assert "drained" in out

    store = await Store.open(state)
    async with store.transaction() as tx:
        depth = await ob.depth_by_state(tx)
        ledger_rows = (await (await tx.execute("SELECT COUNT(*) FROM ledger")).fetchone())[0]
    await store.close()
    assert depth == {"pending": 0, "in_flight": 0, "done": OPS, "dead": 0}
    assert ledger_rows == OPS

    db = sqlite3.connect(sink)
    delivered = {row[0] for row in db.execute("SELECT key FROM delivered")}
    attempts = db.execute("SELECT COUNT(*) FROM attempts").fetchone()[0]
    duplicated = db.execute("SELECT COUNT(*) FROM (SELECT key FROM attempts GROUP BY key HAVING COUNT(*) > 1)").fetchone()[0]
    db.close()
    assert delivered == {f"op-{i}" for i in range(OPS)}  # none lost, each applied once
    # a kill can only repeat what was claimed but not yet marked done: at most one batch per kill
    assert attempts - OPS <= KILLS * BATCH
    assert duplicated <= KILLS * BATCH
