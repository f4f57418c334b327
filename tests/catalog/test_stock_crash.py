"""The real daemon (``bridge run``, a subprocess) killed with SIGKILL in the middle of a stock cycle, then started
again: every SKU ends with the right amount, no SKU is lost, the restart enqueues no second op for any SKU, and no
SKU gets a second, different value. The dispatcher records outcomes once per claimed batch, so the writes of the
batch the kill interrupted that CS-Cart had already applied are sent once more, with the same absolute amount (a
no-op for CS-Cart); nothing outside that batch is repeated. Then ``bridge sync stock --force`` (the CLI, a
subprocess) applies a file the mass-change guard holds."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from collections import Counter
from pathlib import Path

from bridge.config import JobsSettings
from bridge.cscart.simulator import FaultConfig, Simulator, run_simulator
from bridge.smile.generator import generate, rewrite_stock
from bridge.smile.reader import read_file
from bridge.smile.settings import SmileSettings
from tests.catalog.conftest import MISSING_CODE, sim_product_id

ROOT = Path(__file__).resolve().parents[2]
SKUS = 240
KILL_AFTER = 60  # stock writes CS-Cart has received when the daemon is killed


def config(folder: Path, sim: Simulator) -> Path:
    others = "".join(f"  {name}: {{enabled: false, interval: 3600}}\n" for name in JobsSettings.model_fields if name != "stock")
    path = folder / "config.yaml"
    path.write_text(
        f"data_dir: {folder / 'data'}\nrules_dir: {ROOT / 'rules'}\nhttp: {{host: 127.0.0.1, port: 0}}\n"
        f"log: {{format: json, level: INFO}}\nsmile: {{stable_seconds: 0}}\ndispatch: {{idle_poll: 0.05}}\n"
        f"cscart: {{url: '{sim.url}', email: '{sim.email}', timeout: 10}}\n"
        f"jobs:\n  stock: {{enabled: true, interval: 3600, jitter: 0}}\n{others}",
        encoding="utf-8")
    return path


def environment(sim: Simulator) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("BRIDGE_")}
    env["BRIDGE_CSCART__API_KEY"] = sim.api_key
    return env


async def bridge(*args: str, sim: Simulator, log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(sys.executable, "-m", "bridge", *args, cwd=ROOT,
                                                    env=environment(sim), stdout=out, stderr=out)


def stock_writes(sim: Simulator) -> list[tuple[int, int]]:
    return [(int(r.path.rstrip("/").rsplit("/", 1)[1]), int((r.json() or {})["amount"]))
            for r in sim.requests.where(method="PUT", entity="products") if "amount" in (r.json() or {})]


async def until(condition, what: str, process: asyncio.subprocess.Process,  # type: ignore[no-untyped-def]
                log: Path, timeout: float = 60.0) -> None:
    """Poll ``condition`` while the daemon runs (a deadline only against a hang: the assertions are on outcomes,
    not on time)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if process.returncode is not None:
            raise AssertionError(f"the daemon ended before {what}: {log.read_text(errors='replace')[-3000:]}")
        if loop.time() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.02)


def deliver(made_stock: Path, inbox: Path, name: str) -> None:
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / name).write_bytes(made_stock.read_bytes())
    (inbox / (name + ".done")).touch()


async def test_sigkill_mid_cycle_then_restart_loses_and_duplicates_nothing_and_force_applies_a_held_file(
        tmp_path: Path) -> None:
    made = generate(tmp_path / "smile_export", products=SKUS, customers=1, seed=5)
    levels = read_file(made.paths["stock"], "stock").records
    expected = {sim_product_id(lv.product_code): max(0, int(lv.on_hand - lv.allocated)) for lv in levels
                if lv.product_code != MISSING_CODE}
    inbox = SmileSettings().dirs(tmp_path / "data").inbox
    log = tmp_path / "daemon.log"
    async with run_simulator(products=SKUS + 1, users=1, orders=0, seed=5,
                             faults=FaultConfig(write_latency_ms=10)) as sim:
        cfg = config(tmp_path, sim)
        deliver(made.paths["stock"], inbox, "stock_001.csv")

        daemon = await bridge("run", "--config", str(cfg), sim=sim, log=log)
        await until(lambda: len(stock_writes(sim)) >= KILL_AFTER, "the first stock writes", daemon, log)
        daemon.send_signal(signal.SIGKILL)
        await daemon.wait()
        await asyncio.sleep(0.5)  # let the simulator finish handling what reached it before the kill
        before_kill = len(stock_writes(sim))
        assert before_kill < len(expected), "killed mid-cycle, with writes still to do"

        daemon = await bridge("run", "--config", str(cfg), sim=sim, log=log)
        try:
            await until(lambda: {pid for pid, _ in stock_writes(sim)} >= set(expected), "every SKU written", daemon, log)
        finally:
            daemon.send_signal(signal.SIGTERM)
            assert await daemon.wait() == 0, log.read_text(errors="replace")[-3000:]

        writes = stock_writes(sim)
        amounts = {pid: sim.state.products[pid].amount for pid in expected}
        assert amounts == expected, "nothing lost, every amount right"
        assert all(amount == expected[pid] for pid, amount in writes), "every write carries the one right amount"
        repeated = {pid: n for pid, n in Counter(pid for pid, _ in writes).items() if n > 1}
        # the writes the killed daemon made but could not record are read back, not sent again
        assert not repeated, f"SKUs written twice: {repeated}"
        state = sqlite3.connect(tmp_path / "data" / "state.sqlite3")
        try:
            ops = dict(state.execute("SELECT key, COUNT(*) FROM outbox WHERE entity = 'product_stock' GROUP BY key"))
        finally:
            state.close()
        assert len(ops) == len(expected) and set(ops.values()) == {1}, "the restart enqueued nothing twice"

        # the guard: a file zeroing half the SKUs is held by `bridge sync stock`, applied by `--force`
        stocked = sorted(lv.product_code for lv in levels if lv.on_hand - lv.allocated > 0
                         and lv.product_code != MISSING_CODE)
        zeroed = stocked[: len(stocked) // 2]
        rewrite_stock(made.paths["stock"], {code: 0 for code in zeroed})
        deliver(made.paths["stock"], inbox, "stock_002.csv")
        sim.requests.clear()
        held = await bridge("sync", "stock", "--config", str(cfg), sim=sim, log=tmp_path / "sync.log")
        assert await held.wait() == 0
        output = (tmp_path / "sync.log").read_text()
        assert "mass-change guard" in output and "--force" in output and "stock.guard_tripped" in output
        assert stock_writes(sim) == [] and (inbox / "stock_002.csv").exists()
        forced = await bridge("sync", "stock", "--force", "--config", str(cfg), sim=sim, log=tmp_path / "force.log")
        assert await forced.wait() == 0, (tmp_path / "force.log").read_text()
        assert sorted(stock_writes(sim)) == sorted((sim_product_id(code), 0) for code in zeroed)
        assert not (inbox / "stock_002.csv").exists()
