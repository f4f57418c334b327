"""The live suite (``pytest -m live_cscart``): a real CS-Cart given by URL and credentials
(``BRIDGE_LIVE_CSCART_URL``, ``_EMAIL``, ``_API_KEY``), and for the add-on install tests its root folder
(``BRIDGE_LIVE_CSCART_STORE_ROOT``; the console runs as ``BRIDGE_LIVE_CSCART_WEB_USER``, default www-data).
Every test here is marked ``live_cscart``, so CI (``-m 'not live_cscart'``) never collects them into a run."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cscart.backends import LiveBackend

LIVE_ENV = ("BRIDGE_LIVE_CSCART_URL", "BRIDGE_LIVE_CSCART_EMAIL", "BRIDGE_LIVE_CSCART_API_KEY")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.live_cscart)


@dataclass(frozen=True)
class LiveStore:
    url: str
    email: str
    api_key: str
    company_id: int
    root: Path | None
    web_user: str

    def require_root(self) -> Path:
        if self.root is None:
            pytest.fail("this live test installs the add-on: set BRIDGE_LIVE_CSCART_STORE_ROOT to the store's folder "
                        "(the one with admin.php) and run as root or as the web user")
        return self.root


@pytest.fixture(scope="session")
def live_store() -> LiveStore:
    return store_from_env()


def store_from_env() -> LiveStore:
    """The store of this ``-m live_cscart`` run (the test fails, naming what is missing, without one)."""
    missing = [name for name in LIVE_ENV if not os.environ.get(name)]
    if missing:
        pytest.fail(f"-m live_cscart needs {', '.join(missing)} (see README, 'Tests against a real CS-Cart')")
    root = os.environ.get("BRIDGE_LIVE_CSCART_STORE_ROOT")
    return LiveStore(os.environ["BRIDGE_LIVE_CSCART_URL"].rstrip("/"), os.environ["BRIDGE_LIVE_CSCART_EMAIL"],
                     os.environ["BRIDGE_LIVE_CSCART_API_KEY"],
                     int(os.environ.get("BRIDGE_LIVE_CSCART_COMPANY_ID", "1")),
                     Path(root) if root else None, os.environ.get("BRIDGE_LIVE_CSCART_WEB_USER", "www-data"))


@pytest.fixture
async def live(live_store: LiveStore) -> AsyncIterator[LiveBackend]:
    backend = LiveBackend(live_store.url, live_store.email, live_store.api_key, company_id=live_store.company_id)
    async with backend:
        yield backend


def bridge_addon(store: LiveStore, *args: str) -> subprocess.CompletedProcess[str]:
    """``bridge addon ARGS`` against the store's folder, as staff run it."""
    return subprocess.run([sys.executable, "-m", "bridge", "addon", *args, "--store-root", str(store.require_root()),
                           "--web-user", store.web_user], capture_output=True, text=True, timeout=600, check=False)
