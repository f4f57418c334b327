"""The machine a benchmark ran on, recorded with its results (``from machine import describe`` in bench scripts:
they run as ``python bench/NAME.py``, so this folder is on ``sys.path``)."""

from __future__ import annotations

import os
import platform
import sqlite3
from pathlib import Path


def describe() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), cpu)
    except OSError:
        pass
    return (f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, sqlite {sqlite3.sqlite_version}, "
            f"{platform.system()} {platform.release()}")
