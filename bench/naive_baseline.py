"""Benchmark: the bridge's stock cycle against the naive script a shop would write first, side by side.

The naive script (``--run``, below, about 40 lines): read the SMILE 在庫 file with the csv module, list every CS-Cart
product (250 per page, one page after the other, one kept-alive connection), and write each product whose amount
differs (REST: one ``PUT /products/:id`` each; with the smile_bridge add-on: its batch API, 500 per call). It keeps
no state, so it must read the whole catalog from CS-Cart every time.

Against the same simulator (own process, same latency), the same files (100,000 SKUs, 1 % changed) and the same
starting state, interleaved A/B for ``--rounds`` rounds, each run in its own fresh process:

* naive script, whole process;
* the bridge's daemon case: a long-lived stock job that already ran on the previous file (``resident``);
* ``bridge sync stock`` as a whole process (a new process: it reads the new file against the memo on disk the last
  applied run wrote, ``bridge/sync/catalog/stock_memo.py``).

    python bench/naive_baseline.py [--skus 100000] [--changed 0.01] [--latency-ms 20] [--rounds 3] [--out FILE]

Goal (issue 16): the bridge ≥ 10× faster than naive at 100k with the add-on, ≥ 4× over REST. Load average is
recorded with every figure (the machine is shared); ratios carry over between machines, absolute times do not.
"""

from __future__ import annotations

import argparse
import base64
import csv
import http.client
import json
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def naive(url: str, addon: bool, stock_file: Path) -> dict[str, object]:
    """The naive script itself: stdlib only, no state."""
    started = time.perf_counter()
    wanted: dict[str, int] = {}
    with stock_file.open(encoding="cp932", newline="") as handle:
        rows = csv.reader(handle)
        header = next(rows)
        code, on_hand, allocated = header.index("商品コード"), header.index("現在庫数量"), header.index("引当数量")
        for row in rows:
            wanted[row[code]] = max(0, int(float(row[on_hand])) - int(float(row[allocated] or 0)))
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
    auth = "Basic " + base64.b64encode(b"admin@example.jp:sim-api-key").decode()
    headers = {"Authorization": auth, "Content-Type": "application/json"}

    def call(method: str, path: str, body: object = None) -> dict:  # type: ignore[type-arg]
        connection.request(method, "/api/" + path, body=None if body is None else json.dumps(body), headers=headers)
        response = connection.getresponse()
        data = response.read()
        if response.status >= 300:
            raise SystemExit(f"{method} {path}: {response.status} {data[:200]!r}")
        return json.loads(data) if data else {}

    changes: list[tuple[int, int]] = []
    page, listed, gets = 1, 0, 0
    while True:
        data = call("GET", f"products?items_per_page=250&page={page}")
        gets += 1
        products = data.get("products", [])
        for product in products:
            listed += 1
            amount = wanted.get(product["product_code"])
            if amount is not None and int(product["amount"]) != amount:
                changes.append((int(product["product_id"]), amount))
        if len(products) < 250:
            break
        page += 1
    writes = 0
    if addon:
        for start in range(0, len(changes), 500):
            items = [{"id": n, "kind": "stock", "product_id": pid, "amount": amount}
                     for n, (pid, amount) in enumerate(changes[start:start + 500])]
            call("POST", "smile_bridge_batch", {"items": items})
            writes += 1
    else:
        for pid, amount in changes:
            call("PUT", f"products/{pid}", {"amount": amount})
            writes += 1
    return {"seconds": time.perf_counter() - started, "listed": listed, "changed": len(changes), "gets": gets,
            "writes": writes}


ORDER = ("naive", "resident", "cli")
LABELS = {"naive": "naive script (whole process)", "resident": "bridge, long-lived job (daemon), in-process",
          "cli": "`bridge sync stock` (whole process)"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=100_000)
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shops", default="addon,rest", help="addon, rest or both (comma-separated)")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--no-analytics", action="store_true",
                        help="analytics.enabled: false for the bridge (no analytics feed, no low-stock check)")
    parser.add_argument("--run", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        print(json.dumps(naive(args.run[0], args.run[1] == "1", Path(args.run[2]))))
        return
    from machine import describe
    from report import append
    from stockworld import World, load, median

    shops = [s.strip() for s in args.shops.split(",") if s.strip()]
    runs: dict[tuple[str, str], list[dict]] = {}  # type: ignore[type-arg]
    with tempfile.TemporaryDirectory(prefix="bench-naive-") as folder:
        world = World(args.skus, args.changed, args.latency_ms, args.seed, Path(folder),
                      analytics=not args.no_analytics)
        world.prepare()
        for number in range(args.rounds):
            for shop in shops:
                order = ORDER[number % len(ORDER):] + ORDER[:number % len(ORDER)]  # rotate: no config always first
                for what in order:
                    row = world.measure(what, addon=shop == "addon")
                    print(shop, what, row, flush=True)
                    runs.setdefault((shop, what), []).append(row)
    lines = [
        (f"## {time.strftime('%Y-%m-%d %H:%M')} UTC — naive script vs the bridge, {args.skus:,} SKUs, "
         f"{args.changed:.0%} changed, {args.latency_ms:g} ms per CS-Cart request, {args.rounds} rounds interleaved"),
        f"Machine: {describe()}; load average (1 min) at the end {load()}",
        (f"Command: `python bench/naive_baseline.py --skus {args.skus} --changed {args.changed} "
         f"--latency-ms {args.latency_ms:g} --rounds {args.rounds} --shops {args.shops}"
         f"{' --no-analytics' if args.no_analytics else ''}`; the bridge feeds the analytics store: "
         f"{'no' if args.no_analytics else 'yes (default), with the low-stock check'}"),
        "",
        "| shop | run | seconds, median (all) | load avg at each start | ratio naive ÷ this |",
        "|---|---|---:|---|---:|",
    ]
    for shop in shops:
        naive_median = median([float(r["wall"]) for r in runs[(shop, "naive")]])
        for what in ORDER:
            rows = runs[(shop, what)]
            key = "seconds" if what == "resident" else "wall"
            values = [float(r[key]) for r in rows]
            lines.append(f"| {shop} | {LABELS[what]} | {median(values):.2f} ({', '.join(f'{v:.2f}' for v in values)}) "
                         f"| {', '.join(str(r['load']) for r in rows)} | {naive_median / median(values):.1f}× |")
    lines += ["", "Goals (issue 16): bridge ≥ 10× faster than naive with the add-on, ≥ 4× over REST (the long-lived "
              "job is the daemon's case; `bridge sync stock` is a new process reading against the memo on disk)."]
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        append(args.out, report)


if __name__ == "__main__":
    main()
