"""Operators' view of dead letters and status through the real CLI."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bridge.cli import app
from bridge.store import Store
from bridge.store import outbox as ob


@pytest.fixture
def dead_letters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    monkeypatch.setenv("BRIDGE_DATA_DIR", str(tmp_path))

    async def make() -> list[int]:
        store = await Store.open(tmp_path / "state.sqlite3")
        async with store.transaction() as tx:
            await ob.enqueue(tx, [ob.NewOp("cscart", "product.stock", "product", f"P{i}", {"amount": i})
                                  for i in range(3)], 0)
            claimed = await ob.claim(tx, targets=["cscart"], limit=10, now=0, lease=60, owner="t")
            await ob.complete(tx, [ob.Outcome(op, ob.DEAD, "PermanentError: 400 amount invalid", "fix amount")
                                   for op in claimed], "t")
        await store.close()
        return [op.id for op in claimed]

    return asyncio.run(make())


def test_list_show_replay_discard(dead_letters: list[int]) -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["dlq", "list"])
    assert listed.exit_code == 0 and "400 amount invalid" in listed.output and "P2" in listed.output

    shown = runner.invoke(app, ["dlq", "show", str(dead_letters[0])])
    assert shown.exit_code == 0 and "fix amount" in shown.output and '"amount": 0' in shown.output

    replayed = runner.invoke(app, ["dlq", "replay", str(dead_letters[0])])
    assert replayed.exit_code == 0 and "Replayed 1" in replayed.output

    discarded = runner.invoke(app, ["dlq", "discard", str(dead_letters[1]), "9999"])
    assert discarded.exit_code == 1  # 9999 is not a dead letter: said so, non-zero
    assert "Discarded 1" in discarded.output

    status = runner.invoke(app, ["status"])
    assert status.exit_code == 0
    assert "pending 1" in status.output and "dead 1" in status.output

    everything = runner.invoke(app, ["dlq", "replay", "--all"])
    assert everything.exit_code == 0 and "Replayed 1" in everything.output
    assert "No dead letters" in runner.invoke(app, ["dlq", "list"]).output


def test_replay_needs_ids_or_all(dead_letters: list[int]) -> None:
    result = CliRunner().invoke(app, ["dlq", "replay"])
    assert result.exit_code == 2  # a usage error (docs/operations.md "Exit codes")


def test_sync_lists_registered_jobs_and_refuses_unknown() -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["sync"]).exit_code == 0
    unknown = runner.invoke(app, ["sync", "no-such-job"])
    assert unknown.exit_code == 2
