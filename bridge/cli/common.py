"""Shared CLI pieces: options, settings loading, async entry, consoles."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

from bridge import i18n
from bridge.errors import BridgeError
from bridge.i18n import _

if TYPE_CHECKING:
    from bridge.config import Settings

T = TypeVar("T")

# Piped output (grep, less, cron mail) is not wrapped at 80 columns.
console = Console(width=None if sys.stdout.isatty() else 200)
console_err = Console(stderr=True, width=None if sys.stderr.isatty() else 200)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help=_("Settings file (YAML); default $BRIDGE_CONFIG, else built-in defaults.")),
]


class CliError(typer.Exit):
    """An error for the operator: ``error: …`` on stderr, no traceback, the given exit code.

    It is a ``typer.Exit`` (typer's public way to end with a code), so the message is printed when it is raised.
    """

    def __init__(self, message: str, exit_code: int = 1) -> None:
        console_err.print(_("error: {message}").format(message=message), markup=False, highlight=False, soft_wrap=True)
        super().__init__(exit_code)
        self.message = message

    def __str__(self) -> str:
        return self.message


# Exit codes of every command (docs/operations.md "Exit codes").
EXIT_OK = 0
EXIT_FAILED = 1  # the operation was tried and failed (a connection, a delivery, a run)
EXIT_BAD_INPUT = 2  # bad input: settings, rules, a file or a flag the operator gave


def settings_or_exit(config: Path | None) -> Settings:
    from bridge.config import load_settings

    i18n.configure_from_env()
    try:
        settings = load_settings(config)
    except BridgeError as exc:
        raise CliError(str(exc), exit_code=EXIT_BAD_INPUT) from None
    i18n.configure(settings.ui.language, settings.ui.timezone)
    return settings


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coro)
    except BridgeError as exc:
        raise CliError(str(exc), exit_code=getattr(exc, "exit_code", 1)) from None
    except KeyboardInterrupt:
        sys.exit(130)
