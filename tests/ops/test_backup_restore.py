"""`bridge backup` is consistent while the state is being written; `bridge restore` verifies, keeps .bak, and refuses
to run under a live daemon (the state lock, which also stops a second daemon)."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from bridge.store import Store
from tests.ops.conftest import ROOT, DaemonProcess, only_stock_job


def bridge(*args: str, config: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "bridge", *args, "--config", str(config)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=False)
    # rich wraps long lines (paths) at the console width: compare messages with whitespace folded
    result.stderr = " ".join(result.stderr.split())
    return result


def write_config(tmp_path: Path) -> Path:
    config = tmp_path / "config.yaml"
    config.write_text(f"data_dir: {tmp_path / 'data'}\n", encoding="utf-8")
    return config


def count(path: Path, sql: str) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute(sql).fetchone()[0])


async def test_backup_is_one_consistent_snapshot_while_writes_go_on(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    store = await Store.open(tmp_path / "data" / "state.sqlite3")
    stop = asyncio.Event()

    async def write_pairs() -> int:
        # every transaction adds two rows; a torn copy would show an odd number
        pairs = 0
        while not stop.is_set():
            async with store.transaction() as tx:
                for half in ("a", "b"):
                    await tx.execute(
                        "INSERT INTO audit_log (at, actor, action, subject) VALUES ('t', 'test', 'pair', ?)", (half,))
            pairs += 1
            await asyncio.sleep(0)
        return pairs

    writer = asyncio.create_task(write_pairs())
    try:
        while (await store.fetchone("SELECT COUNT(*) FROM audit_log"))[0] < 200:
            await asyncio.sleep(0.01)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bridge", "backup", str(tmp_path / "backups") + "/", "--config", str(config),
            cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await process.communicate()
    finally:
        stop.set()
        pairs = await writer
        await store.close()
    assert process.returncode == 0, err.decode()
    [backup] = list((tmp_path / "backups").glob("state-*.sqlite3"))
    assert f"to {backup} (" in out.decode()
    copied = count(backup, "SELECT COUNT(*) FROM audit_log WHERE action = 'pair'")
    assert copied >= 200 and copied % 2 == 0 and copied <= 2 * pairs
    assert count(backup, "SELECT COUNT(*) FROM schema_migrations") >= 1
    assert not list((tmp_path / "backups").glob("*.partial"))
    assert backup.stat().st_mode & 0o777 == 0o600


def test_restore_refuses_under_a_running_daemon_then_swaps_and_keeps_bak(short_dir: Path) -> None:
    daemon = DaemonProcess(short_dir, only_stock_job(interval=3600))
    state = short_dir / "data" / "state.sqlite3"
    daemon.start()
    try:
        _wait_for(lambda: state.exists() and count(state, "SELECT COUNT(*) FROM schema_migrations") > 0, daemon)
        with sqlite3.connect(state) as conn:
            conn.execute("INSERT INTO audit_log (at, actor, action) VALUES ('t', 'test', 'before-backup')")
        backup = short_dir / "backup.sqlite3"
        result = bridge("backup", str(backup), config=daemon.config)
        assert result.returncode == 0, result.stderr
        with sqlite3.connect(state) as conn:
            conn.execute("INSERT INTO audit_log (at, actor, action) VALUES ('t', 'test', 'after-backup')")

        refused = bridge("restore", str(backup), config=daemon.config)
        assert refused.returncode == 1
        assert "in use by process" in refused.stderr and str(daemon.process.pid) in refused.stderr  # type: ignore[union-attr]

        (short_dir / "second").mkdir()
        second = DaemonProcess(short_dir / "second", "")
        second.config = daemon.config  # the same state file
        second.start()
        assert second.process is not None and second.process.wait(timeout=30) == 1
        assert "in use by process" in " ".join(second.output().split())
    finally:
        assert daemon.stop() == 0, daemon.output()[-3000:]

    result = bridge("restore", str(backup), config=daemon.config)
    assert result.returncode == 0, result.stderr
    actions = "SELECT group_concat(action) FROM audit_log WHERE actor = 'test'"
    assert _text(state, actions) == "before-backup"
    assert _text(state.with_name("state.sqlite3.bak"), actions) == "before-backup,after-backup"
    assert not state.with_name("state.sqlite3-wal").exists() or state.with_name("state.sqlite3-wal").stat().st_size == 0


def test_restore_rejects_bad_backups_and_leaves_the_state_alone(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    state = tmp_path / "data" / "state.sqlite3"
    asyncio.run(_create_state(state))
    before = state.read_bytes()

    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"not a database at all" * 100)
    foreign = tmp_path / "foreign.sqlite3"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE t (x)")
    newer = tmp_path / "newer.sqlite3"
    newer.write_bytes(before)
    with sqlite3.connect(newer) as conn:
        conn.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 't')")

    for path, message in ((garbage, "not a readable sqlite database"), (foreign, "no schema_migrations table"),
                          (newer, "schema version 9999 is newer"), (tmp_path / "missing", "not found")):
        result = bridge("restore", str(path), config=config)
        assert result.returncode == 1 and message in result.stderr, (path, result.stderr)
    assert state.read_bytes() == before
    assert not state.with_name("state.sqlite3.bak").exists()


def test_backup_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    asyncio.run(_create_state(tmp_path / "data" / "state.sqlite3"))
    target = tmp_path / "b.sqlite3"
    target.write_text("keep me")
    result = bridge("backup", str(target), config=config)
    assert result.returncode == 1 and "--force" in result.stderr and target.read_text() == "keep me"
    assert bridge("backup", str(target), "--force", config=config).returncode == 0
    assert count(target, "SELECT COUNT(*) FROM schema_migrations") >= 1


async def _create_state(path: Path) -> None:
    store = await Store.open(path)
    await store.close()


def _text(path: Path, sql: str) -> str:
    with sqlite3.connect(path) as conn:
        return str(conn.execute(sql).fetchone()[0])


def _wait_for(condition, daemon: DaemonProcess, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return
        except sqlite3.Error:
            pass
        assert time.monotonic() < deadline, daemon.output()[-3000:]
        time.sleep(0.05)
