"""An exclusive lock beside the state file: one daemon per state file, and no restore under a running daemon.

The lock is ``flock(2)`` on ``<state file>.lock``; the kernel drops it when the process dies (kill -9 included), so a
stale lock file never blocks a restart. The file holds the owner's pid, for the operator's error message only.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bridge.errors import ConfigError
from bridge.pids import alive
from bridge.i18n import _


class StateLocked(ConfigError):
    """Another process holds the state file."""


SYNC = "sync"  # the holder's role in the lock file: `bridge sync` running a job in its own process
RECORD = 32  # bytes the holder writes (pid, role, spaces): one pwrite, so a reader never sees it empty
EXTEND_EVERY = 20.0  # seconds between the `waiting` calls while a `bridge sync` holds the state


class StartAborted(ConfigError):
    """A stop was asked while the daemon waited for the state (it never started)."""


@dataclass(frozen=True, slots=True)
class Holder:
    pid: str  # as the holder wrote it; "unknown" when it could not be read
    role: str  # SYNC, or "" (a daemon, a restore)


def lock_path(state_path: Path) -> Path:
    return state_path.with_name(state_path.name + ".lock")


class StateLock:
    def __init__(self, state_path: Path) -> None:
        self.path = lock_path(state_path)
        self._fd: int | None = None

    def try_acquire(self, role: str = "") -> Holder | None:
        """Take the lock now (None), or name who holds it. ``role`` is written after the pid (``SYNC``: a `bridge
        sync` running a job in its own process)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                return _holder(fd)
            finally:
                os.close(fd)
        os.pwrite(fd, f"{os.getpid()} {role}".strip().encode("ascii").ljust(RECORD - 1) + b"\n", 0)
        os.ftruncate(fd, RECORD)
        self._fd = fd
        return None

    def acquire(self, purpose: str, *, role: str = "", wait_for_sync: bool = False,
                waiting: Callable[[str], None] | None = None, stopped: Callable[[], bool] | None = None) -> None:
        """Take the lock or raise ``StateLocked`` naming the holder; ``purpose`` goes into the message. With
        ``wait_for_sync``, a `bridge sync` holding it is waited for, however long its job takes (``waiting`` is
        told its pid at once and every ``EXTEND_EVERY`` seconds; ``stopped`` returning True ends the wait with
        ``StartAborted``)."""
        told = float("-inf")
        while (holder := self.try_acquire(role)) is not None:
            if holder.role != SYNC:
                raise StateLocked(_(
                    "{path}: the state file is in use by process {holder} (a running `bridge run`?); cannot "
                    "{purpose}. Stop it first: systemctl stop cscart-smile-bridge").format(
                        path=self.path, holder=holder.pid, purpose=purpose))
            if not wait_for_sync:
                raise StateLocked(_(
                    "{path}: `bridge sync` (process {holder}) is running a job on this state file; cannot {purpose}. "
                    "Wait for it to finish").format(path=self.path, holder=holder.pid, purpose=purpose))
            if stopped is not None and stopped():
                raise StartAborted(_("stopped while waiting for `bridge sync` (process {holder}) to finish").format(
                    holder=holder.pid))
            if waiting is not None and time.monotonic() - told >= EXTEND_EVERY:
                waiting(holder.pid)
                told = time.monotonic()
            time.sleep(0.5)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None


def _holder(fd: int) -> Holder:
    """The holder as its record names it. Its pid is written just after its flock: a record still empty, or naming
    a process that is gone (the previous holder's), is read again for up to a second."""
    pid, role = "unknown", ""
    for _attempt in range(20):
        pid, _space, role = os.pread(fd, RECORD, 0).decode("ascii", "replace").strip().partition(" ")
        if pid.isdigit() and alive(int(pid)):
            return Holder(pid, role.strip())
        time.sleep(0.05)
    return Holder(pid or "unknown", role.strip())

