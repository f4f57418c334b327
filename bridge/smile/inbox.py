"""The SMILE inbox: take a file only when complete, apply all of it or none of it, and keep a trail.

* complete: ``NAME.done`` beside it, or size and mtime unchanged for ``stable_seconds`` (watched across polls);
* too large: refused unread, moved to ``error/``;
* same checksum as a file already applied: ignored (archived as a duplicate);
* any problem: moved to ``error/`` with ``NAME.error.txt`` listing every problem; nothing is applied;
* applied: moved to ``archive/YYYYMMDD/``, checksum recorded in the state store.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatch
from pathlib import Path

from bridge import metrics
from bridge.domain.time import JST, iso, utcnow
from bridge.i18n import _
from bridge.smile.reader import ReadResult, read_file, stat_signature
from bridge.smile.settings import SmileDirs, SmileSettings
from bridge.store import Store

Apply = Callable[[ReadResult], Awaitable[None]]
Reader = Callable[..., ReadResult]  # read_file's signature: (path, file_type, settings, layout) → ReadResult
NOT_READ = ""  # the checksum recorded for a file refused unread (too large)


@dataclass(frozen=True, slots=True)
class InboxFile:
    path: Path
    file_type: str
    size: int
    sentinel: Path | None = None


@dataclass(frozen=True, slots=True)
class Processed:
    name: str
    file_type: str
    outcome: str  # applied | rejected | duplicate | too_large
    checksum: str
    records: int = 0
    problems: int = 0
    moved_to: Path | None = None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


MAX_NAME_BYTES = 200  # NAME_MAX is 255 bytes; the trail adds ".done", ".error.txt", "-N", ".duplicate"


def name_too_long(name: str) -> bool:
    return len(os.fsencode(name)) > MAX_NAME_BYTES


def trail_name(name: str) -> str:
    """``name`` as the trail can store it: cut (on a character boundary) with a hash when too long."""
    if not name_too_long(name):
        return name
    digest = hashlib.sha256(os.fsencode(name)).hexdigest()[:12]
    cut = name
    while len(os.fsencode(cut)) > MAX_NAME_BYTES - 20:
        cut = cut[:-1]
    return f"{cut}~{digest}"


def unique_path(directory: Path, name: str) -> Path:
    """``directory/name``, or ``name-1``, ``name-2`` … when taken (a re-delivery never overwrites the trail)."""
    candidate = directory / name
    stem, dot, suffix = name.partition(".")
    counter = 1
    while candidate.exists():
        candidate = directory / f"{stem}-{counter}{dot}{suffix}"
        counter += 1
    return candidate


class Inbox:
    def __init__(self, settings: SmileSettings, dirs: SmileDirs, store: Store | None = None, *,
                 clock: Callable[[], float] = time.time, reader: Reader = read_file) -> None:
        self.settings = settings
        self.dirs = dirs
        self.reader = reader  # read_file, or a job's LineMemo.read (same result, parses only new lines)
        self.store = store
        self._clock = clock
        self._first_seen: dict[Path, tuple[tuple[int, int], float]] = {}  # path → (signature, when first seen)

    # ---- what is ready -----------------------------------------------------------------------------------

    def complete_files(self, file_type: str) -> list[InboxFile]:
        """Files of ``file_type`` that are complete now, oldest first; a file still being written is left alone."""
        layout = self.settings.layout(file_type)
        suffix = self.settings.sentinel_suffix
        ready: list[tuple[int, InboxFile]] = []
        if not self.dirs.inbox.is_dir():
            return []
        for path in sorted(self.dirs.inbox.iterdir()):
            name = path.name
            if (not path.is_file() or name.startswith(".") or name.endswith((suffix, ".tmp", ".part"))
                    or not fnmatch(name, layout.glob)):
                continue
            try:
                signature = stat_signature(path)
            except FileNotFoundError:
                continue
            if name_too_long(name):  # NAME.done cannot even exist: ``refuse_long_names`` moves it to error/
                continue
            sentinel = path.with_name(name + suffix)
            has_sentinel = sentinel.is_file()
            if self._is_complete(path, signature, has_sentinel):
                ready.append((signature[1], InboxFile(path, file_type, signature[0], sentinel if has_sentinel else None)))
        return [item for _, item in sorted(ready, key=lambda pair: (pair[0], pair[1].path.name))]

    async def refuse_long_names(self, file_type: str) -> list[Processed]:
        """Move files of ``file_type`` whose names are too long for the trail to ``error/`` with a reason, so they
        neither fail a run nor block the valid files beside them."""
        if not self.dirs.inbox.is_dir():
            return []
        glob = self.settings.layout(file_type).glob
        refused = []
        for path in sorted(self.dirs.inbox.iterdir()):
            if name_too_long(path.name) and fnmatch(path.name, glob) and path.is_file():
                refused.append(await self.process_file(InboxFile(path, file_type, path.stat().st_size),
                                                       _never_applied))
        return refused

    def _is_complete(self, path: Path, signature: tuple[int, int], has_sentinel: bool) -> bool:
        mode = self.settings.completion
        if has_sentinel and mode in ("sentinel", "either"):
            return True
        if mode == "sentinel":
            return False
        now = self._clock()
        seen = self._first_seen.get(path)
        if seen is None or seen[0] != signature:
            self._first_seen[path] = (signature, now)  # new or changed: the stability clock starts again
            seen = self._first_seen[path]
        stable_for = self.settings.stable_seconds
        modified_age = now - signature[1] / 1e9
        return now - seen[1] >= stable_for and modified_age >= stable_for

    # ---- processing --------------------------------------------------------------------------------------

    async def process(self, file_type: str, apply: Apply) -> list[Processed]:
        """Process every complete file of ``file_type``; ``apply`` receives only fully valid files.

        If ``apply`` raises, the file stays in the inbox (the next poll retries it) and the error propagates.
        """
        done = await self.refuse_long_names(file_type)
        for item in self.complete_files(file_type):
            done.append(await self.process_file(item, apply))
        return done

    async def process_file(self, item: InboxFile, apply: Apply, *, outcome: str = "applied") -> Processed:
        """``outcome`` is what a valid file is recorded as: ``applied``, or ``superseded`` for an older snapshot a
        job validates and archives without applying (only ``applied`` files make later copies duplicates)."""
        self.dirs.create()
        layout = self.settings.layout(item.file_type)
        if name_too_long(item.path.name):
            report = (_("{name}: the file name is {count} bytes; the bridge needs at most {limit} bytes to keep its "
                        "trail (NAME.done, NAME.error.txt). The file was not read.\nFix: give the export a shorter "
                        "name and deliver it again.").format(
                          name=item.path.name, count=len(os.fsencode(item.path.name)), limit=MAX_NAME_BYTES))
            return await self._quarantine(item, NOT_READ, "bad_name", report, problems=1)
        if item.size > self.settings.max_file_bytes:
            # Refused before a single byte is read (not even hashed): the checksum stays empty.
            report = (_("{name}: {size:,} bytes is more than the limit of {max_file_bytes:,} bytes "
                        "(smile.max_file_bytes); the file was not read.\nFix: check that this is the right export; if "
                        "files this large are expected, raise smile.max_file_bytes and deliver the file again.").format(
                          name=item.path.name, size=item.size, max_file_bytes=self.settings.max_file_bytes))
            return await self._quarantine(item, NOT_READ, "too_large", report, problems=1)
        checksum = await asyncio.to_thread(sha256_of, item.path)
        if await self._already_applied(item.file_type, checksum):
            moved = self._archive(item, suffix=".duplicate")
            return await self._record(item, checksum, "duplicate", moved_to=moved)
        result = await asyncio.to_thread(self.reader, item.path, item.file_type, self.settings, layout)
        if not result.ok:
            return await self._quarantine(item, checksum, "rejected", self._error_text(result, checksum),
                                          problems=result.problem_count)
        await apply(result)
        moved = self._archive(item, suffix="" if outcome == "applied" else f".{outcome}")
        # A job's reader may validate the whole file but build only the records it needs (record_count: the file's).
        records = getattr(result, "record_count", None)
        return await self._record(item, checksum, outcome, records=len(result.records) if records is None else records,
                                  moved_to=moved)

    def _error_text(self, result: ReadResult, checksum: str) -> str:
        layout = self.settings.layout(result.file_type)
        head = [
            f"file: {result.path.name}",
            _("type: {layout} (encoding {encoding}, delimiter {delimiter!r}, header rows {rows})").format(
                layout=layout.label(), encoding=layout.encoding, delimiter=layout.delimiter, rows=layout.header_rows),
            f"sha256: {checksum}",
            f"checked: {datetime.now(JST).isoformat(timespec='seconds')}",
            "",
        ]
        return "\n".join(head) + result.report() + "\n"

    async def _already_applied(self, file_type: str, checksum: str) -> bool:
        if self.store is None:
            return False
        row = await self.store.fetchone(
            "SELECT 1 FROM smile_files WHERE file_type = ? AND checksum = ? AND outcome = 'applied' LIMIT 1",
            (file_type, checksum),
        )
        return row is not None

    def _archive(self, item: InboxFile, suffix: str = "") -> Path:
        day = datetime.fromtimestamp(self._clock(), JST).strftime("%Y%m%d")
        folder = self.dirs.archive / day
        folder.mkdir(parents=True, exist_ok=True)
        target = unique_path(folder, trail_name(item.path.name) + suffix)
        shutil.move(str(item.path), target)
        if item.sentinel is not None:
            item.sentinel.unlink(missing_ok=True)
        self._first_seen.pop(item.path, None)
        return target

    async def _quarantine(self, item: InboxFile, checksum: str, outcome: str, report: str,
                          problems: int) -> Processed:
        self.dirs.error.mkdir(parents=True, exist_ok=True)
        target = unique_path(self.dirs.error, trail_name(item.path.name))
        # The explanation first (complete, under its final name), then the file: error/ never holds a refused file
        # without its reason, even after a crash in between.
        explanation = target.with_name(target.name + ".error.txt")
        partial = explanation.with_name(f".{explanation.name}.tmp")
        partial.write_text(report, encoding="utf-8")
        os.replace(partial, explanation)
        shutil.move(str(item.path), target)
        if item.sentinel is not None:
            item.sentinel.unlink(missing_ok=True)
        self._first_seen.pop(item.path, None)
        metrics.SMILE_FILES_QUARANTINED.labels(layout=item.file_type).inc()
        return await self._record(item, checksum, outcome, problems=problems, moved_to=target)

    async def _record(self, item: InboxFile, checksum: str, outcome: str, *, records: int = 0, problems: int = 0,
                      moved_to: Path | None = None) -> Processed:
        metrics.SMILE_FILES.labels(layout=item.file_type, outcome=outcome).inc()
        if outcome == "applied":
            metrics.SMILE_FILES_PROCESSED.labels(layout=item.file_type).inc()
        if self.store is not None:
            async with self.store.transaction() as tx:
                await tx.execute(
                    "INSERT INTO smile_files (file_type, name, checksum, size, outcome, records, problems, moved_to,"
                    " processed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (item.file_type, item.path.name, checksum, item.size, outcome, records, problems,
                     str(moved_to) if moved_to else None, iso(utcnow())),
                )
        return Processed(item.path.name, item.file_type, outcome, checksum, records, problems, moved_to)


async def _never_applied(_: ReadResult) -> None:
    raise AssertionError("a file with a name too long for the trail is refused before it is read")
