"""The inbox takes complete files only, applies all of a file or none of it, and keeps the trail."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bridge.smile.generator import GeneratedSet
from bridge.smile.inbox import NOT_READ, Inbox, sha256_of
from bridge.smile.reader import ReadResult
from bridge.smile.settings import SmileSettings
from bridge.store import Store


class Clock:
    """Seconds since the epoch, moved by hand; file mtimes are set relative to it."""

    def __init__(self, now: float = 2_000_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Applied:
    def __init__(self) -> None:
        self.results: list[ReadResult] = []

    async def __call__(self, result: ReadResult) -> None:
        self.results.append(result)


def make_inbox(tmp_path: Path, store: Store | None, clock: Clock, **changes: object) -> Inbox:
    settings = SmileSettings(**{"stable_seconds": 10.0, **changes})  # type: ignore[arg-type]
    dirs = settings.dirs(tmp_path / "data")
    dirs.create()
    return Inbox(settings, dirs, store, clock=clock)


def deliver(inbox: Inbox, source: Path, clock: Clock, *, age: float = 60.0, name: str | None = None) -> Path:
    target = inbox.dirs.inbox / (name or source.name)
    shutil.copyfile(source, target)
    os.utime(target, (clock.now - age, clock.now - age))
    return target


async def test_a_stable_file_is_applied_archived_and_recorded(tmp_path: Path, store: Store,
                                                              generated: GeneratedSet) -> None:
    clock = Clock()
    inbox = make_inbox(tmp_path, store, clock)
    delivered = deliver(inbox, generated.paths["stock"], clock)
    applied = Applied()

    assert await inbox.process("stock", applied) == []  # first sighting: the stability clock starts
    clock.now += 10
    [done] = await inbox.process("stock", applied)

    assert done.outcome == "applied" and done.records == len(generated.stock)
    assert applied.results[0].records == generated.stock
    assert not delivered.exists()
    assert done.moved_to is not None and done.moved_to.parent.parent == inbox.dirs.archive
    assert done.moved_to.parent.name == "20330518"  # JST date of the clock
    assert sha256_of(done.moved_to) == done.checksum == sha256_of(generated.paths["stock"])
    row = await store.fetchone("SELECT file_type, name, outcome, records FROM smile_files")
    assert tuple(row) == ("stock", "stock.csv", "applied", len(generated.stock))


async def test_a_file_still_being_written_is_left_alone(tmp_path: Path, generated: GeneratedSet) -> None:
    clock = Clock()
    inbox = make_inbox(tmp_path, None, clock)
    source = generated.paths["stock"].read_bytes()
    growing = inbox.dirs.inbox / "stock.csv"
    growing.write_bytes(source[: len(source) // 2])
    os.utime(growing, (clock.now - 60, clock.now - 60))
    assert inbox.complete_files("stock") == []
    clock.now += 9
    growing.write_bytes(source)  # the writer went on: size and mtime change, the clock restarts
    os.utime(growing, (clock.now - 60, clock.now - 60))  # even with an old mtime (cp -p keeps it)
    assert inbox.complete_files("stock") == []
    clock.now += 9
    assert inbox.complete_files("stock") == []
    clock.now += 1
    assert [f.path.name for f in inbox.complete_files("stock")] == ["stock.csv"]


async def test_a_sentinel_marks_a_file_complete_at_once(tmp_path: Path, generated: GeneratedSet) -> None:
    clock = Clock()
    inbox = make_inbox(tmp_path, None, clock, completion="sentinel")
    deliver(inbox, generated.paths["stock"], clock, age=3600)
    assert inbox.complete_files("stock") == []  # sentinel mode: age alone is not enough
    (inbox.dirs.inbox / "stock.csv.done").touch()
    applied = Applied()
    [done] = await inbox.process("stock", applied)
    assert done.outcome == "applied" and not (inbox.dirs.inbox / "stock.csv.done").exists()


async def test_a_redelivered_file_is_ignored(tmp_path: Path, store: Store, generated: GeneratedSet) -> None:
    clock = Clock()
    inbox = make_inbox(tmp_path, store, clock, stable_seconds=0.0)
    applied = Applied()
    deliver(inbox, generated.paths["stock"], clock)
    [first] = await inbox.process("stock", applied)
    deliver(inbox, generated.paths["stock"], clock, name="stock-again.csv")
    [again] = await inbox.process("stock", applied)

    assert (first.outcome, again.outcome) == ("applied", "duplicate")
    assert len(applied.results) == 1
    assert again.moved_to is not None and again.moved_to.name == "stock-again.csv.duplicate"
    outcomes = [tuple(r) for r in await store.fetchall("SELECT name, outcome FROM smile_files ORDER BY id")]
    assert outcomes == [("stock.csv", "applied"), ("stock-again.csv", "duplicate")]


async def test_a_bad_file_goes_to_error_with_every_problem_and_nothing_applied(tmp_path: Path, store: Store,
                                                                                generated: GeneratedSet) -> None:
    clock = Clock()
    inbox = make_inbox(tmp_path, store, clock, stable_seconds=0.0)
    text = generated.paths["stock"].read_bytes().decode("cp932").split("\r\n")
    text[3] = text[3].replace("000001", "000001,extra", 1)
    cells = text[7].split(",")
    cells[4] = "many"
    text[7] = ",".join(cells)
    bad = inbox.dirs.inbox / "stock.csv"
    bad.write_bytes("\r\n".join(text).encode("cp932"))
    applied = Applied()

    [done] = await inbox.process("stock", applied)

    assert done.outcome == "rejected" and done.problems == 2
    assert applied.results == []
    assert done.moved_to == inbox.dirs.error / "stock.csv" and done.moved_to.exists()
    report = (inbox.dirs.error / "stock.csv.error.txt").read_text(encoding="utf-8")
    assert "stock.csv:4" in report and "stock.csv:8, column 5 (現在庫数量), value 'many'" in report
    assert "nothing from this file was applied" in report and done.checksum in report
    assert not bad.exists()
    assert sorted(p.name for p in inbox.dirs.error.iterdir()) == ["stock.csv", "stock.csv.error.txt"]


async def test_a_file_over_the_size_bound_is_refused_unread(tmp_path: Path, generated: GeneratedSet) -> None:
    clock = Clock()
    inbox = make_inbox(tmp_path, None, clock, stable_seconds=0.0, max_file_bytes=1000)
    deliver(inbox, generated.paths["stock"], clock)
    applied = Applied()
    [done] = await inbox.process("stock", applied)
    assert done.outcome == "too_large" and applied.results == []
    assert done.checksum == NOT_READ  # refused before a byte was read, not even hashed
    report = (inbox.dirs.error / "stock.csv.error.txt").read_text(encoding="utf-8")
    assert "smile.max_file_bytes" in report and "was not read" in report
    assert (inbox.dirs.error / "stock.csv").read_bytes() == generated.paths["stock"].read_bytes()


async def test_when_applying_fails_the_file_stays_for_the_next_poll(tmp_path: Path, store: Store,
                                                                    generated: GeneratedSet) -> None:
    clock = Clock()
    inbox = make_inbox(tmp_path, store, clock, stable_seconds=0.0)
    delivered = deliver(inbox, generated.paths["stock"], clock)

    async def broken(result: ReadResult) -> None:
        raise RuntimeError("store is locked")

    with pytest.raises(RuntimeError):
        await inbox.process("stock", broken)
    assert delivered.exists()
    assert await store.fetchall("SELECT * FROM smile_files") == []
    [done] = await inbox.process("stock", Applied())
    assert done.outcome == "applied"


async def test_only_files_matching_the_layout_glob_are_taken(tmp_path: Path, generated: GeneratedSet) -> None:
    clock = Clock()
    inbox = make_inbox(tmp_path, None, clock, stable_seconds=0.0)
    deliver(inbox, generated.paths["stock"], clock, name="stock_20261124.csv")
    deliver(inbox, generated.paths["stock"], clock, name=".stock_partial.csv")
    deliver(inbox, generated.paths["stock"], clock, name="stock_tmp.csv.part")
    deliver(inbox, generated.paths["products"], clock)
    assert [f.path.name for f in inbox.complete_files("stock")] == ["stock_20261124.csv"]
    assert [f.path.name for f in inbox.complete_files("products")] == ["products.csv"]


def test_folders_default_under_the_data_dir(tmp_path: Path) -> None:
    dirs = SmileSettings(error_dir=Path("/srv/smile-errors")).dirs(tmp_path)
    assert dirs.inbox == tmp_path / "smile" / "inbox" and dirs.archive == tmp_path / "smile" / "archive"
    assert dirs.error == Path("/srv/smile-errors")


async def test_either_mode_takes_a_sentinel_file_before_it_is_stable(tmp_path: Path, generated: GeneratedSet) -> None:
    clock = Clock()
    inbox = make_inbox(tmp_path, None, clock)  # completion: either (the default)
    deliver(inbox, generated.paths["stock"], clock, age=0)
    assert inbox.complete_files("stock") == []
    (inbox.dirs.inbox / "stock.csv.done").touch()
    [ready] = inbox.complete_files("stock")
    assert ready.sentinel == inbox.dirs.inbox / "stock.csv.done"


async def test_a_rejected_file_delivered_again_is_checked_again(tmp_path: Path, store: Store,
                                                                generated: GeneratedSet) -> None:
    """Only an *applied* checksum makes a re-delivery a duplicate; a refused file is reported again."""
    clock = Clock()
    inbox = make_inbox(tmp_path, store, clock, stable_seconds=0.0)
    bad = tmp_path / "stock.csv"
    bad.write_bytes(generated.paths["stock"].read_bytes().replace(b"\r\n000001,", b"\r\n000001,,", 1))
    deliver(inbox, bad, clock)
    [first] = await inbox.process("stock", Applied())
    deliver(inbox, bad, clock)
    [second] = await inbox.process("stock", Applied())
    assert (first.outcome, second.outcome) == ("rejected", "rejected") and first.checksum == second.checksum
    assert second.moved_to == inbox.dirs.error / "stock-1.csv"
    assert (inbox.dirs.error / "stock-1.csv.error.txt").is_file()


async def test_the_archive_keeps_every_delivery_of_a_name(tmp_path: Path, store: Store,
                                                          generated: GeneratedSet) -> None:
    clock = Clock()
    inbox = make_inbox(tmp_path, store, clock, stable_seconds=0.0)
    deliver(inbox, generated.paths["stock"], clock)
    [first] = await inbox.process("stock", Applied())
    changed = tmp_path / "stock.csv"
    changed.write_bytes(generated.paths["stock"].read_bytes().replace(b"\r\n", b"\r\n\r\n", 1))  # a blank line
    deliver(inbox, changed, clock)
    [second] = await inbox.process("stock", Applied())
    assert (first.outcome, second.outcome) == ("applied", "applied") and first.checksum != second.checksum
    assert first.moved_to is not None and second.moved_to is not None
    assert (first.moved_to.name, second.moved_to.name) == ("stock.csv", "stock-1.csv")
    assert first.moved_to.is_file() and second.moved_to.is_file()
