"""What a sync job is: read → rules → plan → enqueue, in one store transaction, re-runnable, with a dry run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from bridge.config import Settings
from bridge.domain.time import Clock
from bridge.i18n import Text, _
from bridge.store import Store
from bridge.sync.services import Services


class Progress(Protocol):
    """A progress sink; the CLI passes a rich progress bar on a TTY, the daemon a no-op."""

    def start(self, description: str, total: int | None) -> None: ...

    def advance(self, amount: int = 1) -> None: ...


class NoProgress:
    def start(self, description: str, total: int | None) -> None:
        return None

    def advance(self, amount: int = 1) -> None:
        return None


@dataclass(slots=True)
class RunOptions:
    dry_run: bool = False
    force: bool = False  # e.g. apply a stock file the mass-change guard stopped
    full: bool = False  # read and compute everything, not only what changed since the last run (stock, prices)
    progress: Progress = field(default_factory=NoProgress)
    daemon: bool = False  # run by the daemon: work that can wait (the analytics copy) may follow in the background


@dataclass(slots=True)
class JobResult:
    read: int = 0
    changed: int = 0
    enqueued: int = 0
    failed: int = 0
    refused_files: int = 0  # input files refused (moved to error/): `bridge sync` exits non-zero
    plan: list[str] = field(default_factory=list)  # the first planned changes, for --dry-run
    notes: list[Text] = field(default_factory=list)  # operator text: catalogue messages only (tests/i18n/test_guard.py)
    more: bool = False  # work is waiting right now (a bounded run): the daemon runs the job again at once

    def absorb(self, more: JobResult) -> None:
        """Add a follow-up run's figures (a bounded run over a backlog, run again at once)."""
        self.read, self.changed = self.read + more.read, self.changed + more.changed
        self.enqueued, self.failed = self.enqueued + more.enqueued, self.failed + more.failed
        self.refused_files += more.refused_files
        self.notes.extend(more.notes)
        self.more = more.more

    def summary(self) -> str:
        return _("read {read}, changed {changed}, enqueued {enqueued}, failed {failed}").format(
            read=self.read, changed=self.changed, enqueued=self.enqueued, failed=self.failed)


@dataclass(slots=True)
class JobContext:
    """What a job may use. Edges are optional: a job that needs one missing raises ``ConfigError``."""

    settings: Settings
    store: Store
    clock: Clock
    services: Services = field(kw_only=True)  # rules, CS-Cart client, events publisher …
    wake_dispatcher: Callable[[], None] = lambda: None


class Job(Protocol):
    name: str

    async def run(self, options: RunOptions) -> JobResult: ...


MAX_FOLLOW_UPS = 100  # runs after the first while the job says more is waiting (`bridge sync`)


async def follow_ups(job: Job, result: JobResult, options: RunOptions) -> JobResult:
    """After ``result`` (a bounded run over a backlog: orders), the rest now, as the daemon does: the job again
    while it says more is waiting, up to ``MAX_FOLLOW_UPS`` runs; a dry run has none."""
    for _round in range(MAX_FOLLOW_UPS):
        if options.dry_run or not result.more:
            break
        result.absorb(await job.run(RunOptions(force=options.force, daemon=options.daemon)))
    return result


@dataclass(frozen=True, slots=True)
class JobSpec:
    name: str
    description: str
    factory: Callable[[JobContext], Job]
    # outside systems the job cannot run without; one that is not configured at all leaves the job out at start-up
    needs: tuple[str, ...] = ()


REGISTRY: dict[str, JobSpec] = {}


def register(
    name: str, description: str, needs: tuple[str, ...] = ("cscart",)
) -> Callable[[Callable[[JobContext], Job]], Callable[[JobContext], Job]]:
    """Every shipped job reads or writes CS-Cart, hence the default ``needs``."""

    def decorate(factory: Callable[[JobContext], Job]) -> Callable[[JobContext], Job]:
        REGISTRY[name] = JobSpec(name, description, factory, needs)
        return factory

    return decorate
