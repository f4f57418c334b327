"""``SmileInput.run``: the one start and end of the jobs that apply a SMILE master file (products, customers)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from bridge.domain.time import Clock
from bridge.events import NullPublisher
from bridge.smile.generator import generate
from bridge.smile.settings import SmileSettings
from bridge.store import Store
from bridge.sync.base import JobResult, RunOptions
from bridge.sync.catalog.smile_input import SmileInput, Snapshot


class Steps:
    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    def start(self, description: str, total: int | None) -> None:
        self.seen.append(("start", (description, total)))

    def advance(self, amount: int = 1) -> None:
        self.seen.append(("advance", amount))


async def test_the_file_is_applied_once_and_a_run_without_one_does_not_call_the_job(tmp_path: Path,
                                                                                   store: Store) -> None:
    smile = SmileSettings()
    smile_input = SmileInput("products", smile=smile, data_dir=tmp_path / "data", store=store, clock=Clock(),
                             events=NullPublisher())
    smile_input.dirs.create()
    applied: list[tuple[str, int, bool]] = []

    async def apply(snapshot: Snapshot, options: RunOptions, result: JobResult) -> dict[str, Any]:
        applied.append((snapshot.source, len(snapshot.records), options.dry_run))
        result.read = len(snapshot.records)
        return {"creates": 0}

    steps = Steps()
    empty = await smile_input.run("products", RunOptions(progress=steps), "products: reading", 3, apply)
    assert applied == [] and empty.read == 0
    assert any("no products file" in note for note in empty.notes), empty.notes
    assert steps.seen == [("start", ("products: reading", 3)), ("advance", 1)]

    made = generate(tmp_path / "export", products=7, customers=1, seed=5)
    target = smile_input.dirs.inbox / made.paths["products"].name
    shutil.copy(made.paths["products"], target)
    target.with_name(target.name + ".done").touch()
    result = await smile_input.run("products", RunOptions(), "products: reading", 3, apply)
    assert applied == [("inbox", 7, False)] and result.read == 7
    again = await smile_input.run("products", RunOptions(dry_run=True), "products: reading", 3, apply)
    assert applied[1:] == [("archive", 7, True)] and again.read == 7  # the last applied file, read again
