"""Fixtures shared by every test directory."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bridge import i18n
from bridge.store import Store


# Programs from Debian packages some tests run (README "Run the tests"); → the package that provides each.
SYSTEM_PACKAGES = {
    "php": "php-cli php-xml php-mbstring", "phpunit": "phpunit", "mosquitto": "mosquitto", "promtool": "prometheus",
    "prometheus": "prometheus", "systemd-analyze": "systemd", "systemd-cat": "systemd", "journalctl": "systemd",
}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A test that needs a program from a Debian package that is not installed is skipped with a line naming the
    package, instead of failing with FileNotFoundError. In CI (CI=true) it still fails: CI installs them all."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if call.excinfo is None or not call.excinfo.errisinstance(FileNotFoundError) or os.environ.get("CI"):
        return
    program = Path(str(getattr(call.excinfo.value, "filename", "") or "")).name
    if program in SYSTEM_PACKAGES:
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0,
                           f"Skipped: {program} is not installed (apt-get install {SYSTEM_PACKAGES[program]})")


@pytest.fixture(autouse=True)
def _english_unless_asked(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts in English and JST whatever the machine's locale; ``lang`` runs a test in both."""
    for name in ("LC_ALL", "LC_MESSAGES", "BRIDGE_UI__LANGUAGE", "BRIDGE_UI__TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    i18n.configure("en", i18n.times.DEFAULT_ZONE)
    yield
    i18n.configure("en", i18n.times.DEFAULT_ZONE)


@pytest.fixture(params=["en", "ja"])
def lang(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs the test once per language; the locale environment says so too (for CLI commands and subprocesses)."""
    monkeypatch.setenv("LANG", "ja_JP.UTF-8" if request.param == "ja" else "C.UTF-8")
    i18n.set_language(request.param)
    return str(request.param)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "state.sqlite3")
    try:
        yield opened
    finally:
        await opened.close()
