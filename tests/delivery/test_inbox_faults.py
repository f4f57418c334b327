"""Issue 13 item 6: inbox faults that used to stop the stock flow, through the stock job (and the CLI)."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

from bridge.smile.reader import read_file
from bridge.store import Store
from tests.catalog.conftest import MISSING_CODE, CatalogWorld

ROOT = Path(__file__).resolve().parents[2]


def expected(world: CatalogWorld) -> dict[str, int]:
    levels = read_file(world.master_stock, "stock").records
    return {lv.product_code: max(0, int(lv.on_hand - lv.allocated)) for lv in levels if lv.product_code != MISSING_CODE}


async def file_log(world: CatalogWorld) -> list[tuple[str, str]]:
    store = await Store.open(world.settings.state_path)
    try:
        rows = await store.fetchall("SELECT name, outcome FROM smile_files ORDER BY id")
    finally:
        await store.close()
    return [(r["name"], r["outcome"]) for r in rows]


async def test_a_file_with_a_255_byte_name_is_refused_and_the_valid_file_beside_it_applied(
        world: CatalogWorld) -> None:
    world.deliver_stock()
    await world.run("stock")
    codes = sorted(expected(world))
    world.deliver_stock({codes[0]: 4321})
    long_name = "stock_" + "x" * (255 - len("stock_") - len(".csv")) + ".csv"
    assert len(long_name.encode()) == 255
    shutil.copy(world.master_stock, world.dirs.inbox / long_name)
    result = await world.run("stock")
    assert world.cscart_amount(codes[0]) == expected(world)[codes[0]]  # the valid file was applied
    assert result.refused_files == 1
    assert not [p for p in world.dirs.inbox.iterdir()], "nothing is left behind in the inbox"
    refused = [p.name for p in world.dirs.error.iterdir()]
    assert any(name.endswith(".error.txt") for name in refused)
    report = next(p for p in world.dirs.error.iterdir() if p.name.endswith(".error.txt")).read_text()
    assert "255 bytes" in report and "shorter name" in report
    again = await world.run("stock")  # the next run is not failed by it any more
    assert again.refused_files == 0 and again.failed == 0


async def test_two_identical_stock_files_in_one_poll_apply_once_and_the_log_says_so(world: CatalogWorld) -> None:
    world.deliver_stock()
    await world.run("stock")
    codes = sorted(expected(world))
    first = world.deliver_stock({codes[1]: 777})
    second = world.dirs.inbox / "stock_zz_copy.csv"
    shutil.copy(first, second)
    (world.dirs.inbox / (second.name + ".done")).touch()
    os.utime(second, (first.stat().st_mtime + 5, first.stat().st_mtime + 5))
    await world.run("stock")
    assert world.cscart_amount(codes[1]) == expected(world)[codes[1]]
    log = await file_log(world)
    assert (first.name, "superseded") in log and (second.name, "applied") in log, log
    assert (first.name, "applied") not in log


async def test_bridge_sync_stock_exits_non_zero_when_the_file_is_refused(world: CatalogWorld) -> None:
    world.dirs.inbox.mkdir(parents=True, exist_ok=True)
    bad = world.dirs.inbox / "stock_bad.csv"
    bad.write_bytes(b"this is not a stock file\r\n")
    (world.dirs.inbox / "stock_bad.csv.done").touch()
    config = world.root / "config.yaml"
    config.write_text(
        f"data_dir: {world.settings.data_dir}\nrules_dir: {ROOT / 'rules'}\nsmile: {{stable_seconds: 0}}\n"
        f"cscart: {{url: '{world.sim.url}', email: '{world.sim.email}', timeout: 10}}\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    env["BRIDGE_CSCART__API_KEY"] = world.sim.api_key
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bridge", "sync", "stock", "--config", str(config), env=env, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 1, output.decode()
    assert "stock_bad.csv" in output.decode()
