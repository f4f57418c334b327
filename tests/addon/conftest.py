"""Helpers for the add-on tests: the real php and phpunit binaries from apt (php-cli, phpunit)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bridge.cscart.addon_tools import ADDON_ROOT
from bridge.sync.orders.hook import OrdersWakeup
from tests.foundation.fakes import serving

HERE = Path(__file__).resolve().parent
PROTOCOL_CLI = HERE / "protocol_cli.php"


def run_php_protocol(request: dict[str, Any]) -> dict[str, Any]:
    """Run the add-on's PHP classes on ``request`` (see protocol_cli.php) and return the decoded answer."""
    done = subprocess.run(
        ["php", str(PROTOCOL_CLI)],
        input=json.dumps(request, ensure_ascii=False),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return json.loads(done.stdout)


@dataclass
class WakeUpHook:
    """The daemon's real /hooks/cscart handler on 127.0.0.1, secret ``s3cret``; ``woken`` counts the triggers."""

    hook: OrdersWakeup
    url: str
    woken: list[int] = field(default_factory=list)


@pytest.fixture
async def wake_up_hook() -> AsyncIterator[WakeUpHook]:
    hook = OrdersWakeup("s3cret")
    app = web.Application()
    app.router.add_post(hook.path, hook.handle)
    async with serving(app) as url:
        served = WakeUpHook(hook, url)
        hook.bind(lambda: served.woken.append(1))
        yield served


__all__ = ["ADDON_ROOT", "WakeUpHook", "run_php_protocol"]
