"""Who holds the state file, as `bridge sync` asks it (bridge/control): the kernel's flock, read from /proc/locks,
not the control file alone — a held lock with no announcement is waited for, then refused; a file a killed daemon
left behind is ignored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bridge.control import ControlFile, announce, control_path, read, withdraw
from bridge.control.client import DaemonRunFailed, lock_holder, running_daemon

HOLD = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(60)
"""


def hold(lock: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(lock)], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    return process


def test_the_lock_holder_is_the_process_that_holds_the_flock(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    assert lock_holder(state) is None, "no lock file: nobody"
    holder = hold(tmp_path / "state.sqlite3.lock")
    try:
        assert lock_holder(state) == holder.pid
        other = tmp_path / "other.sqlite3"
        (tmp_path / "other.sqlite3.lock").touch()
        assert lock_holder(other) is None, "another state's lock file is not held"
    finally:
        holder.kill()
        holder.wait()
    assert lock_holder(state) is None, "the kernel dropped it with the process"


def test_a_holder_that_does_not_announce_itself_is_waited_for_then_refused(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    holder = hold(tmp_path / "state.sqlite3.lock")
    told: list[int] = []
    try:
        started = time.monotonic()
        with pytest.raises(DaemonRunFailed, match=rf"held by process {holder.pid}, which does not take jobs"):
            running_daemon(state, waiting=told.append, announce_wait=0.6)
        assert time.monotonic() - started >= 0.6 and told == [holder.pid]
        # its announcement (a daemon that finished starting) is what the command waits for
        control_path(state).write_text(json.dumps({"pid": holder.pid, "url": "http://127.0.0.1:1", "token": "t"}))
        assert running_daemon(state, announce_wait=0.6) == ControlFile(holder.pid, "http://127.0.0.1:1", "t")
    finally:
        holder.kill()
        holder.wait()
    # a file left by a killed daemon: nobody holds the lock, so the job runs in the command
    assert control_path(state).exists() and running_daemon(state, announce_wait=0.6) is None


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
