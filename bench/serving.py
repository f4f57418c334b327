"""A server a benchmark runs in its own process (so its CPU and memory are not the measured client's)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def spawn(argv: list[str], url_pattern: str = r"URL (\S+)") -> tuple[subprocess.Popen[str], str]:
    """Start ``argv`` and wait for the first line of its output, which must carry the server's URL."""
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, cwd=ROOT,
                               env={"COLUMNS": "300", **os.environ})
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(url_pattern, line)
    if not match:
        process.kill()
        raise SystemExit(f"{' '.join(argv[:3])}… did not start: {line!r}")
    return process, match.group(1)
