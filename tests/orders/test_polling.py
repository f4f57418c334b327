"""Detection by polling: the overlap window reads orders again and again, yet no order reaches SMILE twice and none
is missed; the window is aware time, so midnight in Tokyo (15:00 UTC) is just another second."""

from __future__ import annotations

import csv
import io
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bridge.domain.orders import WorkflowState as S
from bridge.domain.time import JST, to_unix
from bridge.sync import RunOptions
from bridge.sync.orders.settings import OrdersSettings
from bridge.sync.orders.source import POLL_CURSOR, PollingSource
from bridge.sync.registry import orders_job
from tests.foundation.fakes import PinnedClock
from tests.orders.conftest import Harness, harness_for

PREPAID = 2


async def test_random_interleavings_of_orders_payments_edits_and_cycles_never_duplicate(harness: Harness) -> None:
    rng = random.Random(61)
    placed: list[int] = []
    prepaid: list[int] = []
    reread = 0
    for _ in range(60):
        action = rng.random()
        if action < 0.4:
            order_id = await harness.place(user_id=rng.randint(1, 19), payment_id=rng.choice([1, 1, PREPAID]),
                                           lines=[(rng.randint(1, 40), rng.randint(1, 3))])
            placed.append(order_id)
            if harness.sim.state.orders[order_id].payment_id == PREPAID:
                prepaid.append(order_id)
        elif action < 0.55 and prepaid:
            await harness.set_status(prepaid.pop(rng.randrange(len(prepaid))), "P")
        elif action < 0.65 and placed:
            harness.touch(rng.choice(placed))
        else:
            result = await harness.cycle()
            reread += result.read - result.changed
    for _ in range(2):
        await harness.cycle()
    exported = harness.exported_ids()
    assert len(exported) == len(set(exported)), "an order reached SMILE twice"
    unpaid = set(prepaid)
    assert set(exported) == set(placed) - unpaid
    for order_id in unpaid:
        assert (await harness.state(order_id)).workflow_state is S.HOLD
    assert reread > 0  # the overlap really read orders again


async def test_many_pages_are_read_whole(tmp_path: object) -> None:
    async with harness_for(tmp_path) as harness:  # type: ignore[arg-type]
        harness.orders = OrdersSettings(initial_lookback_hours=24 * 365 * 20, page_size=3)
        ids = [await harness.place(user_id=1 + n % 19, lines=[(1 + n % 30, 1)]) for n in range(20)]
        await harness.cycle()
        assert sorted(harness.exported_ids()) == ids
        listings = [r for r in harness.sim.requests.where(method="GET", entity="orders")
                    if "updated_at_from" in r.query]
        assert len(listings) >= 7
        assert all(r.query.get("items_per_page") == "3" and r.query.get("get_orders_data") == "1"
                   for r in listings)


async def test_an_order_on_either_side_of_midnight_in_tokyo(harness: Harness) -> None:
    clock = PinnedClock(datetime(2026, 11, 23, 14, 59, 50, tzinfo=UTC))  # 23:59:50 JST
    harness.sim.state.clock = lambda: clock.at.timestamp()
    context = replace(harness.context, clock=clock)

    async def cycle() -> None:
        await orders_job(context, settings=harness.orders).run(RunOptions())
        await harness.dispatcher.drain_all()

    before = await harness.place(user_id=1)
    await cycle()
    cursor = await harness.store.fetchone("SELECT value FROM cursors WHERE name = ?", (POLL_CURSOR,))
    assert cursor[0] == "2026-11-23T14:59:50+00:00"
    clock.at += timedelta(seconds=5)  # 23:59:55: placed now, committed late (inside the overlap)
    late = await harness.place(user_id=2)
    harness.sim.state.orders[late].updated_at = to_unix(clock.at - timedelta(seconds=30))
    clock.at += timedelta(seconds=15)  # 00:00:10 JST on the 24th
    after = await harness.place(user_id=3)
    await cycle()
    clock.at += timedelta(minutes=1)
    await cycle()
    rows = [row for path in harness.files()
            for row in csv.DictReader(io.StringIO(path.read_bytes().decode("cp932")))]
    dates = {int(row["オーダー№"]): row["受注日付"] for row in rows}
    assert dates == {before: "20261123", late: "20261123", after: "20261124"}
    assert sorted(harness.exported_ids()) == [before, late, after]


@given(
    cursor=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(JST)),
    gap=st.integers(min_value=-3600, max_value=86_400),
    overlap=st.integers(min_value=0, max_value=600),
)
def test_the_window_starts_one_overlap_before_the_last_start_whatever_the_zone(cursor: datetime, gap: int,
                                                                             overlap: int) -> None:
    source = PollingSource(client=None, overlap=timedelta(seconds=overlap), page_size=250,  # type: ignore[arg-type]
                           initial_lookback=timedelta(hours=24))
    started = (cursor + timedelta(seconds=gap)).astimezone(UTC)
    start = source.window_start(cursor.isoformat(), started)
    assert start.tzinfo is not None
    assert start == min(cursor, started) - timedelta(seconds=overlap)  # capped at this sync's start
    assert to_unix(start) == to_unix(start.astimezone(JST))
