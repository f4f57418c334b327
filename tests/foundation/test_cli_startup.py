"""``bridge --help`` starts fast: importing the CLI loads the command table, not the daemon, the jobs or the edges."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path


def test_importing_the_cli_does_not_import_the_daemon_the_jobs_or_the_edges() -> None:
    """Each command imports what it runs when it runs; the command table alone stays light."""
    probe = ("import sys, bridge.cli; print('\\n'.join(sorted(m for m in sys.modules if m.startswith(('bridge.', "
             "'aiohttp', 'aiosqlite', 'pydantic_settings', 'aiomqtt', 'prometheus_client', 'duckdb', 'pandas')))))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    heavy = [m for m in loaded if m.startswith(("bridge.daemon", "bridge.sync", "bridge.wiring", "bridge.store",
                                                 "bridge.config", "bridge.cscart.", "bridge.smile.", "bridge.rules",
                                                 "bridge.carriers", "bridge.analytics", "bridge.dispatch", "aiohttp",
                                                 "aiosqlite", "pydantic_settings", "aiomqtt", "prometheus_client",
                                                 "duckdb", "pandas"))]
    assert heavy == [], f"bridge.cli imports {heavy}; import them inside the command that needs them"
    assert "bridge.cli" in loaded and "bridge.cli.run" not in loaded  # command modules load when they run


def test_help_lists_every_command() -> None:
    """The lazy imports leave the command table whole."""
    shown = subprocess.run([sys.executable, "-m", "bridge", "--help"], capture_output=True, text=True,
                           check=True).stdout
    for command in ("addon", "analytics", "backup", "campaigns", "carriers", "config", "demo", "dlq", "orders",
                    "report", "restore", "rules", "run", "simulator", "smile", "status", "sync"):
        assert command in shown, command


# ---- `bridge sync` and `bridge sync stock`: one job's code, not every job's -----------------------------------------

ROOT = Path(__file__).resolve().parents[2]
OTHER_JOBS = ("bridge.sync.catalog.prices", "bridge.sync.catalog.products", "bridge.sync.catalog.customers",
              "bridge.sync.catalog.customer_prices", "bridge.sync.catalog.drift", "bridge.sync.catalog.smile_input",
              "bridge.sync.orders.job", "bridge.sync.orders.batches", "bridge.sync.shipping", "bridge.sync.campaigns",
              "bridge.sync.reports")
# what only reports, forecasts or other jobs use: never for a stock run, analytics on or off
NOT_FOR_STOCK = (*OTHER_JOBS, "bridge.analytics.reports.catalogue", "bridge.analytics.reports.sales",
                 "bridge.analytics.reports.forecasts", "bridge.analytics.forecast", "bridge.analytics.packs",
                 "statsmodels", "aiomqtt", "paho", "aiohttp.web", "bridge.http")
# the whole-file analytics feed (a first sync, a file read whole) goes through pandas; a few changed rows do not
WHOLE_FILE_FEED = ("pandas", "numpy", "bridge.analytics.feed")


def _modules(stderr: str) -> set[str]:
    return {line.rsplit("|", 1)[1].strip() for line in stderr.splitlines() if line.startswith("import time:")
            and not line.rstrip().endswith("imported package")}


def _imported(argv: list[str], env: dict[str, str]) -> set[str]:
    """Every module a whole ``bridge`` process imported (``-X importtime``), the command's exit checked."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "bridge", *argv], capture_output=True, text=True,
                          check=False, cwd=ROOT, env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    return _modules(done.stderr)


