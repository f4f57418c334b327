"""``bench/smile_parse.py`` keeps working: a tiny run writes the results section the README describes.

Only the shape of the output is checked; the figures themselves belong to ``bench/results/``, not to tests.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_benchmark_runs_and_records_machine_and_figures(tmp_path: Path) -> None:
    out = tmp_path / "results" / "smile_parse.md"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "smile_parse.py"), "--rows", "300", "--repeat", "1",
                           "--out", str(out)], check=False, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# SMILE parse + validate") and "## " in text
    assert "Machine: " in text and "cores" in text and "RAM" in text and "Python " in text
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| ")}
    assert set(rows) >= {"file", "products", "stock"}
    assert "| 300 |" in rows["products"] and "| 300 |" in rows["stock"]
