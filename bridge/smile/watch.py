"""Watch the SMILE inbox (inotify) and run the job that takes a file as soon as the file is complete.

Without it a new 在庫 file waits for the stock job's next interval (10 minutes by default). The watcher only
triggers jobs; what is complete, and what is applied, stays the inbox's decision, so a trigger too early costs one
run that finds nothing new. Triggers fold into the scheduler's coalescing (a running job runs once more after, never
twice at once), and the interval stays the fallback: a missed event (a full inotify queue, a file system without
inotify) only delays a file until the next scheduled run.

* a ``NAME.done`` sentinel (completion ``sentinel`` or ``either``): the job runs at once;
* a data file written or moved in (completion ``stable`` or ``either``): the job runs once right away (the inbox
  starts its stability clock) and again ``stable_seconds`` after the last write to the file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from fnmatch import fnmatch
from pathlib import Path

import structlog

from bridge.smile.settings import SmileSettings

log = structlog.get_logger("bridge.smile.watch")

# SMILE file type → the jobs that take it from the inbox (the first owns it; others read it).
JOBS_BY_FILE_TYPE: Mapping[str, tuple[str, ...]] = {
    "stock": ("stock",),
    "products": ("products", "prices"),
    "quantity_prices": ("prices",),
    "customers": ("customers",),
    "customer_prices": ("customer_prices",),
}
SETTLE = 0.5  # seconds added to stable_seconds before the second trigger


class InboxWatcher:
    def __init__(self, settings: SmileSettings, inbox: Path, trigger: Callable[[str], bool], *,
                 jobs_by_type: Mapping[str, tuple[str, ...]] = JOBS_BY_FILE_TYPE) -> None:
        self.settings = settings
        self.inbox = inbox
        self.trigger = trigger
        self.jobs_by_type = {t: jobs for t, jobs in jobs_by_type.items() if t in settings.files}
        self._later: dict[str, asyncio.TimerHandle] = {}
        self.triggered: list[tuple[str, str]] = []  # (file name, job), the latest few, for status and tests

    def file_type(self, name: str) -> str | None:
        if name.startswith(".") or name.endswith((".tmp", ".part")):
            return None
        for file_type in self.jobs_by_type:
            if fnmatch(name, self.settings.layout(file_type).glob):
                return file_type
        return None

    def on_name(self, name: str) -> None:
        """React to a file ``name`` closed after writing or moved into the inbox."""
        suffix = self.settings.sentinel_suffix
        if name.endswith(suffix):
            if self.settings.completion == "stable":
                return
            file_type = self.file_type(name[: -len(suffix)])
            if file_type is not None:
                self._fire(name[: -len(suffix)], file_type)
            return
        file_type = self.file_type(name)
        if file_type is None or self.settings.completion == "sentinel":
            return
        self._fire(name, file_type)  # the inbox sees the file (its stability clock starts)
        pending = self._later.pop(name, None)
        if pending is not None:
            pending.cancel()
        loop = asyncio.get_running_loop()
        self._later[name] = loop.call_later(self.settings.stable_seconds + SETTLE, self._settled, name, file_type)

    def _settled(self, name: str, file_type: str) -> None:
        self._later.pop(name, None)
        self._fire(name, file_type)

    def _fire(self, name: str, file_type: str) -> None:
        for job in self.jobs_by_type[file_type]:
            if self.trigger(job):
                self.triggered = [*self.triggered[-19:], (name, job)]
                log.info("inbox.watch_triggered", file=name, job=job)

    async def run(self) -> None:
        """Watch until cancelled; without inotify (not Linux, no such folder) it logs once and returns."""
        try:
            from asyncinotify import Inotify, Mask
        except (ImportError, OSError) as exc:  # asyncinotify loads libc's inotify with ctypes
            log.warning("inbox.watch_unavailable", reason=str(exc), fallback="job intervals")
            return
        self.inbox.mkdir(parents=True, exist_ok=True)
        try:
            with Inotify() as inotify:
                inotify.add_watch(self.inbox, Mask.CLOSE_WRITE | Mask.MOVED_TO)
                log.info("inbox.watching", folder=str(self.inbox))
                async for event in inotify:
                    if event.name is not None:
                        self.on_name(event.name.name)
        except OSError as exc:
            log.warning("inbox.watch_unavailable", reason=str(exc), fallback="job intervals")
        finally:
            for handle in self._later.values():
                handle.cancel()
            self._later.clear()
