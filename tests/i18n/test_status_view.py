"""``bridge status`` for people: shop-zone times with the zone named, both languages, fits 80/100/120 columns."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console
from typer.testing import CliRunner

from bridge.cli import app
from bridge.store import Store

LONG_ERROR = "CS-Cart answered 503 Service Unavailable after 3 tries; the shop may be in maintenance mode " * 3


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BRIDGE_DATA_DIR", str(tmp_path))

    async def make() -> None:
        store = await Store.open(tmp_path / "state.sqlite3")
        try:
            async with store.transaction() as tx:
                await tx.execute(
                    "INSERT INTO job_state (job, last_success_at, last_failure_at, next_run_at, runs, failures, "
                    "last_error) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    ("customer_prices", "2026-12-03T16:19:05+00:00", "2026-12-03T15:00:00+00:00",
                     "2026-12-03T17:19:05+00:00", 12, 3, LONG_ERROR))
        finally:
            await store.close()

    asyncio.run(make())
    return tmp_path


def test_status_shows_shop_times_with_the_zone(state: Path, lang: str) -> None:
    result = CliRunner().invoke(app, ["status"])
    assert result.exit_code == 0, result.output
    title = {"en": "Jobs (times in JST)", "ja": "ジョブ (時刻は JST)"}[lang]
    assert title in result.output
    assert "12-04 01:19" in result.output  # 16:19 UTC is 01:19 the next day in Tokyo
    assert "2026-12-03T16:19:05" not in result.output
    outbox = {"en": "Outbox: pending 0", "ja": "送信待ち: 未処理 0"}[lang]
    assert outbox in result.output


def test_status_json_keeps_iso_times(state: Path) -> None:
    result = CliRunner().invoke(app, ["status", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["jobs"]["customer_prices"]["last_success_at"] == "2026-12-03T16:19:05+00:00"


@pytest.mark.parametrize("width", [80, 100, 120])
def test_status_fits_the_terminal(state: Path, lang: str, width: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from bridge.cli import common, status

    narrow = Console(width=width, record=True, file=open("/dev/null", "w"), force_terminal=True)  # noqa: SIM115
    monkeypatch.setattr(status, "console", narrow)
    monkeypatch.setattr(common, "console", narrow)
    status.status(config=None, as_json=False)
    text = narrow.export_text()
    lines = text.splitlines()
    assert lines and max(cell_len(line) for line in lines) <= width, text
    assert any("customer_prices" in line for line in lines)  # the job name is never cut
