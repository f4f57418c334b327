"""A process whose store an error path left open still exits (aiosqlite's worker thread would keep it alive)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

UNCLOSED = """
import asyncio, sys
from bridge.store import Store

async def main():
    store = await Store.open(sys.argv[1])
    async with store.transaction() as tx:
        await tx.execute("INSERT INTO audit_log (at, actor, action) VALUES ('t', 'test', 'kept')")
    raise SystemExit(3)  # an error path that forgets store.close()

asyncio.run(main())
"""


def test_a_store_left_open_does_not_keep_the_process_alive(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    done = subprocess.run([sys.executable, "-c", UNCLOSED, str(state)], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)  # a hang here is the bug
    assert done.returncode == 3, done.stderr
    import sqlite3

    with sqlite3.connect(state) as conn:  # what was committed is there
        assert conn.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'kept'").fetchone()[0] == 1


def test_bridge_sync_with_bad_rules_prints_the_problem_and_exits(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    with (rules / "pricing.yaml").open("a", encoding="utf-8") as handle:
        handle.write("bogus_key: 1\n")
    config = tmp_path / "config.yaml"
    config.write_text(f"data_dir: {tmp_path / 'data'}\nrules_dir: {rules}\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "bridge", "sync", "stock", "--config", str(config)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    message = " ".join((done.stdout + done.stderr).split())
    assert "pricing.yaml" in message and "bogus_key: unknown key" in message
