"""Helpers for the add-on tests: the real php and phpunit binaries from apt (php-cli, phpunit)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from bridge.cscart.addon_tools import ADDON_ROOT

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


__all__ = ["ADDON_ROOT", "run_php_protocol"]
