"""The inbox watcher: real inotify on a temporary inbox; the trigger records which job would run, when."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bridge.smile.settings import SmileSettings
from bridge.smile.watch import InboxWatcher


async def until(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the watcher did not trigger in time")
        await asyncio.sleep(0.02)


class Recorder:
    def __init__(self, known: set[str]) -> None:
        self.known = known
        self.calls: list[tuple[str, float]] = []

    def __call__(self, job: str) -> bool:
        self.calls.append((job, time.monotonic()))
        return job in self.known

    def jobs(self) -> list[str]:
        return [job for job, _ in self.calls]


async def watching(settings: SmileSettings, inbox: Path, recorder: Recorder):  # type: ignore[no-untyped-def]
    watcher = InboxWatcher(settings, inbox, recorder)
    task = asyncio.create_task(watcher.run())
    await asyncio.sleep(0.2)  # the watch is in place
    return watcher, task


async def test_a_sentinel_runs_the_stock_job_at_once(tmp_path: Path) -> None:
    settings = SmileSettings(completion="sentinel")
    recorder = Recorder({"stock", "prices", "products"})
    watcher, task = await watching(settings, tmp_path, recorder)
    try:
        (tmp_path / "stock_20261124.csv").write_bytes(b"x\r\n")
        await asyncio.sleep(0.3)
        assert recorder.jobs() == [], "sentinel mode: the data file alone triggers nothing"
        (tmp_path / "stock_20261124.csv.done").touch()
        await until(lambda: recorder.jobs() == ["stock"])
        (tmp_path / "notes.txt").write_text("unrelated")
        (tmp_path / "products_1.csv.done").touch()
        await until(lambda: recorder.jobs() == ["stock", "products", "prices"])
        assert watcher.triggered[-1] == ("products_1.csv", "prices")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_file_without_sentinel_runs_its_job_again_once_stable(tmp_path: Path) -> None:
    settings = SmileSettings(completion="stable", stable_seconds=0.5)
    recorder = Recorder({"stock"})
    watcher, task = await watching(settings, tmp_path, recorder)
    try:
        started = time.monotonic()
        (tmp_path / "stock_1.csv.part").write_bytes(b"x")  # a temporary name: ignored
        (tmp_path / "stock_1.csv.part").rename(tmp_path / "stock_1.csv")  # moved in complete
        await until(lambda: len(recorder.calls) == 2)
        first, second = recorder.calls
        assert first[1] - started < 2.0, "the first trigger lets the inbox start its stability clock"
        assert second[1] - first[1] >= 0.5, "the second one comes once the file had time to settle"
        assert recorder.jobs() == ["stock", "stock"]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
