"""A label file recorded but not written (the disk failed, the process died) is written from the recorded bytes at
the next run; its orders are never put on a second file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.sync.shipping import labels as shipping_export
from tests.carriers.e2e import later, shipping_for


async def test_a_label_file_cut_short_is_finished_from_the_record(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    async with shipping_for(tmp_path) as s:
        order_id = await s.instruct((1, 1))
        real_write = shipping_export.write_file

        def full_disk(directory: Path, name: str, content: bytes) -> Path:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(shipping_export, "write_file", full_disk)
        with pytest.raises(OSError):
            await s.run()
        assert s.label_files("yamato") == []
        [row] = await s.orders.store.fetchall("SELECT file_name, state FROM carrier_label_files")
        assert row["state"] == "writing"

        monkeypatch.setattr(shipping_export, "write_file", real_write)
        await s.at(later(s, minutes=1))  # not a scheduled time: only the recovery writes
        [label] = s.label_files("yamato")
        assert label.name == row["file_name"]
        assert label.read_bytes().decode("cp932").splitlines()[1].split(",")[0] == str(order_id)
        await s.at(later(s, days=1))
        assert s.label_files("yamato") == [label]
        [(state,)] = await s.orders.store.fetchall("SELECT state FROM carrier_label_files")
        assert state == "written"
