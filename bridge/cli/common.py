"""Shared CLI pieces: options, settings loading, async entry, consoles."""

from __future__ import annotations

import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

import typer

from bridge import i18n
from bridge.errors import BridgeError
from bridge.i18n import _

if TYPE_CHECKING:
    from rich.console import Console

    from bridge.config import Settings

T = TypeVar("T")


class _LazyConsole:
    """A rich ``Console`` made on first use: ``bridge CMD --help`` does not import rich (start-up time)."""

    def __init__(self, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            stream = sys.stderr if self._stderr else sys.stdout
            # Piped output (grep, less, cron mail) is not wrapped at 80 columns.
            self._console = Console(stderr=self._stderr, width=None if stream.isatty() else 200)
        return getattr(self._console, name)


console = cast("Console", _LazyConsole(stderr=False))
console_err = cast("Console", _LazyConsole(stderr=True))

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
    import asyncio

    try:
        return asyncio.run(coro)
    except BridgeError as exc:
        raise CliError(str(exc), exit_code=getattr(exc, "exit_code", 1)) from None
    except KeyboardInterrupt:
        sys.exit(130)
