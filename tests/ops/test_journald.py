"""Under systemd the log lines reach journald with their priority and fields, so the documented recipes work:
``journalctl -p err``, ``journalctl JOB=stock``, ``journalctl ORDER_ID=…``. Checked against a real systemd-journald
(a journal namespace of its own, started here) and read back with journalctl."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.logging import encode_journal, field_name, journal_fields

JOURNALD = "/usr/lib/systemd/systemd-journald"

SCRIPT = """
import logging, structlog
from bridge.logging import bind_run, configure
configure("DEBUG", "journal")
log = structlog.get_logger()
with bind_run("stock", "run-7"):
    log.info("job.started")
    log.error("job.failed", error="CS-Cart answered 503", message="在庫の同期に失敗しました")
log.warning("order.held", order_id=4711, reason="credit")
logging.getLogger("aiohttp.client").warning("connection reset by peer")
"""


@pytest.fixture
def journal() -> Iterator[tuple[str, Path]]:
    if os.geteuid() != 0 or not Path(JOURNALD).exists():
        pytest.fail("needs root and systemd-journald (Debian package systemd), as in CI")
    namespace = f"bridgetest{uuid.uuid4().hex[:8]}"
    daemon = subprocess.Popen([JOURNALD, namespace], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    socket_path = Path(f"/run/systemd/journal.{namespace}/socket")
    deadline = time.monotonic() + 20
    while not socket_path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        assert socket_path.exists(), "systemd-journald did not create its socket"
        yield namespace, socket_path
    finally:
        daemon.terminate()
        daemon.wait(timeout=20)
        machine = Path("/etc/machine-id").read_text().strip() if Path("/etc/machine-id").exists() else ""
        for folder in (Path("/var/log/journal") / f"{machine}.{namespace}", Path("/run/log/journal") /
                       f"{machine}.{namespace}", Path(f"/run/systemd/journal.{namespace}")):
            shutil.rmtree(folder, ignore_errors=True)


def journalctl(namespace: str, *args: str) -> list[dict]:
    deadline = time.monotonic() + 20
    while True:
        done = subprocess.run(["journalctl", f"--namespace={namespace}", "-o", "json", "--no-pager",
                               "SYSLOG_IDENTIFIER=cscart-smile-bridge", *args], capture_output=True, text=True)
        entries = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        if entries or time.monotonic() > deadline:
            return entries
        time.sleep(0.2)


def test_priorities_and_fields_reach_the_journal(journal: tuple[str, Path]) -> None:
    namespace, socket_path = journal
    env = {**os.environ, "BRIDGE_JOURNAL_SOCKET": str(socket_path)}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == done.stderr == ""  # everything went to the journal

    everything = journalctl(namespace)
    assert len(everything) == 4, everything
    errors = journalctl(namespace, "-p", "err")  # the recipe: journalctl -p err -u cscart-smile-bridge
    assert [e["EVENT"] for e in errors] == ["job.failed"]
    assert errors[0]["MESSAGE"] == "在庫の同期に失敗しました" and errors[0]["PRIORITY"] == "3"
    by_job = journalctl(namespace, "JOB=stock")  # journalctl JOB=stock
    assert [e["EVENT"] for e in by_job] == ["job.started", "job.failed"]
    assert {e["RUN_ID"] for e in by_job} == {"run-7"}
    held = journalctl(namespace, "ORDER_ID=4711")
    assert [(e["EVENT"], e["PRIORITY"], e["REASON"]) for e in held] == [("order.held", "4", "credit")]
    library = journalctl(namespace, "LOGGER=aiohttp.client")  # library loggers come out the same way
    assert [(e["MESSAGE"].startswith("connection reset by peer"), e["PRIORITY"]) for e in library] == [(True, "4")]


def test_without_the_socket_lines_carry_a_priority_prefix(tmp_path: Path) -> None:
    env = {**os.environ, "BRIDGE_JOURNAL_SOCKET": str(tmp_path / "no-journal-here")}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60)
    lines = done.stderr.splitlines()
    assert [line[:3] for line in lines] == ["<6>", "<3>", "<4>", "<4>"], lines
    assert json.loads(lines[1][3:])["event"] == "job.failed"


def test_field_names_and_encoding() -> None:
    assert field_name("order_id") == "ORDER_ID" and field_name("_x-y") == "X_Y" and field_name("1a") == "A"
    fields = journal_fields({"event": "x", "level": "error", "job": "stock", "exception": "Traceback\n  boom"})
    assert fields["PRIORITY"] == "3" and fields["JOB"] == "stock" and fields["MESSAGE"].endswith("boom")
    encoded = encode_journal({"A": "1", "B": "two\nlines"})
    assert encoded.startswith(b"A=1\nB\n") and encoded.endswith(b"two\nlines\n")
