"""The results inbox keeps SMILE's safe-folder rules (bridge/smile/inbox.py): only complete files, a size limit,
duplicates recognised by checksum, refused files in error/ with a report, applied ones in archive/YYYYMMDD."""

from __future__ import annotations

from pathlib import Path

from bridge.domain.orders import WorkflowState as S
from tests.carriers.e2e import shipping_for


async def test_a_file_still_being_written_waits_for_its_sentinel(tmp_path: Path) -> None:
    async with shipping_for(tmp_path) as s:  # smile.stable_seconds is 10 s: only NAME.done makes it complete
        order_id = await s.instruct((1, 1))
        s.inbox.mkdir(parents=True, exist_ok=True)
        partial = s.inbox / "result.csv"
        partial.write_text(f"order_no,delivery_no\n{order_id},389711074012\n", encoding="utf-8")
        (s.inbox / "result.csv.part").write_text("order_no,delivery_no\n", encoding="utf-8")
        await s.run()
        assert partial.exists() and await s.state(order_id) is S.SHIPPING_INSTRUCTED
        (s.inbox / "result.csv.done").write_text("")
        await s.run()
        assert not partial.exists() and await s.state(order_id) is S.SHIPPED
        assert (s.inbox / "result.csv.part").exists()  # never taken
        trail = await s.orders.store.fetchall("SELECT name, outcome, records FROM smile_files WHERE file_type = "
                                              "'carrier_result'")
        assert [tuple(row) for row in trail] == [("result.csv", "applied", 1)]


async def test_an_oversized_file_is_refused_unread(tmp_path: Path) -> None:
    async with shipping_for(tmp_path, smile={"max_file_bytes": 64}) as s:
        order_id = await s.instruct((1, 1))
        s.drop("huge.csv", "order_no,delivery_no\n" + f"{order_id},389711074012\n" * 10)
        await s.run()
        assert await s.state(order_id) is S.SHIPPING_INSTRUCTED
        report = (s.data / "carriers" / "error" / "huge.csv.error.txt").read_text(encoding="utf-8")
        assert "more than the limit of 64 bytes" in report and "the file was not read" in report
