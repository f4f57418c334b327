"""Fixtures shared by every test directory."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bridge import i18n
from bridge.store import Store


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
