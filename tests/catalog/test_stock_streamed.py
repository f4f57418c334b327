"""A whole stock file (a first sync, ``--full``, no usable memo) is validated without keeping its records, then
parsed, computed and enqueued a chunk of codes at a time in one transaction: the plan, the CS-Cart result and the
memo are those of the whole read kept in memory, and a bad line at the very end applies nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bridge.cscart.simulator import run_simulator
from bridge.smile.generator import generate
from bridge.store import Store
from bridge.sync.catalog import stock as stock_module
from bridge.sync.catalog import stock_memo
from bridge.sync.catalog.stock import StockJob
from tests.catalog.conftest import CatalogWorld, world_settings

PRODUCTS = 80


async def _world(root: Path) -> AsyncIterator[CatalogWorld]:
    made = generate(root / "smile_export", products=PRODUCTS, customers=5, seed=3)
    async with run_simulator(products=PRODUCTS + 1, users=3, orders=0, seed=3) as sim:
        settings = world_settings(root, sim)
        dirs = settings.smile.dirs(settings.data_dir)
        dirs.create()
        yield CatalogWorld(root, settings, sim, made, dirs)


async def _outcome(world: CatalogWorld) -> dict[str, Any]:
    """What a run left: the outbox in enqueue order, the ledger, the bindings, CS-Cart's amounts and the memo."""
    store = await Store.open(world.settings.state_path)
    try:
        outbox = await store.fetchall("SELECT key, op, payload, state FROM outbox ORDER BY id")
        ledger = await store.fetchall("SELECT key, value_hash FROM ledger ORDER BY key")
        cursors = await store.fetchall("SELECT name, value FROM cursors WHERE name LIKE 'stock.%' ORDER BY name")
    finally:
        await store.close()
    memo_path = stock_memo.path_for(world.settings.state_path)
    memo = stock_memo.load(memo_path) if memo_path.exists() else None
    amounts = {pid: product.amount for pid, product in world.sim.state.products.items()}
    return {"outbox": outbox, "ledger": ledger, "cursors": cursors, "amounts": amounts,
            "bound": await world.bound("product"), "memo": memo}


def _summary(result: Any) -> tuple[Any, ...]:
    return (result.read, result.changed, result.enqueued, result.failed, [str(line) for line in result.plan],
            sorted(str(note) for note in result.notes))


@pytest.mark.parametrize("chunk", [1, 7, 30])
async def test_a_first_sync_larger_than_a_chunk_plans_and_writes_what_a_whole_read_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    monkeypatch.setattr(stock_module, "STREAM_CHUNK", chunk)  # 80 codes: many chunks
    outcomes = []
    for streamed in (False, True):
        monkeypatch.setattr(StockJob, "stream_whole_files", streamed)
        async for world in _world(tmp_path / f"streamed-{streamed}"):
            world.deliver_stock()
            first = await world.run("stock")
            # a second file: read against the memo the first run wrote (a streamed run writes the same memo)
            world.deliver_stock({"10000003": 5, "10000040": 0, "10000079": 321})
            second = await world.run("stock")
            outcomes.append((_summary(first), _summary(second), await _outcome(world)))
    whole, streamed_run = outcomes
    assert streamed_run == whole
    first = streamed_run[0]
    assert first[0] > 2 * chunk and first[2] == first[0] - 1  # every code but the one not in CS-Cart
    assert 1 <= streamed_run[1][2] <= 3


async def test_a_streamed_full_sync_against_a_written_ledger_plans_only_the_differences(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--full after a delivered sync: each chunk is diffed against the ledger's hashes of its codes only."""
    monkeypatch.setattr(stock_module, "STREAM_CHUNK", 9)
    from bridge.cli.sync_cmd import _run

    async for world in _world(tmp_path):
        world.deliver_stock()
        await world.run("stock")
        world.deliver_stock({"10000011": 7, "10000060": 99})
        result = await _run(world.settings, "stock", False, False, True)  # bridge sync stock --full
        assert result.read > 9 and result.changed == 2 and result.enqueued == 2


async def test_a_bad_last_line_of_a_file_larger_than_a_chunk_applies_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stock_module, "STREAM_CHUNK", 7)
    async for world in _world(tmp_path):
        before = {pid: product.amount for pid, product in world.sim.state.products.items()}
        target = world.dirs.inbox / "stock_bad.csv"
        lines = world.master_stock.read_bytes().decode("cp932").split("\r\n")
        last = max(number for number, line in enumerate(lines) if line)
        cells = lines[last].split(",")
        cells[4] = "x" + cells[4]  # 現在庫数量 not a number, on the file's last line
        lines[last] = ",".join(cells)
        target.write_bytes("\r\n".join(lines).encode("cp932"))
        target.with_name(target.name + ".done").touch()
        result = await world.run("stock")
        assert result.refused_files == 1 and result.enqueued == 0 and result.changed == 0
        report = (world.dirs.error / "stock_bad.csv.error.txt").read_text(encoding="utf-8")
        assert f"stock_bad.csv:{last + 1}" in report
        outcome = await _outcome(world)
        assert outcome["outbox"] == [] and outcome["ledger"] == [] and outcome["memo"] is None
        assert outcome["bound"] == {}
        assert outcome["amounts"] == before and world.product_writes() == []
