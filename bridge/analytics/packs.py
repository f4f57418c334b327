"""Report packs (rules/reports.yaml): run their reports over one period, write them to the reports folder
(``REPORTS_DIR/<pack>/<first day of the period>/``) as HTML, Excel, CSV or Parquet, and mail them with a
one-line Japanese summary. Scheduled packs are made once per period, at their time of day (JST)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

from bridge.analytics import export, periods
from bridge.analytics.periods import Period
from bridge.analytics.render import html, workbook
from bridge.analytics.reports import Params, Report, run
from bridge.analytics.rules import Pack, ReportRules
from bridge.analytics.store import AnalyticsStore
from bridge.domain.time import JST
from bridge.i18n import _

log = structlog.get_logger("bridge.analytics.packs")


@dataclass(slots=True)
class PackRun:
    pack: Pack
    period: Period
    folder: Path
    files: list[Path] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)
    summary: str = ""
    mailed_to: list[str] = field(default_factory=list)
    seconds: float = 0.0


def period_of(pack: Pack, today: Any) -> Period:
    if pack.schedule != "none":
        return periods.last_complete(pack.schedule, today)
    kind = {"day": "daily", "week": "weekly", "month": "monthly"}[pack.period or "month"]
    return periods.last_complete(kind, today)


def summary_line(pack: Pack, period: Period, reports: list[Report]) -> str:
    """One line for the mail body: the pack, its period, and the first report's summary (sales first)."""
    first = next((r for r in reports if r.kind == "sales"), reports[0] if reports else None)
    return _("{pack} ({period}): {summary}").format(pack=pack.name, period=period.label(),
                                                    summary=first.summary if first else _("no reports"))


def build(analytics: AnalyticsStore, rules: ReportRules, pack: Pack, period: Period, reports_dir: Path, *,
          campaign_rules: Any = None, now: datetime | None = None) -> PackRun:
    """Blocking: run and write the pack (callers in the daemon use a thread)."""
    import time

    started = time.perf_counter()
    folder = Path(reports_dir) / pack.id / period.start.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    result = PackRun(pack, period, folder)
    with analytics.connect() as con:
        result.reports = _run_reports(con, rules, pack, period, campaign_rules)
        stem = f"{pack.id}-{period.start.isoformat()}"
        title = f"{pack.name} {period.label()}"
        if "html" in pack.formats:
            page = folder / f"{stem}.html"
            page.write_text(html.page(title, result.reports, generated=(now or datetime.now(JST)).astimezone(JST)),
                            encoding="utf-8")
            result.files.append(page)
        if "xlsx" in pack.formats:
            result.files.append(workbook.write(folder / f"{stem}.xlsx", title, result.reports))
        tables = [f for f in pack.formats if f in ("csv", "parquet")]
        if tables:
            result.files += export.report_files(con, result.reports, folder / "tables", tables)
    result.summary = summary_line(pack, period, result.reports)
    (folder / "summary.txt").write_text(result.summary + "\n", encoding="utf-8")
    result.seconds = time.perf_counter() - started
    return result


def _run_reports(con: Any, rules: ReportRules, pack: Pack, period: Period, campaign_rules: Any) -> list[Report]:
    """The pack's reports in order, on one connection (the sales reports share their lines and totals on it).
    Measured: running the forecast on a second thread beside the SQL reports made the pack twice as slow (the
    model fitting and DuckDB's threads fight over the two cores), so they run one after the other."""
    out = []
    for entry in pack.reports:
        options = rules.settings.options_for(entry.kind)
        if entry.kind == "campaigns" and campaign_rules is not None:
            options["rules"] = campaign_rules
        out.append(run(entry.kind, con, Params(period, by=entry.by, top=entry.top, bottom=entry.bottom,
                                               options=options)))
    return out


async def deliver(mail_settings: Any, done: PackRun) -> list[str]:
    """Mail the pack's HTML and Excel (tables stay in the folder) to its recipients; returns who got it."""
    from bridge.analytics import mail

    if not done.pack.recipients:
        return []
    attachments = [p for p in done.files if p.suffix in (".html", ".xlsx")]
    body = "\n".join([
        done.summary, "",
        _("reports: {titles}").format(titles=", ".join(r.title for r in done.reports)),
        _("folder: {folder}").format(folder=done.folder),
        "— cscart-smile-bridge"])
    message = mail.message(mail_settings.sender, done.pack.recipients,
                           _("[report] {pack} {period}").format(pack=done.pack.name, period=done.period.label()),
                           body, attachments)
    await mail.send(mail_settings, message)
    done.mailed_to = list(done.pack.recipients)
    return done.mailed_to


async def run_pack(settings: Any, rules: ReportRules, pack: Pack, period: Period, *, campaign_rules: Any = None,
                   mail: bool = True) -> PackRun:
    analytics = AnalyticsStore(settings.analytics.path, memory_limit=settings.analytics.memory_limit,
                               threads=settings.analytics.threads)
    done = await asyncio.to_thread(build, analytics, rules, pack, period, settings.analytics.reports_dir,
                                   campaign_rules=campaign_rules)
    if mail and pack.recipients and settings.mail.smtp_host:
        await deliver(settings.mail, done)
    elif mail and pack.recipients:
        log.warning("pack written, not mailed: mail.smtp_host is empty", pack=pack.id, folder=str(done.folder))
    return done


def due(pack: Pack, now: datetime, last_made: str | None) -> Period | None:
    """The period a scheduled pack should be made for now, or None (not scheduled, too early, already made)."""
    if pack.schedule == "none":
        return None
    local = now.astimezone(JST)
    hour, minute = (int(part) for part in pack.at.split(":"))
    if (local.hour, local.minute) < (hour, minute):
        return None
    period = periods.last_complete(pack.schedule, local.date())
    return None if last_made == period.start.isoformat() else period
