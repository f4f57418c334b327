"""An exclusive lock beside the state file: one daemon per state file, and no restore under a running daemon.

The lock is ``flock(2)`` on ``<state file>.lock``; the kernel drops it when the process dies (kill -9 included), so a
stale lock file never blocks a restart. The file holds the owner's pid, for the operator's error message only.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path

from bridge.errors import ConfigError
from bridge.i18n import _


class StateLocked(ConfigError):
    """Another process holds the state file."""


SYNC = "sync"  # the holder's role in the lock file: `bridge sync` running a job in its own process


def lock_path(state_path: Path) -> Path:
    return state_path.with_name(state_path.name + ".lock")


class StateLock:
    def __init__(self, state_path: Path) -> None:
        self.path = lock_path(state_path)
        self._fd: int | None = None

    def acquire(self, purpose: str, *, role: str = "", wait_for_sync: float = 0.0,
                waiting: Callable[[str], None] | None = None) -> None:
        """Take the lock or raise ``StateLocked`` naming the holder; ``purpose`` goes into the message. ``role``
        is written after the pid (``SYNC``: a `bridge sync` running a job in its own process); a holder in that
        role is waited for up to ``wait_for_sync`` seconds (``waiting`` is told its pid once): it ends by itself."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + wait_for_sync
        told = False
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o640)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder, _space, holder_role = os.pread(fd, 64, 0).decode("ascii", "replace").strip().partition(" ")
                os.close(fd)
            if holder_role == SYNC and time.monotonic() < deadline:
                if waiting is not None and not told:
                    waiting(holder)
                    told = True
                time.sleep(0.5)
                continue
            if holder_role == SYNC:
                raise StateLocked(_(
                    "{path}: `bridge sync` (process {holder}) is running a job on this state file; cannot {purpose}. "
                    "Wait for it to finish").format(path=self.path, holder=holder, purpose=purpose))
            raise StateLocked(_(
                "{path}: the state file is in use by process {holder} (a running `bridge run`?); cannot {purpose}. "
                "Stop it first: systemctl stop cscart-smile-bridge").format(path=self.path, holder=holder or "unknown",
                                                                           purpose=purpose))
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {role}".strip().encode("ascii") + b"\n", 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None