async def _imported_beside(argv: list[str], env: dict[str, str]) -> set[str]:
    """``_imported`` while this event loop serves the simulator."""
    child = await asyncio.create_subprocess_exec(sys.executable, "-X", "importtime", "-m", "bridge", *argv, cwd=ROOT,
                                                 env=env, stdout=asyncio.subprocess.PIPE,
                                                 stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(child.communicate(), timeout=300)
    assert child.returncode == 0, (out + err[-3000:]).decode(errors="replace")
    return _modules(err.decode(errors="replace"))


def _within(modules: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if m in prefixes or m.startswith(tuple(p + "." for p in prefixes)))


def test_listing_the_jobs_imports_no_job() -> None:
    """``bridge sync`` prints every job's name and description from the registry, whose factories import their
    job's module only when they build the job."""
    modules = _imported(["sync"], dict(os.environ))
    assert "bridge.sync.registry" in modules
    assert _within(modules, (*OTHER_JOBS, "bridge.sync.catalog", "bridge.sync.orders", "bridge.analytics",
                             "duckdb", "numpy")) == []


async def test_bridge_sync_stock_imports_the_stock_job_and_no_other(tmp_path: Path) -> None:
    """The real ``bridge sync stock`` against a simulator with the add-on: a first full sync, then a file with one
    SKU changed (read against the memo, as the benchmark's one-shot run). Analytics on (the default) loads DuckDB —
    there is stock to feed — and the low-stock check's report helpers, not the report catalogue or numpy; analytics
    off loads neither."""
    from bridge.config import JobsSettings
    from bridge.cscart.simulator import run_simulator
    from bridge.smile.generator import generate, rewrite_stock
    from bridge.smile.reader import read_file
    from bridge.smile.settings import SmileSettings

    made = generate(tmp_path / "smile_export", products=30, customers=1, seed=5)
    inbox = SmileSettings().dirs(tmp_path / "data").inbox
    inbox.mkdir(parents=True)

    def deliver(name: str) -> None:
        (inbox / name).write_bytes(made.paths["stock"].read_bytes())
        (inbox / (name + ".done")).touch()

    async with run_simulator(products=31, users=1, orders=0, seed=5, addon=True) as sim:
        env = {key: value for key, value in os.environ.items() if not key.startswith("BRIDGE_")}
        env["BRIDGE_CSCART__API_KEY"] = sim.api_key
        others = "".join(f"  {name}: {{enabled: false, interval: 3600}}\n" for name in JobsSettings.model_fields if name != "stock")

        def config(analytics: bool) -> str:
            path = tmp_path / f"config-{analytics}.yaml"
            path.write_text(
                f"data_dir: {tmp_path / 'data'}\nrules_dir: {ROOT / 'rules'}\nsmile: {{stable_seconds: 0}}\n"
                f"log: {{level: WARNING}}\ncscart: {{url: '{sim.url}', email: '{sim.email}', timeout: 10}}\n"
                f"analytics: {{enabled: {str(analytics).lower()}}}\njobs:\n  stock: {{enabled: true, interval: 600}}\n{others}",
                encoding="utf-8")
            return str(path)

        runs = {}
        deliver("stock_001.csv")
        runs["first sync"] = await _imported_beside(["sync", "stock", "--config", config(True)], env)
        code = read_file(made.paths["stock"], "stock").records[3].product_code
        rewrite_stock(made.paths["stock"], {code: 777})
        deliver("stock_002.csv")
        runs["against the memo"] = await _imported_beside(["sync", "stock", "--config", config(True)], env)
        rewrite_stock(made.paths["stock"], {code: 778})
        deliver("stock_003.csv")
        runs["analytics off"] = await _imported_beside(["sync", "stock", "--config", config(False)], env)
        assert len(sim.requests.where(method="POST", path_prefix="/api/2.1/smile_bridge_batch")) >= 3, "each run wrote"

    for name, modules in runs.items():
        assert "bridge.sync.catalog.stock" in modules, name
        assert _within(modules, NOT_FOR_STOCK) == [], name
    for name in ("first sync", "against the memo"):
        assert {"duckdb", "bridge.analytics.alerts", "bridge.analytics.reports.stock"} <= runs[name], name
    for name in ("against the memo", "analytics off"):
        assert _within(runs[name], WHOLE_FILE_FEED) == [], name
    assert _within(runs["analytics off"], ("duckdb", "bridge.analytics.alerts", "bridge.analytics.reports")) == []
