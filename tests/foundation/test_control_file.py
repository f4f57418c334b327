"""Who holds the state file, as `bridge sync` and `bridge run` ask it: the state lock (flock) and the record its
holder writes (pid, role). `bridge sync` takes the state when it is free, waits for another `bridge sync`, finds a
daemon by the control file that names the holder's pid, waits for one still starting and then gives up; a file a
killed daemon left behind is ignored; a starting daemon waits for a `bridge sync` for as long as it runs and leaves
the wait on a stop."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bridge.control import ControlFile, announce, control_path, read, withdraw
from bridge.control.client import DaemonRunFailed, hold_or_find
from bridge.statelock import SYNC, Holder, StartAborted, StateLock, StateLocked

HOLD = """
import sys, time
from pathlib import Path
from bridge.statelock import StateLock
lock = StateLock(Path(sys.argv[1]))
assert lock.try_acquire(sys.argv[2]) is None
print("held", flush=True)
time.sleep(float(sys.argv[3]))
"""


def hold(state: Path, role: str = "", seconds: float = 60.0) -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(state), role, str(seconds)], stdout=subprocess.PIPE,
                               text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    return process


def stop(process: subprocess.Popen[str]) -> None:
    process.kill()
    process.wait()


def test_the_lock_names_its_holder_and_its_role(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    holder = hold(state, SYNC)
    try:
        assert StateLock(state).try_acquire() == Holder(str(holder.pid), SYNC)
        with pytest.raises(StateLocked, match=rf"`bridge sync` \(process {holder.pid}\) is running a job"):
            StateLock(state).acquire("restore over it")
    finally:
        stop(holder)
    mine = StateLock(state)
    assert mine.try_acquire() is None, "the kernel dropped it with the process"
    assert (tmp_path / "state.sqlite3.lock").read_text().strip() == str(os.getpid())
    mine.release()


def test_a_starting_daemon_waits_for_a_sync_and_leaves_the_wait_on_a_stop(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    holder = hold(state, SYNC, seconds=1.0)
    told: list[str] = []
    lock = StateLock(state)
    lock.acquire("start a second daemon on it", wait_for_sync=True, waiting=told.append)
    assert lock.held and told == [str(holder.pid)], "waited until the command let go, then took it"
    lock.release()
    holder.wait()

    holder = hold(state, SYNC)
    stopping = threading.Event()
    threading.Timer(0.5, stopping.set).start()
    try:
        with pytest.raises(StartAborted):
            StateLock(state).acquire("start a second daemon on it", wait_for_sync=True, stopped=stopping.is_set)
    finally:
        stop(holder)


def test_sync_takes_the_free_state_and_waits_for_another_sync(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    found = hold_or_find(state)
    assert isinstance(found, StateLock) and found.held
    assert StateLock(state).try_acquire() == Holder(str(os.getpid()), SYNC), "held in the sync role"
    found.release()

    other = hold(state, SYNC, seconds=1.0)
    told: list[tuple[str, str]] = []
    started = time.monotonic()
    found = hold_or_find(state, waiting=lambda why, pid: told.append((why, pid)), announce_wait=0.2)
    assert isinstance(found, StateLock) and found.held and time.monotonic() - started >= 0.5
    assert told == [("sync", str(other.pid))], "another `bridge sync` is waited for, however long (not 0.2 s)"
    found.release()
    other.wait()


def test_a_daemon_is_found_by_its_pid_and_one_that_does_not_announce_itself_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    daemon = hold(state)
    told: list[tuple[str, str]] = []
    try:
        with pytest.raises(DaemonRunFailed, match=rf"held by process {daemon.pid}, which does not take jobs"):
            hold_or_find(state, waiting=lambda why, pid: told.append((why, pid)), announce_wait=0.6)
        assert told == [("starting", str(daemon.pid))]
        control_path(state).write_text(json.dumps({"pid": 1, "url": "http://127.0.0.1:1", "token": "t"}))
        with pytest.raises(DaemonRunFailed):
            hold_or_find(state, announce_wait=0.4)  # another process's file is not this holder's announcement
        control_path(state).write_text(json.dumps({"pid": daemon.pid, "url": "http://127.0.0.1:1", "token": "t"}))
        assert hold_or_find(state, announce_wait=0.4) == ControlFile(daemon.pid, "http://127.0.0.1:1", "t")
    finally:
        stop(daemon)
    found = hold_or_find(state, announce_wait=0.4)  # its file is left behind, the state is free
    assert isinstance(found, StateLock) and found.held
    found.release()


def test_the_control_file_is_the_owners_alone_and_withdrawn_only_by_its_writer(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    stale = tmp_path / "state.sqlite3.control.partial"
    stale.symlink_to(tmp_path / "elsewhere")  # a link left where the partial file goes is replaced, not followed
    mine = announce(state, "http://127.0.0.1:5")
    assert read(state) == mine and mine.pid == os.getpid() and len(mine.token) >= 40
    assert control_path(state).stat().st_mode & 0o777 == 0o600
    assert not (tmp_path / "elsewhere").exists()
    withdraw(state, ControlFile(mine.pid, mine.url, "someone else's"))
    assert read(state) == mine, "a file that is not this process's stays"
    withdraw(state, mine)
    assert read(state) is None
