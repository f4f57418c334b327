"""``bridge --help`` starts fast: importing the CLI loads the command table, not the daemon, the jobs or the edges."""

from __future__ import annotations

import subprocess
import sys


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
