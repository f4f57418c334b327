"""A cancellation after export with the shipped rules files (issue 15 defect 6): the 赤伝 file takes the slip back
from SMILE by default, and the carrier label already issued is flagged for recall."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from bridge.domain.orders import WorkflowState as S
from tests.carriers.e2e import shipping_for
from tests.orders.shipped import shipped_rules_dir


async def test_cancelled_after_export_writes_a_red_slip_and_lists_the_label_for_recall(tmp_path: Path) -> None:
    async with shipping_for(tmp_path, rules_dir=shipped_rules_dir(tmp_path / "shipped")) as s:
        labelled = await s.instruct((1, 2))
        await s.run()  # the label file is written
        [label] = s.label_files("yamato")
        unlabelled = await s.instruct((2, 1))
        for order_id in (labelled, unlabelled):
            await s.orders.set_status(order_id, "I")
        result = await s.orders.cycle()
        assert await s.state(labelled) is S.CANCELLED and await s.state(unlabelled) is S.CANCELLED
        red = [path for path in s.orders.outbox.glob("juchu_*.csv") if "_C" in path.name]
        assert len(red) == 1, result.notes
        rows = list(csv.DictReader(io.StringIO(red[0].read_bytes().decode("cp932"))))
        assert {(row["オーダー№"], row["数量"]) for row in rows} == {(str(labelled), "-2"), (str(unlabelled), "-1")}
        flags = await s.orders.flags(labelled)
        assert f"issued in {label.name}" in flags["label_recall"]
        assert "label_recall" not in await s.orders.flags(unlabelled)
