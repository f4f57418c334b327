"""CI type-checks the package: ``mypy --strict bridge`` (settings and the pydantic plugin from pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bridge_passes_mypy_strict(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "mypy-cache"), "bridge"],
        cwd=ROOT, capture_output=True, text=True, timeout=280, check=False,
    )
    output, code = done.stdout + done.stderr, done.returncode
    assert code == 0, f"mypy --strict bridge failed (exit {code}):\n{output}"
    assert "Success: no issues found" in output, output
