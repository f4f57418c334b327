"""The SMILE snapshot a job works from: the newest complete inbox file of one type, else the last one applied.

SMILE masters (商品, 得意先, 数量別単価) are full snapshots, so only the newest complete file counts:

* ``consume=True`` (the job that owns the file type): the newest file goes through the inbox (a bad file goes to
  ``error/`` with its report, a good one to ``archive/`` and the ``smile_files`` table); older complete files are
  archived as ``NAME.superseded`` without being read;
* ``consume=False`` (a job that only reads another job's type, e.g. prices reading 商品マスター): the newest file is
  read in place and left for its owner;
* no usable new file: the last applied file is read again from the archive, so a job that depends on the clock
  (the 00:00 JST price switch) still has its input.

A dry run reads only; nothing is moved or recorded.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bridge.i18n import Text, _
from bridge.domain.time import JST, Clock
from bridge.events import EventPublisher
from bridge.smile.inbox import Inbox, InboxFile, unique_path
from bridge.smile.layout import FileLayout
from bridge.smile.reader import ReadResult, read_file
from bridge.smile.settings import SmileSettings
from bridge.store import Store, smile_files
from bridge.sync.base import JobResult, RunOptions
from bridge.sync.jobkit import finish


@dataclass(slots=True)
class Snapshot:
    result: ReadResult | None  # None: no file of this type was ever available
    source: str = ""  # "inbox" (a new file), "archive" (the last applied one) or ""
    notes: list[Text] = field(default_factory=list)
    absent: Text | None = None  # the note that no file of this type arrived yet (also in notes)
    file_time: datetime | None = None  # when SMILE wrote the file (its modification time): the date of its figures

    @property
    def records(self) -> list[Any]:  # the file type's records (Product, Customer, …)
        return self.result.records if self.result is not None else []

    @property
    def file_name(self) -> str:
        return self.result.path.name if self.result is not None else ""


Reader = Callable[[Path, str, SmileSettings, FileLayout], ReadResult]

Apply = Callable[[Snapshot, RunOptions, JobResult], Awaitable[dict[str, Any]]]
"""What a job does with its file: fills the result, returns extra fields for the run's log line."""


class SmileInput:
    """One per job instance: the inbox's stability watch must persist across runs."""

    def __init__(self, file_type: str, *, smile: SmileSettings, data_dir: Path, store: Store, clock: Clock,
                 events: EventPublisher) -> None:
        self.file_type = file_type
        self.settings = smile
        self.dirs = smile.dirs(data_dir)
        self.store, self.clock, self.events = store, clock, events
        self.inbox = Inbox(smile, self.dirs, store, clock=clock.time)

    async def run(self, job: str, options: RunOptions, description: str, steps: int, apply: Apply) -> JobResult:
        """A whole run of the job that owns this file type: progress (``steps``, the first one the file), the newest
        complete file (consumed) with its notes in the result, ``apply`` on it, and the end-of-run report
        (``jobkit.finish``, with the log fields ``apply`` returns). No file to apply: the notes say why and ``apply``
        is not called."""
        started = time.perf_counter()
        result = JobResult()
        options.progress.start(description, steps)
        snapshot = await self.current(consume=True, dry_run=options.dry_run)
        result.notes.extend(snapshot.notes)
        options.progress.advance()
        if snapshot.result is None:
            return finish(job, result, options, started)
        return finish(job, result, options, started, **await apply(snapshot, options, result))

    async def current(self, *, consume: bool, dry_run: bool, reader: Reader | None = None) -> Snapshot:
        """The newest usable file. ``reader`` (same signature and result as ``read_file``) reads a file in place or
        from the archive instead of ``read_file`` — e.g. against a job's memo, parsing only what changed."""
        notes: list[Text] = []
        if consume and not dry_run:
            for done in await self.inbox.refuse_long_names(self.file_type):
                notes.append(_("{name}…: refused, the file name is too long; moved to {moved_to}").format(
                    name=done.name[:60], moved_to=done.moved_to))
        files = self.inbox.complete_files(self.file_type)
        if files:
            newest, older = files[-1], files[:-1]
            written = _mtime(newest.path)
            if consume and not dry_run:
                fresh = await self._take(newest, notes)
                for item in older:
                    moved = self._supersede(item)
                    notes.append(_("{name}: superseded by {newest}, archived as {archived}").format(
                        name=item.path.name, newest=newest.path.name, archived=moved.name))
            else:
                fresh = await self._read(newest.path, notes, reader)
            if fresh is not None:
                return Snapshot(fresh, "inbox", notes, file_time=written)
        last = await self._last_applied()
        if last is None:
            absent = None
            if not files:
                absent = _("no {file_type} file in {inbox} yet").format(file_type=self.file_type, inbox=self.dirs.inbox)
                notes.append(absent)
            return Snapshot(None, "", notes, absent=absent)
        result = await self._read(last, notes, reader)
        return Snapshot(result, "archive" if result is not None else "", notes, file_time=_mtime(last))

    async def _take(self, item: InboxFile, notes: list[Text]) -> ReadResult | None:
        taken: list[ReadResult] = []

        async def capture(result: ReadResult) -> None:
            taken.append(result)

        processed = await self.inbox.process_file(item, capture)
        if processed.outcome == "applied":
            return taken[0]
        if processed.outcome == "duplicate":
            notes.append(_("{name}: same content as a file already applied; archived").format(name=item.path.name))
        else:
            notes.append(_("{name}: refused ({outcome}, {count} problem(s)); moved to {moved_to} with its .error.txt; "
                           "the last applied file is used").format(name=item.path.name, outcome=processed.outcome,
                                                                   count=processed.problems,
                                                                   moved_to=processed.moved_to))
            await self.events.publish("file_quarantined", {
                "file": item.path.name, "layout": self.file_type,
                "reason": f"{processed.problems} problem(s), see {processed.moved_to}.error.txt"})
        return None

    async def _read(self, path: Path, notes: list[Text], reader: Reader | None = None) -> ReadResult | None:
        layout = self.settings.layout(self.file_type)
        result = await asyncio.to_thread(reader or read_file, path, self.file_type, self.settings, layout)
        if result.ok:
            return result
        notes.append(_("{name}: {count} problem(s), not used: {problem}").format(
            name=path.name, count=result.problem_count, problem=result.problems[0]))
        return None

    async def _last_applied(self) -> Path | None:
        return await smile_files.last_applied(self.store, self.file_type)

    def _supersede(self, item: InboxFile) -> Path:
        folder = self.dirs.archive / datetime.fromtimestamp(self.clock.time(), JST).strftime("%Y%m%d")
        folder.mkdir(parents=True, exist_ok=True)
        target = unique_path(folder, item.path.name + ".superseded")
        shutil.move(str(item.path), target)
        if item.sentinel is not None:
            item.sentinel.unlink(missing_ok=True)
        return target


def _mtime(path: Path) -> datetime | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError:
        return None
