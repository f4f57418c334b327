"""``bridge demo`` through the real CLI in a subprocess: simulator, generated SMILE folder and the real daemon.

What it must show a newcomer, checked on its own output and working folder: cycle 1 syncs the catalog and binds the
customers by e-mail; cycle 2 writes only what the demo changed (plus the drift repair); the hand edit in CS-Cart is
repaired; the daemon's log goes to ``bridge.log`` and never into the report.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTS = 40


def run_demo(folder: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "bridge", "demo", "--cycles", "3", "--products", str(PRODUCTS), "--interval", "0.5",
         "--keep", str(folder), "--details"],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    logged = [line for line in result.stderr.splitlines() if '"event"' in line or "\x1b[" in line or "drift.found" in line]
    assert not logged, "the daemon's log lines stay out of the terminal"
    return result.stdout


def sections(output: str) -> dict[str, list[str]]:
    """'cycle N:' and 'changes before cycle N:' blocks of the report, by heading."""
    blocks: dict[str, list[str]] = {}
    heading = "intro"
    for line in output.splitlines():
        heading_line = re.fullmatch(r"((?:changes before )?cycle \d+)(?: \(.*\))?:", line)
        if heading_line:
            heading = heading_line[1]
            continue
        if line.strip():
            blocks.setdefault(heading, []).append(line.strip())
    return blocks


def job_line(block: list[str], job: str) -> dict[str, int]:
    line = next(line for line in block if line.startswith(job + " "))
    found = re.search(r"read (\d+), changed (\d+), queued for CS-Cart (\d+)", line)
    assert found, line
    return dict(zip(("read", "changed", "written"), map(int, found.groups()), strict=True))


PLURALS = {"stock write": "stock writes", "price write": "price writes", "product update": "product updates",
           "customer update": "customer updates", "usergroup membership": "usergroup memberships",
           "product created": "products created", "usergroup created": "usergroups created"}


def received(block: list[str]) -> dict[str, int]:
    """The 'CS-Cart received:' line as {kind (plural): count}."""
    line = next(line for line in block if line.startswith("CS-Cart received:"))
    found = re.findall(r"(\d+) ([a-z ]+?)(?:,|$)", line.split(":", 1)[1])
    return {PLURALS.get(kind, kind): int(count) for count, kind in found}


def test_the_demo_syncs_then_writes_only_what_changed_and_repairs_drift(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    output = run_demo(folder)
    blocks = sections(output)
    raised = [code for line in output.splitlines() if line.strip().startswith("SMILE prices")
              for code in re.findall(r"(\d{8}) \d+ → \d+", line)]
    assert len(raised) == 6 and len(set(raised)) == 6, "each cycle raises other prices, never the same again"
    assert "\x1b[" not in output, "no colour codes from log lines"
    assert "demo finished after 3 cycle(s)." in output

    first = blocks["cycle 1"]
    assert job_line(first, "products")["changed"] == PRODUCTS, "every product: one created, the rest updated"
    customers = job_line(first, "customers")
    assert customers["read"] == 30 and customers["written"] >= 30, "every 得意先 matched to a shop account"
    assert not any("without a CS-Cart account" in line for line in output.splitlines())
    writes = received(first)
    assert writes["products created"] == 1 and writes["customer updates"] == 30

    changes = blocks["changes before cycle 2"]
    stock_changed = len(re.findall(r"\d{8} → \d+", next(c for c in changes if c.startswith("SMILE stock"))))
    assert stock_changed == 5
    second = blocks["cycle 2"]
    assert job_line(second, "products")["changed"] == 0, "an unchanged master writes nothing"
    stock = job_line(second, "stock")
    # the demo's five SKUs (fewer when a new figure equals the old one), plus the product created in cycle 1 when
    # its first stock run came after cycle 1 ended
    assert 1 <= stock["written"] <= stock_changed + 1
    drift = job_line(second, "drift")
    assert drift["changed"] == 1 and drift["written"] == 1
    assert any("1 written again" in line for line in second)
    writes = received(second)
    assert writes.get("stock writes", 0) == stock["written"] + drift["written"], "only the changed SKUs and the repair"
    assert writes.get("product updates", 0) == 0 and writes.get("customer updates", 0) == 0
    assert 1 <= writes.get("price writes", 0) <= 3 + 1
    assert writes.get("usergroup memberships", 0) <= 2, "the one customer whose rank moved"

    third = blocks["cycle 3"]
    assert job_line(third, "drift")["changed"] == 0, "the repaired amount stays"
    assert job_line(third, "products")["changed"] == 0

    log_lines = (folder / "bridge.log").read_text(encoding="utf-8").splitlines()
    events = [json.loads(line)["event"] for line in log_lines if line.startswith("{")]
    assert "drift.found" in events and "daemon.started" in events, "the daemon's log is in the working folder"
    assert "drift.found" not in output

    state = sqlite3.connect(folder / "data" / "state.sqlite3")
    try:
        bound = state.execute("SELECT COUNT(*) FROM bindings WHERE entity_a = 'user' AND entity_b = 'customer'")
        assert bound.fetchone()[0] == 30, "customers bound by e-mail"
        dead = state.execute("SELECT COUNT(*) FROM outbox WHERE state = 'dead'").fetchone()[0]
        assert dead == 0
    finally:
        state.close()


def test_the_compact_demo_prints_one_line_per_cycle_at_its_interval_in_japanese(tmp_path: Path) -> None:
    """Progress, not a flood: one line per cycle, cycles --interval apart, every job's changed ≤ read."""
    import os
    import time

    interval = 2.0
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "bridge", "demo", "--cycles", "3", "--products", "20", "--interval", str(interval),
         "--keep", str(tmp_path / "demo")],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, "LANG": "ja_JP.UTF-8"},
    )
    took = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    cycles = [line for line in result.stdout.splitlines() if line.startswith("サイクル ")]
    assert len(cycles) == 3, result.stdout
    assert "3 サイクルでデモを終了しました。" in result.stdout
    assert took >= 2 * interval  # cycles 2 and 3 each waited for their turn
    for line in cycles:
        assert line.endswith("件") and " JST " in line
        for changed, read in re.findall(r" (\d+)/(\d+)→", line):
            assert int(changed) <= int(read), line
