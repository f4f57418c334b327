"""Whether a process still lives (a lease's or a lock record's owner): signal 0 asks the kernel, sends nothing."""

from __future__ import annotations

import os


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it lives, under another user
    return True
