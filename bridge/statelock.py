"""An exclusive lock beside the state file: one daemon per state file, and no restore under a running daemon.

The lock is ``flock(2)`` on ``<state file>.lock``; the kernel drops it when the process dies (kill -9 included), so a
stale lock file never blocks a restart. The file holds the owner's pid, for the operator's error message only.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from bridge.errors import ConfigError
from bridge.i18n import _


class StateLocked(ConfigError):
    """Another process holds the state file."""


def lock_path(state_path: Path) -> Path:
    return state_path.with_name(state_path.name + ".lock")


class StateLock:
    def __init__(self, state_path: Path) -> None:
        self.path = lock_path(state_path)
        self._fd: int | None = None

    def acquire(self, purpose: str) -> None:
        """Take the lock or raise ``StateLocked`` naming the holder; ``purpose`` goes into the message."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise StateLocked(_(
                "{path}: the state file is in use by process {holder} (a running `bridge run`?); cannot {purpose}. "
                "Stop it first: systemctl stop cscart-smile-bridge").format(path=self.path, holder=holder,
                                                                           purpose=purpose)) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None
