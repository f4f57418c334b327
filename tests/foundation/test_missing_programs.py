"""Without the Debian packages, ``python -m pytest`` skips the tests that need them and says which to install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_missing_program_skips_with_the_package_to_install() -> None:
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env["PATH"] = "/nonexistent"  # no promtool (nor anything else) on the PATH
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:randomly", "tests/ops/test_promtool.py", "-k",
         "test_alert_rules_are_valid"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "promtool is not installed (apt-get install prometheus)" in done.stdout
    assert "FileNotFoundError" not in done.stdout


def test_in_ci_a_missing_program_still_fails() -> None:
    env = {**os.environ, "CI": "true", "PATH": "/nonexistent"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "tests/ops/test_promtool.py", "-k", "test_alert_rules_are_valid"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "FileNotFoundError" in done.stdout
