"""Issue 13 "Must show": CS-Cart down for several cycles while SMILE stock changes every cycle (shortened delays).

The outbox stays bounded (one pending op per SKU), the dispatcher never errors, and within one dispatch round after
CS-Cart returns every SKU holds the newest amount. Then the same with a restart in the middle of the outage, the
old process having died holding a claimed batch. Real parts: the CS-Cart simulator (connection resets while down),
generated SMILE 在庫 files in the inbox, the stock job, the outbox in a sqlite file, the dispatcher."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.cli.in_process import in_process
from bridge.cscart.simulator import FaultRule, run_simulator
from bridge.smile.generator import generate
from bridge.smile.reader import read_file
from bridge.store import outbox as ob
from bridge.sync import RunOptions, registered_jobs
from bridge.sync.base import NoProgress
from tests.catalog.conftest import MISSING_CODE, CatalogWorld, sim_product_id, world_settings

SKUS = 150
CYCLES = 6

# two short tries 0.4 s apart keep a round's ops in flight while the job enqueues newer amounts (as in the daemon,
# where jobs and the dispatcher run side by side); the long back-off is cut from 30 s to 0.05-0.2 s
FAST_RETRIES = {"short_attempts": 2, "short_initial": 0.4, "short_max": 0.4, "long_initial": 0.05, "long_max": 0.2,
                "max_attempts": 10_000}


def expected(world: CatalogWorld) -> dict[str, int]:
    levels = read_file(world.master_stock, "stock").records
    return {lv.product_code: max(0, int(lv.on_hand - lv.allocated)) for lv in levels if lv.product_code != MISSING_CODE}


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


async def stock_cycle(run, world: CatalogWorld, cycle: int) -> None:  # type: ignore[no-untyped-def]
    """A changed 在庫 file (every SKU moves) and the stock job, while a dispatch round is under way."""
    codes = sorted(expected(world))
    world.deliver_stock({code: 10 + cycle * 3 + i % 7 for i, code in enumerate(codes)})
    await asyncio.sleep(0.25)  # the long back-off (shortened) of the failed ops passes
    round_ = asyncio.create_task(run.dispatcher.dispatch_once())
    await asyncio.sleep(0.05)  # the round has claimed its batch
    job = registered_jobs()["stock"].factory(run.context)
    result = await job.run(RunOptions(progress=NoProgress()))
    assert result.enqueued > 0, result.notes
    await round_


async def outbox_shape(run) -> tuple[dict[str, int], int]:  # type: ignore[no-untyped-def]
    """(rows by state, the largest number of pending ops any one SKU has)."""
    async with run.context.store.transaction() as tx:
        depth = await ob.depth_by_state(tx)
        cursor = await tx.execute(
            "SELECT COALESCE(MAX(n), 0) FROM (SELECT COUNT(*) AS n FROM outbox WHERE state = 'pending' "
            "GROUP BY target, entity, key, op)")
        worst = (await cursor.fetchone())[0]
    return depth, worst


@pytest.mark.parametrize("restart_mid_outage", [False, True], ids=["steady", "restart-mid-outage"])
async def test_outage_keeps_outbox_bounded_and_recovers_in_one_round(tmp_path: Path, restart_mid_outage: bool) -> None:
    made = generate(tmp_path / "smile_export", products=SKUS, customers=5, seed=3)
    async with run_simulator(products=SKUS + 1, users=3, orders=0, seed=3) as sim:
        settings = world_settings(tmp_path, sim, dispatch={"idle_poll": 0.05, "batch_size": 500, "concurrency": 256,
                                                           "retry": FAST_RETRIES},
                                  smile={"stable_seconds": 0})
        dirs = settings.smile.dirs(settings.data_dir)
        dirs.create()
        world = CatalogWorld(tmp_path, settings, sim, made, dirs)
        run_cm = in_process(settings)
        run = await run_cm.__aenter__()
        try:
            await stock_cycle(run, world, 0)  # CS-Cart up: binds and writes every SKU
            await run.dispatcher.drain_all()
            assert all(world.cscart_amount(c) == a for c, a in expected(world).items())

            outage = FaultRule(kind="reset", entity="*", method="*")
            sim.faults.rules.append(outage)
            for cycle in range(1, CYCLES + 1):
                if restart_mid_outage and cycle == CYCLES // 2:
                    # the old process dies holding a claimed batch; a new one starts during the outage
                    async with run.context.store.transaction() as tx:
                        held = await ob.claim(tx, targets=["cscart"], limit=40, now=1e12, lease=3600,
                                              owner=f"{ob.owner_token().rpartition(':')[0]}:{dead_pid()}")
                    assert held
                    await run_cm.__aexit__(None, None, None)
                    run_cm = in_process(settings)
                    run = await run_cm.__aenter__()
                    assert await run.dispatcher.release_abandoned() == len(held)
                await stock_cycle(run, world, cycle)
                depth, worst = await outbox_shape(run)
                assert worst <= 1, f"cycle {cycle}: a SKU has {worst} pending ops"
                assert depth[ob.PENDING] <= SKUS and depth[ob.IN_FLIGHT] == 0, depth
                assert depth[ob.DEAD] == 0
                assert run.dispatcher.health()[0], run.dispatcher.health()
            assert run.dispatcher.stats.retried > 0  # the outage really refused the writes

            sim.faults.rules.remove(outage)
            sim.requests.clear()
            await asyncio.sleep(0.25)  # the last back-off passes
            assert await run.dispatcher.dispatch_once() > 0  # one dispatch round
            wrong = {c: (world.cscart_amount(c), a) for c, a in expected(world).items() if world.cscart_amount(c) != a}
            assert not wrong, f"{len(wrong)} SKUs not at the newest amount after one round: {list(wrong.items())[:5]}"
            depth, _ = await outbox_shape(run)
            assert depth[ob.PENDING] == 0 and depth[ob.IN_FLIGHT] == 0 and depth[ob.DEAD] == 0, depth
            assert run.dispatcher.health()[0]
        finally:
            await run_cm.__aexit__(None, None, None)
