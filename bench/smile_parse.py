"""Benchmark: parse + validate generated SMILE files of 100,000 rows (商品マスター, 在庫).

Each measurement runs in its own subprocess, so wall time and peak memory (ru_maxrss) are those of one read of one
file, starting from a fresh interpreter. The csv module alone is measured on the same file, side by side, so the
cost of validation shows as a ratio that means something on a noisy machine.

    python bench/smile_parse.py [--rows 100000] [--repeat 3] [--out bench/results/smile_parse.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GOAL_SECONDS = 1.5
GOAL_MB = 200


def one_read(path: str, file_type: str, mode: str) -> dict[str, float]:
    import csv
    import resource

    from bridge.smile.reader import read_file
    from bridge.smile.settings import SmileSettings

    settings = SmileSettings()
    layout = settings.layout(file_type)
    before = _peak_kb()
    started = time.perf_counter()
    if mode == "csv":
        with open(path, encoding=layout.encoding, newline="") as stream:
            rows = sum(1 for _ in csv.reader(stream, delimiter=layout.delimiter)) - layout.header_rows
        records = 0
    else:
        result = read_file(path, file_type, settings)
        assert result.ok, result.report()
        rows, records = result.rows, len(result.records)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": rows, "records": records, "peak_mb": _peak_kb() / 1024,
            "start_mb": before / 1024}


def _peak_kb() -> int:
    """VmHWM: the peak RSS of this process image. ru_maxrss would not do: Linux carries it across exec, so a
    child started by a large parent reports the parent's peak."""
    import resource

    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(path: Path, file_type: str, mode: str, repeat: int) -> dict[str, float]:
    runs = []
    for _ in range(repeat):
        output = subprocess.run(
            [sys.executable, __file__, "--child", str(path), file_type, mode],
            check=True, capture_output=True, text=True,
        ).stdout
        runs.append(json.loads(output))
    seconds = [run["seconds"] for run in runs]
    return {**runs[0], "median_s": statistics.median(seconds), "best_s": min(seconds),
            "peak_mb": max(run["peak_mb"] for run in runs)}


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None, help="Append a Markdown section to this file")
    parser.add_argument("--child", nargs=3, metavar=("PATH", "TYPE", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(one_read(*args.child)))
        return

    from bridge.smile.generator import generate, write_stock

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        made = generate(Path(tmp), products=args.rows, customers=10, warehouses=1, seed=1)
        stock_path = Path(tmp) / "stock.csv"
        write_stock(stock_path, (p.code for p in made.products), warehouses=1, seed=1)
        generated_in = time.perf_counter() - started
        files = {"products": made.paths["products"], "stock": stock_path}
        del made
        results = []
        for file_type, path in files.items():
            baseline = measure(path, file_type, "csv", args.repeat)
            full = measure(path, file_type, "read", args.repeat)
            results.append((file_type, path.stat().st_size / 1e6, _width(path, file_type), baseline, full))

    when = datetime.now().strftime("%Y-%m-%d %H:%M")
    lines = [
        f"## {when} — {args.rows:,}-row 商品マスター and 在庫, parse + validate (`read_file`)",
        f"Machine: {machine()}. Files generated in {generated_in:.1f} s. Each figure: median (best) of "
        f"{args.repeat} reads, each in a fresh process; peak = VmHWM of that process (interpreter and imports "
        f"included, about {results[0][4]['start_mb']:.0f} MB).",
        "",
        "| file | layout | size MB | rows | csv module alone s | read + validate s | ratio | peak RSS MB | goal |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for file_type, size_mb, width, baseline, full in results:
        ok = full["median_s"] < GOAL_SECONDS and full["peak_mb"] < GOAL_MB
        lines.append(
            f"| {file_type} | {_layout(file_type)}, {width} columns | {size_mb:.1f} | {int(full['rows']):,} | "
            f"{baseline['median_s']:.2f} ({baseline['best_s']:.2f}) | {full['median_s']:.2f} ({full['best_s']:.2f}) | "
            f"{full['median_s'] / baseline['median_s']:.1f}× | {full['peak_mb']:.0f} | {'met' if ok else 'MISSED'} |"
        )
    lines += ["", f"Goal (issue 4): each under {GOAL_SECONDS} s and under {GOAL_MB} MB peak on a 2-core machine.", ""]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("a", encoding="utf-8") as stream:
            stream.write(text + "\n")


def _width(path: Path, file_type: str) -> int:
    from bridge.smile.settings import SmileSettings

    layout = SmileSettings().layout(file_type)
    with path.open(encoding=layout.encoding, newline="") as stream:
        return stream.readline().count(layout.delimiter) + 1


def _layout(file_type: str) -> str:
    from bridge.smile.settings import SmileSettings

    layout = SmileSettings().layout(file_type)
    delimiter = "TAB" if layout.delimiter == "\t" else "comma"
    return f"{layout.encoding}, {delimiter}, {len(layout.columns)} mapped of"


if __name__ == "__main__":
    main()
