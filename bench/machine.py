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


def compile_bytecode(*trees: Path) -> str:
    """Compile each tree's ``bridge/`` to bytecode before measuring, as ``pip install`` does and as Python itself
    does on first import wherever it may write its cache. Without it, a machine that sets PYTHONDONTWRITEBYTECODE
    (this sandbox does) recompiles every module of an editable checkout in every process: start-up figures would
    include a compiler run no installed bridge pays. Returns the sentence the results record."""
    import subprocess
    import sys

    for tree in trees:
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(tree) / "bridge")], check=True,
                       stdout=subprocess.DEVNULL)
    return "bytecode compiled first (`python -m compileall -q bridge`, as an install has it)"
