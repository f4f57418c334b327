"""The rules in force for the running daemon: the last good ``RuleSet``, reloaded on SIGHUP and when a file
changes. A bad file is refused with every problem logged; the last good rules stay, ``bridge_rules_valid`` drops to
0 (the alert) and ``bridge_rule_reloads_total{outcome="rejected"}`` counts it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import structlog

from bridge import metrics
from bridge.rules.loader import RuleFile, RuleProblem, RuleSet, check_rules, directory_digest, load_rules

log = structlog.get_logger("bridge.rules")

Outcome = Literal["loaded", "unchanged", "rejected"]


@dataclass(frozen=True, slots=True)
class ReloadResult:
    outcome: Outcome
    digest: str  # of the rules in force afterwards
    problems: tuple[RuleProblem, ...] = ()


class RulesProvider:
    """Jobs read ``provider.current`` at the start of each run, so one run sees one consistent rule set."""

    def __init__(self, directory: Path, rules: RuleSet, extra_files: Iterable[RuleFile] = ()) -> None:
        self.directory = Path(directory)
        self.extra_files = tuple(extra_files)
        self._current = rules
        self._seen_digest = rules.digest
        self._problems: tuple[RuleProblem, ...] = ()
        self._listeners: list[Callable[[RuleSet], None]] = []

    @classmethod
    def open(cls, directory: Path | str, extra_files: Iterable[RuleFile] = ()) -> RulesProvider:
        """Load the rules for start-up; raises ``RulesInvalid`` (there is no last good set to fall back on)."""
        extras = tuple(extra_files)
        rules = load_rules(directory, extras)
        metrics.RULES_VALID.set(1)
        log.info("rules.loaded", directory=str(directory), digest=rules.digest, files=list(rules.files))
        return cls(Path(directory), rules, extras)

    @property
    def current(self) -> RuleSet:
        return self._current

    @property
    def problems(self) -> tuple[RuleProblem, ...]:
        """The problems of the last refused reload; empty when the files on disk are the rules in force."""
        return self._problems

    def subscribe(self, listener: Callable[[RuleSet], None]) -> None:
        """Call ``listener`` with the new rules after each successful change."""
        self._listeners.append(listener)

    def reload(self) -> ReloadResult:
        rules, problems = check_rules(self.directory, self.extra_files)
        if rules is None:
            self._seen_digest = directory_digest(self.directory)
            self._problems = tuple(problems)
            metrics.RULE_RELOADS.labels("rejected").inc()
            metrics.RULES_VALID.set(0)
            log.error("rules.rejected", directory=str(self.directory), kept=self._current.digest,
                      problems=[str(p) for p in problems])
            return ReloadResult("rejected", self._current.digest, self._problems)
        self._seen_digest = rules.digest
        self._problems = ()
        metrics.RULES_VALID.set(1)
        if rules.digest == self._current.digest:
            metrics.RULE_RELOADS.labels("unchanged").inc()
            log.info("rules.unchanged", digest=rules.digest)
            return ReloadResult("unchanged", rules.digest)
        previous, self._current = self._current, rules
        metrics.RULE_RELOADS.labels("loaded").inc()
        log.info("rules.reloaded", previous=previous.digest, digest=rules.digest, files=list(rules.files))
        for listener in self._listeners:
            listener(rules)
        return ReloadResult("loaded", rules.digest)

    async def reload_hook(self) -> None:
        """For the daemon's SIGHUP hooks; the outcome is logged and in the metrics."""
        self.reload()

    def poll(self) -> ReloadResult | None:
        """Reload when the files differ from what was last read; None when nothing changed."""
        if directory_digest(self.directory) == self._seen_digest:
            return None
        return self.reload()

    async def watch(self, interval: float = 2.0) -> None:
        """Poll the rules directory every ``interval`` seconds (a background task of the daemon)."""
        while True:
            await asyncio.sleep(interval)
            try:
                self.poll()
            except Exception:  # noqa: BLE001 - a watcher that dies would silently stop hot reload
                log.exception("rules.watch_failed", directory=str(self.directory))
