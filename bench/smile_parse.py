"""Benchmark: parse + validate generated SMILE files of 100,000 rows (商品マスター, 在庫).

Each measurement runs in its own subprocess, so wall time and peak memory (VmHWM) are those of one read of one
file, starting from a fresh interpreter. Three ways of reading the same file run side by side, so ratios mean
something on a noisy machine:

* ``csv``: the csv module alone (split into cells, nothing else): the floor;
* ``read``: ``read_file``, what the jobs and ``bridge smile check`` do: every cell parsed and validated, duplicate
  keys and 諸口 codes checked, all records kept in a list (the issue's figure);
* ``stream``: ``iter_chunks``, the same validation with each chunk of records dropped after use: the memory a
  streaming consumer needs.

    python bench/smile_parse.py [--rows 100000] [--repeat 3] [--base OLDER_CHECKOUT] [--out bench/results/smile_parse.md]
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

from machine import compile_bytecode
from report import append

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BASE_TREE = Path(".")  # --base
GOAL_SECONDS = 1.5
GOAL_RATIO = 3.0  # issue 16: read_file's CPU time at most this multiple of the csv module alone on the same file
GOAL_MB = 200


def one_read(path: str, file_type: str, mode: str) -> dict[str, float]:
    import csv

    from bridge.smile.reader import ReadResult, iter_chunks, read_file
    from bridge.smile.settings import SmileSettings

    settings = SmileSettings()
    layout = settings.layout(file_type)
    before = _peak_kb()
    started = time.perf_counter()
    cpu_started = time.process_time()
    if mode == "csv":
        with open(path, encoding=layout.encoding, newline="") as stream:
            rows = sum(1 for _ in csv.reader(stream, delimiter=layout.delimiter)) - layout.header_rows
        records = 0
    elif mode == "pandas":
        import pandas

        started = time.perf_counter()  # pandas' own import is not the read
        cpu_started = time.process_time()
        frame = pandas.read_csv(path, encoding=layout.encoding, sep=layout.delimiter, dtype=str,
                                keep_default_na=False)
        rows, records = len(frame), 0
    elif mode == "incremental":
        from bridge.smile.delta import LineMemo

        memo = LineMemo(file_type)
        previous = memo.read(path + ".previous", file_type, settings)  # the file before: read in full, untimed
        assert previous.ok, previous.report()
        started = time.perf_counter()
        cpu_started = time.process_time()
        result = memo.read(path, file_type, settings)
        assert result.ok and memo.last is not None and memo.last.incremental, result.report()
        rows, records = result.rows, len(result.records)
    elif mode == "stream":
        streamed = ReadResult(path=Path(path), file_type=file_type)
        records = sum(len(chunk) for chunk in iter_chunks(Path(path), file_type, streamed, settings=settings,
                                                           layout=layout))
        assert streamed.ok, streamed.report()
        rows = streamed.rows
    else:
        result = read_file(path, file_type, settings)
        assert result.ok, result.report()
        rows, records = result.rows, len(result.records)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    return {"seconds": seconds, "cpu": cpu, "rows": rows, "records": records, "peak_mb": _peak_kb() / 1024,
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
    runs = [measure_once(path, file_type, mode) for _ in range(repeat)]
    return summary(runs)


def measure_once(path: Path, file_type: str, mode: str) -> dict[str, float]:
    load = os.getloadavg()[0]
    tree = []
    if mode == "base":  # read_file as an older checkout has it (--base): the same read, the other code
        mode, tree = "read", ["--tree", str(BASE_TREE)]
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    output = subprocess.run(
        [sys.executable, __file__, *tree, "--child", str(path), file_type, mode],
        check=True, capture_output=True, text=True,
    ).stdout
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    process_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # the whole process: interpreter start, imports, the read, exit
    return {**json.loads(output), "load": load, "process_s": wall, "process_cpu": process_cpu}


def summary(runs: list[dict[str, float]]) -> dict[str, float]:
    seconds = [run["seconds"] for run in runs]
    return {**runs[0], "median_s": statistics.median(seconds), "best_s": min(seconds),
            "cpu_s": statistics.median(run["cpu"] for run in runs),
            "process_s": statistics.median(run["process_s"] for run in runs),
            "process_cpu": statistics.median(run["process_cpu"] for run in runs),
            "peak_mb": max(run["peak_mb"] for run in runs), "loads": [run["load"] for run in runs]}


def has_pandas() -> bool:
    return subprocess.run([sys.executable, "-c", "import pandas"], capture_output=True).returncode == 0


def one_percent_changed(path: Path, file_type: str) -> Path:
    """``path`` with 現在庫数量 raised by one on every 100th data row, as ``path.previous`` (the file before)."""
    from bridge.smile.settings import SmileSettings

    layout = SmileSettings().layout(file_type)
    lines = path.read_bytes().split(b"\n")
    header = lines[0].decode(layout.encoding).rstrip("\r").split(layout.delimiter)
    column = header.index("現在庫数量")
    for number in range(1, len(lines) - 1, 100):
        cells = lines[number].split(layout.delimiter.encode())
        cells[column] = str(int(float(cells[column].decode())) + 1).encode()
        lines[number] = layout.delimiter.encode().join(cells)
    target = path.with_name(path.name + ".previous")
    target.write_bytes(b"\n".join(lines))
    return target


def _proc_field(path: str, key: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def machine() -> str:
    cpu = _proc_field("/proc/cpuinfo", "model name") or platform.processor() or "unknown CPU"
    memory = _proc_field("/proc/meminfo", "MemTotal")
    ram = f"{int(memory.split()[0]) / 1024 / 1024:.1f} GiB RAM" if memory else "RAM unknown"
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (f"{os.cpu_count()} cores ({cpu}), {ram}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}; load average at start {load}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None, help="Append a Markdown section to this file")
    parser.add_argument("--child", nargs=3, metavar=("PATH", "TYPE", "MODE"), help=argparse.SUPPRESS)
    parser.add_argument("--base", type=Path, default=None,
                        help="a checkout of an older commit: its read_file runs interleaved with this tree's")
    parser.add_argument("--tree", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tree:
        sys.path.insert(0, str(args.tree))
    if args.base:
        global BASE_TREE
        BASE_TREE = args.base.resolve()
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
        host = machine()  # before the measurements: the load average is of the machine, not of this run
        host += "; " + compile_bytecode(Path(__file__).resolve().parents[1], *([BASE_TREE] if args.base else []))
        one_percent_changed(stock_path, "stock")
        pandas_too = has_pandas()
        results = []
        for file_type, path in files.items():
            modes = ["csv", "read", "stream"] + (["pandas"] if pandas_too else []) + (["base"] if args.base else [])
            modes += ["incremental"] if file_type == "stock" else []
            collected: dict[str, list[dict[str, float]]] = {mode: [] for mode in modes}
            for number in range(args.repeat):  # interleaved: every mode once per round, the order rotating
                for mode in modes[number % len(modes):] + modes[:number % len(modes)]:
                    collected[mode].append(measure_once(path, file_type, mode))
            runs = {mode: summary(found) for mode, found in collected.items()}
            # Each round's read_file CPU over the same round's csv alone: runs seconds apart, so a machine that
            # drifts (this one's CPU time for the same read varies by half between minutes) distorts it least.
            runs["read"]["paired"] = sorted(read["cpu"] / csv_["cpu"]
                                            for read, csv_ in zip(collected["read"], collected["csv"], strict=True))
            results.append((file_type, path.stat().st_size / 1e6, _width(path, file_type), runs))

    when = datetime.now().strftime("%Y-%m-%d %H:%M")
    start_mb = results[0][3]["read"]["start_mb"]
    lines = [
        f"## {when}: {args.rows:,}-row 商品マスター and 在庫, parse + validate",
        "",
        f"Command: `nice -n {os.nice(0)} python bench/smile_parse.py {' '.join(sys.argv[1:])}`",
        "",
        (f"Machine: {host}. Files generated by `bridge.smile.generator` (seed 1) in {generated_in:.1f} s. Each time: "
        f"median (best) of {args.repeat} reads, each in a fresh process; peak = the largest VmHWM of those processes "
        f"(interpreter and imports included, about {start_mb:.0f} MB before the read)."),
        "",
        ("| file | layout | size MB | rows | csv alone s | read_file s | ratio to csv | read_file peak MB "
        "| streamed s | streamed peak MB | goal |"),
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for file_type, size_mb, width, runs in results:
        base, full, stream = runs["csv"], runs["read"], runs["stream"]
        ok = full["median_s"] < GOAL_SECONDS and full["peak_mb"] < GOAL_MB
        lines.append(
            f"| {file_type} | {_layout(file_type, width)} | {size_mb:.1f} | {int(full['rows']):,} | "
            f"{_time(base)} | {_time(full)} | {full['median_s'] / base['median_s']:.1f}× | {full['peak_mb']:.0f} | "
            f"{_time(stream)} | {stream['peak_mb']:.0f} | {'met' if ok else 'MISSED'} |"
        )
    lines += ["", "Ratios (issue 16's goal: read_file ≤ 3× the csv module alone on the same file):", ""]
    for file_type, _size, _width_, runs in results:
        base, full = runs["csv"], runs["read"]
        parts = [f"read_file {full['median_s'] / base['median_s']:.1f}× csv alone"]
        if "pandas" in runs:
            parts.append(f"{full['median_s'] / runs['pandas']['median_s']:.1f}× pandas.read_csv "
                         f"({_time(runs['pandas'])} s, dtype=str)")
        else:
            parts.append("pandas not installed, not compared")
        if "base" in runs:
            older = runs["base"]
            parts.append(f"read_file at {args.base.name} (the older code, interleaved) {_time(older)} s = "
                         f"{older['median_s'] / base['median_s']:.1f}× csv alone, "
                         f"{older['cpu_s'] / base['cpu_s']:.1f}× by CPU time")
        if "incremental" in runs:
            inc = runs["incremental"]
            parts.append(f"the stock job's incremental read after a 1 %-changed file (LineMemo) {_time(inc)} s = "
                         f"{inc['median_s'] / base['median_s']:.1f}× csv alone")
        cpu_parts = [f"read_file {full['cpu_s'] / base['cpu_s']:.1f}× csv alone"]
        if "incremental" in runs:
            cpu_parts.append(f"incremental {runs['incremental']['cpu_s'] / base['cpu_s']:.1f}×")
        parts.append("by CPU time (what a shared machine distorts least): " + ", ".join(cpu_parts)
                     + f" (csv alone {base['cpu_s']:.3f} s, read_file {full['cpu_s']:.3f} s CPU)")
        if "base" in runs:
            parts.append(f"read_file at {args.base.name} by CPU {runs['base']['cpu_s']:.3f} s "
                         f"(this tree {runs['base']['cpu_s'] / full['cpu_s']:.1f}× less)")
        parts.append(f"whole processes (start, imports, read, exit; median): csv alone {base['process_s']:.2f} s wall "
                     f"/ {base['process_cpu']:.2f} s CPU, read_file {full['process_s']:.2f} s wall / "
                     f"{full['process_cpu']:.2f} s CPU")
        paired = full["paired"]
        parts.append(f"round by round (read_file CPU over the same round's csv alone): median "
                     f"{statistics.median(paired):.2f}×, range {paired[0]:.2f}–{paired[-1]:.2f}×")
        verdict = "met" if statistics.median(paired) <= GOAL_RATIO else "NOT met"
        parts.append(f"**issue 16 goal (read_file ≤ {GOAL_RATIO:g}× csv alone by CPU, round by round): {verdict}**")
        loads = sorted(load for run in runs.values() for load in run["loads"])
        parts.append(f"load average (1 min) at the runs' starts {loads[0]:.2f}–{loads[-1]:.2f}")
        lines.append(f"* {file_type}: " + "; ".join(parts))
    lines += [
        "",
        (f"Goal (issue 4): each file parsed and validated in under {GOAL_SECONDS} s with under {GOAL_MB} MB peak "
         "on a 2-core machine; `goal` judges the read_file columns (median time, peak)."),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        _append(args.out, text)


def _time(run: dict[str, float]) -> str:
    return f"{run['median_s']:.2f} ({run['best_s']:.2f})"


def _append(out: Path, text: str) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.exists():
        out.write_text(
            "# SMILE parse + validate: 100,000-row files\n\n"
            "Written by `python bench/smile_parse.py --rows 100000 --out bench/results/smile_parse.md` "
            "(see `bench/README.md`); each run appends a section.\n\n"
            "Reading the figures:\n\n"
            "* the 商品マスター file has every column smile.md §6 names (114; the reference's count is 127), 29 "
            "of them read; the 在庫 file has the 10 columns of the assumed layout, all read;\n"
            "* `read_file` is what the jobs and `bridge smile check` use; it pauses the cyclic GC for the read "
            "(records are acyclic), which is most of its lead over the streamed read;\n"
            "* the streamed read (`iter_chunks`, records dropped chunk by chunk) needs less memory but leaves the GC "
            "to the consumer, so it is slower; nothing in the bridge depends on its speed.\n\n",
            encoding="utf-8",
        )
    append(out, text)


def _width(path: Path, file_type: str) -> int:
    from bridge.smile.settings import SmileSettings

    layout = SmileSettings().layout(file_type)
    with path.open(encoding=layout.encoding, newline="") as stream:
        return stream.readline().count(layout.delimiter) + 1


def _layout(file_type: str, width: int) -> str:
    from bridge.smile.settings import SmileSettings

    layout = SmileSettings().layout(file_type)
    delimiter = "TAB" if layout.delimiter == "\t" else "comma"
    return f"{layout.encoding}, {delimiter}, {width} columns ({len(layout.columns)} read)"


if __name__ == "__main__":
    main()
