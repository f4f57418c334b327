"""Fixtures for the ops tests: the bridge daemon as a real process, and a real mosquitto broker."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bridge.config import JobsSettings
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
TEST_DAEMON = Path(__file__).with_name("testjob_daemon.py")


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class Broker:
    """mosquitto on 127.0.0.1:port with persistence, so a restart keeps sessions and queued QoS 1 messages."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.config = workdir / "mosquitto.conf"
        self.config.write_text(
            # user root: started as root (CI), mosquitto would switch to its own user and lose the tmp_path folder
            f"user root\nlistener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {workdir}/\nlog_dest file {workdir}/mosquitto.log\n",
            encoding="utf-8",
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen([shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(self.config)])
        wait_port(self.port)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    workdir = tmp_path / "mosquitto"
    workdir.mkdir()
    running = Broker(workdir)
    running.start()
    try:
        yield running
    finally:
        running.stop()


class DaemonProcess:
    """tests/ops/testjob_daemon.py (``bridge run`` plus a steerable "stock" job) as a subprocess."""

    def __init__(self, workdir: Path, config: str, extra_env: dict[str, str] | None = None) -> None:
        self.workdir = workdir
        self.flags = workdir / "flags"
        self.flags.mkdir(exist_ok=True)
        self.port = free_port()
        self.config = workdir / "config.yaml"
        self.config.write_text(
            f"data_dir: {workdir / 'data'}\nrules_dir: {ROOT / 'rules'}\n"
            f"http: {{host: 127.0.0.1, port: {self.port}}}\nlog: {{format: json}}\n" + config,
            encoding="utf-8",
        )
        self.env = {**os.environ, "OPS_TEST_FLAGS": str(self.flags), **(extra_env or {})}
        for name in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "BRIDGE_CONFIG"):
            if name not in (extra_env or {}):
                self.env.pop(name, None)
        self.log = workdir / "daemon.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(TEST_DAEMON), str(self.config)], env=self.env, cwd=ROOT, stdout=log, stderr=log
            )

    def runs(self) -> int:
        path = self.flags / "runs"
        return len(path.read_text().splitlines()) if path.exists() else 0

    def flag(self, name: str, on: bool) -> None:
        path = self.flags / name
        if on:
            path.touch()
        else:
            path.unlink(missing_ok=True)

    def stop(self) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.terminate()
        return self.process.wait(timeout=30)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def only_stock_job(interval: float, stuck_after: float | None = None) -> str:
    """Settings YAML enabling only the steerable "stock" job."""
    stuck = f", stuck_after: {stuck_after}" if stuck_after else ""
    # every other job the settings know is off, so jobs added later never leak into these tests
    others = "".join(f"  {name}: {{enabled: false, interval: 3600}}\n" for name in JobsSettings.model_fields
                     if name != "stock")
    return f"jobs:\n  stock: {{enabled: true, interval: {interval}, jitter: 0{stuck}}}\n{others}"


def every_job(interval: float) -> str:
    """Settings YAML enabling every job the settings know (run with ``OPS_TEST_EVERY_JOB=1``: all steerable)."""
    return "jobs:\n" + "".join(f"  {name}: {{enabled: true, interval: {interval}, jitter: 0}}\n"
                                for name in JobsSettings.model_fields)


class PrometheusServer:
    """A real Prometheus scraping one target every second, queried over its HTTP API."""

    def __init__(self, workdir: Path, target: str) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.config = workdir / "prometheus.yml"
        self.config.write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            f"  - job_name: cscart-smile-bridge\n    static_configs: [{{targets: ['{target}']}}]\n",
            encoding="utf-8",
        )
        self.log = workdir / "prometheus.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [shutil.which("prometheus") or "prometheus", f"--config.file={self.config}",
                 f"--storage.tsdb.path={self.workdir / 'tsdb'}", f"--web.listen-address=127.0.0.1:{self.port}"],
                stdout=log, stderr=log,
            )
        wait_port(self.port, timeout=30)
        # the port opens before the TSDB is up; /-/ready answers 200 once queries work
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=2):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def query(self, expr: str) -> dict[str, Any]:
        """``/api/v1/query``; a PromQL error comes back as the decoded error document (status "error")."""
        url = f"http://127.0.0.1:{self.port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            return json.loads(error.read())

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A short folder path: AF_UNIX socket paths must stay under 108 bytes."""
    path = Path(tempfile.mkdtemp(prefix="ops-", dir="/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
