"""Report packs from the shipped rules/reports.yaml: written to the reports folder and mailed through a real SMTP
server with a one-line Japanese summary; the schedule (JST time of day, once per period); the reports job."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from bridge.analytics import packs
from bridge.analytics.periods import Period
from bridge.analytics.rules import load_report_rules
from bridge.config import Settings
from bridge.domain.time import JST
from tests.analytics.smtp import smtp_server

RULES_DIR = Path(__file__).resolve().parents[2] / "rules"
NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))


def _settings(shop, tmp_path: Path, port: int) -> Settings:
    return Settings(data_dir=tmp_path, rules_dir=RULES_DIR,
                    analytics={"path": shop.analytics.path, "reports_dir": tmp_path / "reports"},
                    mail={"smtp_host": "127.0.0.1", "smtp_port": port, "starttls": False, "sender": "bridge@example.jp",
                          "staff": ["soko@example.jp"]})


async def test_the_shipped_monthly_pack_is_written_and_mailed(shop, tmp_path: Path) -> None:
    rules = load_report_rules(RULES_DIR / "reports.yaml")
    pack = rules.pack("monthly").model_copy(update={"recipients": ["keiei@example.jp", "eigyo@example.jp"]})
    with smtp_server() as (inbox, port):
        done = await packs.run_pack(_settings(shop, tmp_path, port), rules, pack, NOVEMBER)
    folder = tmp_path / "reports" / "monthly" / "2026-11-01"
    assert done.folder == folder
    names = {p.name for p in done.files}
    assert {"monthly-2026-11-01.html", "monthly-2026-11-01.xlsx", "sales_by_month.csv", "stock_by_sku.csv"} <= names
    assert (folder / "summary.txt").read_text(encoding="utf-8").startswith("月次経営レポート (2026-11-01〜2026-11-30): 売上")
    assert [r.kind for r in done.reports] == [e.kind for e in pack.reports]
    book = openpyxl.load_workbook(folder / "monthly-2026-11-01.xlsx", read_only=True)
    assert "sales_by_product" in book.sheetnames and "forecast_weekly" in book.sheetnames
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert inbox.envelopes[0][1] == ["keiei@example.jp", "eigyo@example.jp"]
    assert message["Subject"] == "[report] 月次経営レポート 2026-11-01〜2026-11-30"  # ja: tests/i18n
    body = message.get_body(("plain",)).get_content()
    assert body.splitlines()[0] == done.summary and "売上" in done.summary and "円" in done.summary
    attached = sorted(part.get_filename() for part in message.iter_attachments())
    assert attached == ["monthly-2026-11-01.html", "monthly-2026-11-01.xlsx"]
    assert done.mailed_to == ["keiei@example.jp", "eigyo@example.jp"]


def test_a_scheduled_pack_is_due_once_per_period_after_its_time_of_day() -> None:
    rules = load_report_rules(RULES_DIR / "reports.yaml")
    daily, weekly, monthly = (rules.pack(i) for i in ("daily", "weekly", "monthly"))
    early = datetime(2026, 12, 1, 6, 59, tzinfo=JST)
    on_time = datetime(2026, 12, 1, 7, 0, tzinfo=JST)
    assert packs.due(daily, early, None) is None
    assert packs.due(daily, on_time, None) == Period(date(2026, 11, 30), date(2026, 11, 30))
    assert packs.due(daily, on_time, "2026-11-30") is None
    # 2026-11-30T23:30Z is 08:30 JST on 1 December: the monthly pack (08:00) covers November
    assert packs.due(monthly, datetime.fromisoformat("2026-11-30T23:30:00+00:00"), None) == NOVEMBER
    assert packs.due(weekly, datetime(2026, 12, 3, 8, tzinfo=JST), None) == Period(date(2026, 11, 23),
                                                                                  date(2026, 11, 29))


def test_bad_report_rules_name_file_line_and_key(tmp_path: Path) -> None:
    from bridge.errors import ConfigError

    path = tmp_path / "reports.yaml"
    path.write_text("version: 1\npacks:\n  - id: x\n    name: テスト\n    reports:\n      - {kind: salez}\n"
                    "    at: '25:00'\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_report_rules(path)
    text = str(raised.value)
    assert f"{path}:6: packs.0.reports.0.kind: unknown report 'salez'" in text
    assert f"{path}:7: packs.0.at: at '25:00' is not a time HH:MM" in text


async def test_the_reports_job_makes_due_packs_once(shop, tmp_path: Path) -> None:
    from bridge.domain.time import Clock
    from bridge.store import Store
    from bridge.sync import JobContext, RunOptions
    from bridge.sync.registry import reports_job

    class At(Clock):
        def now(self) -> datetime:  # type: ignore[override]
            return datetime(2026, 12, 1, 9, 0, tzinfo=JST)

    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "reports.yaml").write_text(
        "version: 1\npacks:\n  - {id: d, name: 日次, schedule: daily, at: '07:00', reports: [{kind: sales, by: day}],"
        " formats: [html, csv], recipients: [a@example.jp]}\n", encoding="utf-8")
    with smtp_server() as (inbox, port):
        settings = _settings(shop, tmp_path, port).model_copy(update={"rules_dir": rules_dir})
        store = await Store.open(settings.state_path)
        try:
            from bridge.rules import load_rules
            from bridge.sync.services import FixedRules, Services
            from bridge.wiring import rule_files

            services = Services(rules=FixedRules(load_rules(rules_dir, rule_files())))
            job = reports_job(JobContext(settings=settings, store=store, clock=At(), services=services))
            first = await job.run(RunOptions())
            second = await job.run(RunOptions())
        finally:
            await store.close()
    assert first.changed == 1 and second.changed == 0, first.notes
    assert (tmp_path / "reports" / "d" / "2026-11-30" / "d-2026-11-30.html").is_file()
    assert len(inbox.messages) == 1 and "日次 (2026-11-30〜2026-11-30)" in inbox.messages[0].get_body(
        ("plain",)).get_content()


def test_the_report_kinds_the_rules_check_are_the_catalogue_s() -> None:
    """``rules/reports.yaml`` is validated against ``report_kinds`` (no report code imported at start-up)."""
    from bridge.analytics.reports import REPORTS
    from bridge.analytics.report_kinds import KINDS

    assert KINDS == {kind: spec.by for kind, spec in REPORTS.items()}
