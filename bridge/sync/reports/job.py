"""Job ``reports``: every scheduled pack whose time of day (JST) has passed and whose last complete period was not
made yet is made (reports folder) and mailed. One cursor per pack (``reports.<id>``) holds the period made last."""

from __future__ import annotations

import time

import structlog

from bridge import metrics
from bridge.analytics import packs
from bridge.analytics.rules import campaigns_in_force, rules_in_force
from bridge.store import cursors
from bridge.sync.base import JobContext, JobResult, RunOptions, register
from bridge.sync.jobkit import finish
from bridge.i18n import N_

log = structlog.get_logger("bridge.sync.reports")
JOB = "reports"


@register(JOB, N_("report packs due (rules/reports.yaml) → reports folder, mailed with a one-line summary"))
class ReportsJob:
    name = JOB

    def __init__(self, context: JobContext) -> None:
        self.ctx = context

    async def run(self, options: RunOptions) -> JobResult:
        started = time.perf_counter()
        ctx = self.ctx
        result = JobResult()
        if not ctx.settings.analytics.enabled:
            result.notes.append("analytics.enabled is false: no packs")
            return finish(JOB, result, options, started)
        rules = rules_in_force(ctx.services, ctx.settings.rules_dir)
        now = ctx.clock.now()
        for pack in rules.packs:
            async with ctx.store.transaction() as tx:
                last = await cursors.get(tx, f"reports.{pack.id}")
            period = packs.due(pack, now, last)
            if period is None:
                continue
            result.read += 1
            if options.dry_run:
                result.plan.append(f"pack {pack.id}: {period.label()} → {ctx.settings.analytics.reports_dir}")
                continue
            try:
                done = await packs.run_pack(ctx.settings, rules, pack, period,
                                            campaign_rules=campaigns_in_force(ctx.services, ctx.settings.rules_dir))
            except Exception as error:  # noqa: BLE001 - one pack failing must not stop the others; retried next run
                result.failed += 1
                metrics.REPORT_PACKS.labels(pack=pack.id, outcome="failed").inc()
                result.notes.append(f"pack {pack.id} ({period.label()}) failed: {error}")
                log.error("report pack failed", pack=pack.id, error=str(error))
                continue
            async with ctx.store.transaction() as tx:
                await cursors.set_(tx, f"reports.{pack.id}", period.start.isoformat())
            result.changed += 1
            metrics.REPORT_PACKS.labels(pack=pack.id, outcome="written").inc()
            if done.mailed_to:
                metrics.REPORT_PACKS.labels(pack=pack.id, outcome="mailed").inc()
            result.notes.append(f"pack {pack.id}: {done.summary} → {done.folder}"
                                + (f", mailed to {', '.join(done.mailed_to)}" if done.mailed_to else ""))
        return finish(JOB, result, options, started)
