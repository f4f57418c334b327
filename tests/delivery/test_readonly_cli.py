"""Issue 13 items 10 and 8 (file modes): read-only commands never create state; the state file is private."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.store import Store

ROOT = Path(__file__).resolve().parents[2]


def bridge(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    env.update({"BRIDGE_DATA_DIR": str(data_dir), "BRIDGE_RULES_DIR": str(ROOT / "rules"), "COLUMNS": "200"})
    return subprocess.run([sys.executable, "-m", "bridge", *args], env=env, capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


@pytest.mark.parametrize("command", [["status"], ["dlq", "list"], ["orders", "list"]], ids=" ".join)
def test_read_only_command_on_a_missing_state_exits_2_naming_the_path(tmp_path: Path, command: list[str]) -> None:
    data_dir = tmp_path / "nonexistent"
    done = bridge(*command, data_dir=data_dir)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert str(data_dir / "state.sqlite3") in done.stderr.replace("\n", "")
    assert not data_dir.exists(), "a read-only command created state"


async def test_read_only_command_still_reads_an_existing_state(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "state.sqlite3")
    await store.close()
    done = bridge("status", data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Outbox: pending 0" in done.stdout


async def test_state_file_is_created_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        store = await Store.open(tmp_path / "state.sqlite3")
        await store.close()
    finally:
        os.umask(old)
    for path in tmp_path.glob("state.sqlite3*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == 0o600, f"{path.name} is {oct(mode)}"


def test_smile_and_label_files_are_not_world_readable_whatever_the_umask(tmp_path: Path) -> None:
    from bridge.sync.orders.export import write_file

    old = os.umask(0o000)
    try:
        path = write_file(tmp_path, "JUCHU_TEST.csv", "山田,1\r\n".encode("cp932"))
    finally:
        os.umask(old)
    mode = stat.S_IMODE(Path(path).stat().st_mode)
    assert mode & 0o007 == 0 and mode & 0o600 == 0o600, oct(mode)
