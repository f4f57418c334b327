"""`bridge run` speaks sd_notify to a real notify socket: READY=1, WATCHDOG=1 only while jobs tick, STOPPING=1."""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.ops.conftest import DaemonProcess, only_stock_job


class NotifySocket:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))

    def receive(self, timeout: float) -> list[str] | None:
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(4096)
        except TimeoutError:
            return None
        return data.decode().split("\n")

    def wait_for(self, predicate: Callable[[list[str]], bool], timeout: float, daemon: DaemonProcess) -> list[str]:
        """The first message matching ``predicate``; fails with the daemon's log after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self.receive(max(0.01, deadline - time.monotonic()))
            if message is not None and predicate(message):
                return message
        pytest.fail(f"no matching notify message within {timeout}s; daemon log:\n{daemon.output()[-4000:]}")

    def collect(self, seconds: float) -> list[list[str]]:
        messages = []
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            message = self.receive(remaining)
            if message is not None:
                messages.append(message)
        return messages


@pytest.fixture
def notify(short_dir: Path) -> Iterator[NotifySocket]:
    sock = NotifySocket(short_dir / "notify")
    try:
        yield sock
    finally:
        sock.sock.close()


def test_ready_watchdog_only_while_ticking_and_stopping(short_dir: Path, notify: NotifySocket) -> None:
    watchdog_usec = 300_000  # pings every 0.15 s
    daemon = DaemonProcess(
        short_dir, only_stock_job(interval=0.1, stuck_after=0.6),
        extra_env={"NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": str(watchdog_usec)},
    )
    daemon.start()
    try:
        ready = notify.wait_for(lambda m: "READY=1" in m, 20, daemon)
        assert any(line.startswith("STATUS=running: stock") for line in ready)

        # Jobs tick: the watchdog is fed, again and again, while the job keeps completing runs.
        # (the first run starts after a random offset of up to 2 s, so wait for runs, counting pings meanwhile)
        pings = 0
        while daemon.runs() < 3 or pings < 3:
            notify.wait_for(lambda m: m == ["WATCHDOG=1"], 5, daemon)
            pings += 1
            assert pings < 100, f"the job never ran; daemon log:\n{daemon.output()[-4000:]}"

        # The job hangs: once it has run longer than stuck_after, the pings stop and the status says why.
        daemon.flag("hang", True)
        notify.wait_for(lambda m: m == ["STATUS=stuck: stock"], 10, daemon)
        while_stuck = notify.collect(1.0)  # more than six watchdog periods
        assert while_stuck, "the daemon should keep reporting its status while stuck"
        assert all(m == ["STATUS=stuck: stock"] for m in while_stuck), while_stuck

        # The run finishes: the watchdog is fed again.
        daemon.flag("hang", False)
        notify.wait_for(lambda m: m == ["WATCHDOG=1"], 10, daemon)

        daemon.process.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
        notify.wait_for(lambda m: "STOPPING=1" in m, 10, daemon)
        assert daemon.stop() == 0, daemon.output()[-4000:]
    finally:
        if daemon.process is not None and daemon.process.poll() is None:
            daemon.process.kill()
            daemon.process.wait()


def test_no_watchdog_pings_when_systemd_did_not_ask_for_them(short_dir: Path, notify: NotifySocket) -> None:
    daemon = DaemonProcess(short_dir, only_stock_job(interval=0.1), extra_env={"NOTIFY_SOCKET": str(notify.path)})
    daemon.start()
    try:
        notify.wait_for(lambda m: "READY=1" in m, 20, daemon)
        assert daemon.stop() == 0
        remaining = notify.collect(0.2)
        assert ["WATCHDOG=1"] not in remaining
        assert any("STOPPING=1" in m for m in remaining)
    finally:
        if daemon.process is not None and daemon.process.poll() is None:
            daemon.process.kill()
            daemon.process.wait()
