"""``bridge sync stock`` while ``bridge run`` holds the state (both real processes): the daemon's own job runs it —
the writes go out, the CLI prints the daemon's figures and pid — a dry run writes nothing, and when the daemon is
gone (stopped, or killed and its control file left behind) the CLI runs the job itself. A control file whose token
the daemon refuses is reported, not worked around."""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import signal
import sys
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from bridge.control import control_path
from bridge.cscart.simulator import Simulator, run_simulator
from bridge.smile.generator import generate, rewrite_stock
from bridge.smile.reader import read_file
from bridge.smile.settings import SmileSettings
from tests.catalog.conftest import MISSING_CODE, sim_product_id
from tests.catalog.test_stock_crash import ROOT, bridge, config, deliver, environment, stock_writes, until

SKUS = 40


def available(stock: Path, code: str) -> int:
    """What CS-Cart should show for ``code`` after the file: 現在庫 less 引当 (no orders here)."""
    level = next(lv for lv in read_file(stock, "stock").records if lv.product_code == code)
    return max(0, int(level.on_hand - level.allocated))


async def cli(cfg: Path, sim: Simulator, *args: str, job: str = "stock") -> tuple[int, str]:
    # a proxy in the environment must not see the token (nor break the call): the control call ignores proxies
    env = {**environment(sim), "HTTP_PROXY": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bridge", "sync", job, "--config", str(cfg), *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        out, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    finally:  # a failing test must not leave the command running
        if process.returncode is None:
            process.kill()
            await process.wait()
    return process.returncode or 0, out.decode()


async def eventually(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.02)


async def runs_in_the_command(cfg: Path, sim: Simulator, stock: Path, inbox: Path, code: str, on_hand: int,
                              name: str) -> None:
    """One changed SKU delivered and `bridge sync stock` run with no daemon: the command runs and delivers it."""
    rewrite_stock(stock, {code: on_hand})
    deliver(stock, inbox, name)
    exit_code, out = await cli(cfg, sim)
    assert exit_code == 0, out
    assert "run by the running daemon" not in out and "delivered 1, retry later 0, dead 0" in out, out
    assert sim.state.products[sim_product_id(code)].amount == available(stock, code)


def no_watcher(cfg: Path) -> None:
    """The inbox watcher off: a file that lands waits for the CLI (else the daemon would take it by itself)."""
    text = cfg.read_text(encoding="utf-8").replace("smile: {stable_seconds: 0}",
                                                   "smile: {stable_seconds: 0, watch_inbox: false}")
    cfg.write_text(text, encoding="utf-8")


async def test_sync_runs_in_the_daemon_and_in_this_process_when_the_daemon_is_gone(tmp_path: Path) -> None:
    made = generate(tmp_path / "smile_export", products=SKUS, customers=1, seed=7)
    stock = made.paths["stock"]
    inbox = SmileSettings().dirs(tmp_path / "data").inbox
    state = tmp_path / "data" / "state.sqlite3"
    log = tmp_path / "daemon.log"
    async with run_simulator(products=SKUS + 1, users=1, orders=0, seed=7) as sim:
        cfg = config(tmp_path, sim)
        no_watcher(cfg)
        deliver(stock, inbox, "stock_001.csv")
        codes = [lv.product_code for lv in read_file(stock, "stock").records if lv.product_code != MISSING_CODE]
        daemon = await bridge("run", "--config", str(cfg), sim=sim, log=log)
        try:
            await until(lambda: len({pid for pid, _ in stock_writes(sim)}) == len(set(codes))
                        and control_path(state).exists(),
                        "the start-up run and the control file", daemon, log)
            announced = json.loads(control_path(state).read_text(encoding="utf-8"))
            assert announced["pid"] == daemon.pid
            assert control_path(state).stat().st_mode & 0o777 == 0o600, "the token is for the state's owner only"

            # A changed file, taken by `bridge sync stock`: the daemon runs it and the CLI waits for the writes.
            changed = {code: 700 + n for n, code in enumerate(codes[:3])}  # 引当 is below 700 in the generated file
            rewrite_stock(stock, changed)
            deliver(stock, inbox, "stock_002.csv")
            before = len(stock_writes(sim))

            code, out = await cli(cfg, sim, "--dry-run")
            assert code == 0, out
            assert f"run by the running daemon (pid {daemon.pid})" in out
            assert re.search(r"stock: read \d+, changed 3, enqueued 0", out), out
            assert len(stock_writes(sim)) == before, "a dry run writes nothing"
            assert (inbox / "stock_002.csv").exists(), "and leaves the file in the inbox"

            code, out = await cli(cfg, sim)
            assert code == 0, out
            assert re.search(r"stock: read \d+, changed 3, enqueued 3, failed 0", out), out
            assert "delivered 3, retry later 0, dead 0" in out, "the CLI returns once the writes went out"
            assert f"run by the running daemon (pid {daemon.pid})" in out
            for changed_code in changed:
                assert sim.state.products[sim_product_id(changed_code)].amount == available(stock, changed_code)
            assert '"event": "control.run"' in log.read_text(errors="replace"), "the daemon's log shows the run"

            # A broken file: the daemon refuses it (moved to error/) and the CLI says so and exits 1.
            lines = stock.read_bytes().split(b"\r\n")
            broken = tmp_path / "broken.csv"
            cells = lines[5].split(b",")
            cells[4] = b"12a"  # 現在庫数量 is not a number
            broken.write_bytes(b"\r\n".join([*lines[:5], b",".join(cells), *lines[6:]]))
            deliver(broken, inbox, "stock_005.csv")
            code, out = await cli(cfg, sim)
            assert code == 1, out
            assert "1 input file(s) refused and moved to error/" in out
            assert "stock_005.csv: refused (1 problem(s)); nothing applied" in out
            report = next((tmp_path / "data").rglob("stock_005.csv.error.txt")).read_text(encoding="utf-8")
            assert "stock_005.csv:6, column 5 (現在庫数量), value '12a': not a number" in report, report
            assert f"run by the running daemon (pid {daemon.pid})" in out

            # A job this daemon does not run (prices is off in its config): the CLI runs it itself.
            code, out = await cli(cfg, sim, "--dry-run", job="prices")
            assert "run by the running daemon" not in out and re.search(r"^prices: read \d+", out, re.M), out

            # Callers without the token: refused before anything else (a non-ASCII header too, not a 500).
            where = urllib.parse.urlsplit(announced["url"])
            for header in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Bearer \u00e9t\u00e9"}):
                connection = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
                connection.request("POST", "/control/jobs/stock/run", body=b"{}", headers=header)
                assert connection.getresponse().status == 401, header
                connection.close()
            assert where.hostname == "127.0.0.1", "the control listener is on loopback only"

            # A control file whose token the daemon does not know: reported, nothing run behind the daemon's back.
            good = control_path(state).read_text(encoding="utf-8")
            control_path(state).write_text(json.dumps({**announced, "token": "not-the-token"}), encoding="utf-8")
            code, out = await cli(cfg, sim)
            assert code == 1
            assert f"the daemon (pid {daemon.pid}) refused the token in its control file" in out
            control_path(state).write_text(good, encoding="utf-8")
        finally:
            daemon.send_signal(signal.SIGTERM)
            assert await daemon.wait() == 0, log.read_text(errors="replace")[-3000:]
        assert not control_path(state).exists(), "a stopped daemon withdraws its control file"

        # No daemon: the CLI runs the job itself.
        await runs_in_the_command(cfg, sim, stock, inbox, codes[3], 801, "stock_003.csv")

        # A daemon killed with SIGKILL leaves its control file; nobody holds the state, so the CLI runs the job.
        daemon = await bridge("run", "--config", str(cfg), sim=sim, log=log)
        await until(lambda: control_path(state).exists(), "the control file", daemon, log)
        daemon.send_signal(signal.SIGKILL)
        await daemon.wait()
        assert control_path(state).exists()
        await runs_in_the_command(cfg, sim, stock, inbox, codes[4], 802, "stock_004.csv")


async def test_a_daemon_stopped_during_the_run_is_reported_and_a_starting_one_waits_for_a_sync(tmp_path: Path) -> None:
    """Faults together: SIGTERM while the daemon delivers the writes of a `bridge sync` it ran (CS-Cart slow), then
    a daemon starting while a `bridge sync` holds the state in its own process (it waits, then starts)."""
    made = generate(tmp_path / "smile_export", products=SKUS, customers=1, seed=8)
    stock = made.paths["stock"]
    inbox = SmileSettings().dirs(tmp_path / "data").inbox
    state = tmp_path / "data" / "state.sqlite3"
    log = tmp_path / "daemon.log"
    codes = [lv.product_code for lv in read_file(stock, "stock").records if lv.product_code != MISSING_CODE]
    async with run_simulator(products=SKUS + 1, users=1, orders=0, seed=8) as sim:
        cfg = config(tmp_path, sim)
        no_watcher(cfg)
        deliver(stock, inbox, "stock_001.csv")
        daemon = await bridge("run", "--config", str(cfg), sim=sim, log=log)
        await until(lambda: len({pid for pid, _ in stock_writes(sim)}) == len(set(codes))
                    and control_path(state).exists(), "the start-up run and the control file", daemon, log)

        sim.faults.write_latency_ms = 400  # each write takes a while: the daemon is still delivering at the SIGTERM
        rewrite_stock(stock, {code: 900 + n for n, code in enumerate(codes[:20])})
        deliver(stock, inbox, "stock_002.csv")
        written = len(stock_writes(sim))
        command = asyncio.create_task(cli(cfg, sim))
        # the first of the run's writes has reached CS-Cart: the job has run, its writes are being delivered
        await until(lambda: len(stock_writes(sim)) > written, "the run's first write", daemon, log)
        daemon.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(daemon.wait(), timeout=60) == 0, log.read_text(errors="replace")[-3000:]
        code, out = await command
        # the run itself was over (its writes being delivered): the command gets its figures and what is queued
        assert code == 0, out
        assert re.search(r"stock: read \d+, changed 20, enqueued 20, failed 0", out), out
        assert re.search(r"note: \d+ write\(s\) still queued: the daemon delivers them", out), out
        assert f"run by the running daemon (pid {daemon.pid})" in out
        assert not control_path(state).exists()

        # `bridge sync` runs the rest in its own process, holding the state; a daemon started meanwhile waits for it.
        sim.faults.write_latency_ms = 1500  # 3 rounds of 8 writes: the command outlasts the daemon's start-up by seconds
        rewrite_stock(stock, {code: 1900 + n for n, code in enumerate(codes[:20])})
        deliver(stock, inbox, "stock_003.csv")
        command = asyncio.create_task(cli(cfg, sim))
        lock_file = state.with_name(state.name + ".lock")
        try:
            await eventually(lambda: lock_file.read_text(errors="replace").strip().endswith(" sync"),
                             "the command holding the state")
        except BaseException:
            command.cancel()
            await asyncio.gather(command, return_exceptions=True)
            raise
        starting = await bridge("run", "--config", str(cfg), sim=sim, log=log)
        try:
            code, out = await command
            assert code == 0, out
            assert "run by the running daemon" not in out and "retry later 0, dead 0" in out, out
            await until(lambda: control_path(state).exists(), "the daemon's start after the command", starting, log)
            assert '"event": "daemon.waiting_for_sync"' in log.read_text(errors="replace")
        finally:
            starting.send_signal(signal.SIGTERM)
            assert await starting.wait() == 0, log.read_text(errors="replace")[-3000:]
        for n, code_ in enumerate(codes[:20]):
            assert sim.state.products[sim_product_id(code_)].amount == available(stock, code_), n
