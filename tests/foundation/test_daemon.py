"""`bridge run --config ops/config.example.yaml` as a real process: health, metrics, clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def wait_http(url: str, timeout: float = 20.0) -> tuple[int, bytes]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_bridge_run_serves_health_and_metrics_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "BRIDGE_DATA_DIR": str(tmp_path / "data"),
        "BRIDGE_RULES_DIR": str(ROOT / "rules"),
        "BRIDGE_HTTP__PORT": str(port),
        "BRIDGE_LOG__FORMAT": "json",
    }
    daemon = subprocess.Popen(
        [sys.executable, "-m", "bridge", "run", "--config", str(ROOT / "ops" / "config.example.yaml")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        status, body = wait_http(f"http://127.0.0.1:{port}/healthz")
        assert status == 200 and b'"ok"' in body
        status, body = wait_http(f"http://127.0.0.1:{port}/metrics")
        assert status == 200
        families = {f.name for f in text_string_to_metric_families(body.decode())}
        assert {"bridge_start_time_seconds", "bridge_build_info"} <= families
        status, _ = wait_http(f"http://127.0.0.1:{port}/readyz")
        assert status in (200, 503)
        assert (tmp_path / "data" / "state.sqlite3").exists()

        daemon.send_signal(signal.SIGTERM)
        started = time.monotonic()
        daemon.wait(timeout=10)
        assert time.monotonic() - started < 10
        assert daemon.returncode == 0, daemon.stderr.read() if daemon.stderr else ""
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
