"""Job ``reports``: every scheduled pack whose time of day (JST) has passed and whose last complete period was not
made yet is made (reports folder) and mailed. One cursor per pack (``reports.<id>``) holds the period made last."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import structlog

from bridge import metrics
from bridge.analytics.rules import ReportRules
from bridge.config import Settings
from bridge.domain.time import Clock
from bridge.i18n import _, verbatim
from bridge.store import Store, cursors
from bridge.sync.base import JobResult, RunOptions
from bridge.sync.jobkit import finish

log = structlog.get_logger("bridge.sync.reports")
JOB = "reports"


class ReportsJob:
    name = JOB

    def __init__(self, *, reports: Callable[[], ReportRules], campaigns: Callable[[], Any], settings: Settings,
                 store: Store, clock: Clock) -> None:
        """``reports``/``campaigns``: reports.yaml and campaigns.yaml in force (campaigns None when invalid);
        ``settings``: the packs read the analytics section, the mail section and the data folders."""
        self.reports, self.campaigns, self.settings, self.store, self.clock = reports, campaigns, settings, store, clock

    async def run(self, options: RunOptions) -> JobResult:
        started = time.perf_counter()
        result = JobResult()
        if not self.settings.analytics.enabled:
            result.notes.append(_("analytics.enabled is false: no packs"))
            return finish(JOB, result, options, started)
        rules = self.reports()
        now = self.clock.now()
        for pack in rules.packs:
            async with self.store.transaction() as tx:
                last = await cursors.get(tx, f"reports.{pack.id}")
            from bridge.analytics import packs  # pandas and duckdb: only when a pack is run, not on import

            period = packs.due(pack, now, last)
            if period is None:
                continue
            result.read += 1
            if options.dry_run:
                result.plan.append(_("pack {pack}: {period} → {folder}").format(
                    pack=pack.id, period=period.label(), folder=self.settings.analytics.reports_dir))
                continue
            try:
                done = await packs.run_pack(self.settings, rules, pack, period, campaign_rules=self.campaigns())
            except Exception as error:  # noqa: BLE001 - one pack failing must not stop the others; retried next run
                result.failed += 1
                metrics.REPORT_PACKS.labels(pack=pack.id, outcome="failed").inc()
                result.notes.append(_("pack {pack} ({period}) failed: {error}").format(
                    pack=pack.id, period=period.label(), error=error))
                log.error("report pack failed", pack=pack.id, error=str(error))
                continue
            async with self.store.transaction() as tx:
                await cursors.set_(tx, f"reports.{pack.id}", period.start.isoformat())
            result.changed += 1
            metrics.REPORT_PACKS.labels(pack=pack.id, outcome="written").inc()
            if done.mailed_to:
                metrics.REPORT_PACKS.labels(pack=pack.id, outcome="mailed").inc()
            # the summary is the pack's own one-line Japanese report summary (analytics), shown as written
            summary = verbatim(done.summary)
            result.notes.append(_("pack {pack}: {summary} → {folder}, mailed to {recipients}").format(
                pack=pack.id, summary=summary, folder=done.folder, recipients=", ".join(done.mailed_to))
                if done.mailed_to else
                _("pack {pack}: {summary} → {folder}").format(pack=pack.id, summary=summary, folder=done.folder))
        return finish(JOB, result, options, started)
