"""promtool: the alert rules are valid and behave as their unit tests say; a live /metrics scrape passes the lint."""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

from bridge.config import JobsSettings
from tests.ops.conftest import DaemonProcess, every_job

ROOT = Path(__file__).resolve().parents[2]
PROMTOOL = shutil.which("promtool") or "promtool"


def promtool(*args: str, stdin: bytes | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PROMTOOL, *args], input=stdin.decode() if stdin is not None else None, cwd=cwd,
                          capture_output=True, text=True, timeout=60, check=False)


def test_alert_rules_are_valid() -> None:
    result = promtool("check", "rules", "ops/prometheus/alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 12 rules found" in result.stdout


def test_alert_rules_unit_tests_pass() -> None:
    result = promtool("test", "rules", "alerts_test.yml", cwd=ROOT / "tests" / "ops")
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_test_rules_catches_a_wrong_expectation(tmp_path: Path) -> None:
    broken = (ROOT / "tests" / "ops" / "alerts_test.yml").read_text(encoding="utf-8")
    broken = broken.replace("../../ops/prometheus/alerts.yml", str(ROOT / "ops" / "prometheus" / "alerts.yml"))
    broken = broken.replace('"2 write(s) failed for good', '"3 write(s) failed for good')
    (tmp_path / "alerts_test.yml").write_text(broken, encoding="utf-8")
    result = promtool("test", "rules", "alerts_test.yml", cwd=tmp_path)
    assert result.returncode != 0 and "BridgeDeadLetters" in result.stdout + result.stderr


def scrape(port: int, timeout: float = 20.0) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
                return response.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_live_metrics_pass_promtool_check_metrics(short_dir: Path) -> None:
    daemon = DaemonProcess(short_dir, every_job(interval=0.1), extra_env={"OPS_TEST_EVERY_JOB": "1"})
    daemon.start()
    try:
        body = scrape(daemon.port)
        # wait until every job has run, so their labelled series are in the scrape too
        deadline = time.monotonic() + 20
        while not all(f'bridge_job_runs_total{{outcome="success",sync_job="{name}"}}'.encode() in body
                      for name in JobsSettings.model_fields):
            assert time.monotonic() < deadline, daemon.output()[-3000:]
            time.sleep(0.1)
            body = scrape(daemon.port)
        result = promtool("check", "metrics", stdin=body)
        assert result.returncode == 0, result.stdout + result.stderr
        assert b"bridge_orders_by_state{" in body  # the daemon's gauge refresh ran
    finally:
        daemon.stop()


def test_promtool_check_metrics_does_flag_bad_names() -> None:
    bad = b"# HELP bridge_things Things.\n# TYPE bridge_things counter\nbridge_things 1\n"
    result = promtool("check", "metrics", stdin=bad)
    assert result.returncode != 0 and "_total" in result.stdout + result.stderr
