"""The ``bridge`` command. Each command or command group lives in its own module, listed in ``COMMANDS``.

The modules are imported only when their command runs (``LazyGroup``): ``bridge --help``, ``bridge --version`` and
``bridge config check`` do not pay for the daemon, aiohttp and every job at start-up.
"""

from __future__ import annotations

import gc
import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import typer
import typer.core
import typer.main

from bridge import __version__, i18n
from bridge.i18n import N_, _

# Plain help and usage errors (click's): no "<bool>" type column on flags, lines that fit the terminal, and rich is
# not imported just to print help.
typer.core.HAS_RICH = False

# Help texts are built when the command modules are imported: pick the language first.
i18n.configure_from_env()


@dataclass(frozen=True, slots=True)
class Entry:
    target: str  # "module:attribute" under bridge.cli; a typer.Typer (a group) or a function (one command)
    help: str  # the line shown by ``bridge --help`` (marked for the catalogue)


# Keep sorted by command name; adding a command is one line here.
COMMANDS: dict[str, Entry] = {
    "addon": Entry("addon_cmd:app", N_("The smile_bridge CS-Cart add-on: lint and package it.")),
    "analytics": Entry("analytics_cmd:app", N_("The analytics store: backfill, export a table, what it holds.")),
    "backup": Entry("backup_cmd:backup", N_("Copy the state file consistently, even while the daemon runs.")),
    "campaigns": Entry("campaigns_cmd:app", N_("Campaigns (rules/campaigns.yaml): state, next write, effect report.")),
    "carriers": Entry("carriers_cmd:app", N_("Carriers: label files, shipping-result files, tracking numbers.")),
    "config": Entry("config_cmd:app", N_("Check the settings: would bridge run start healthy?")),
    "demo": Entry("demo_cmd:demo", N_("See the whole catalog flow against a simulated CS-Cart.")),
    "dlq": Entry("dlq:app", N_("Dead letters: writes that failed for good and wait for an operator.")),
    "orders": Entry("orders_cmd:app", N_("The orders mirror: history, resend to SMILE, listings.")),
    "report": Entry("report_cmd:report", N_("Reports: sales, stock, customers, delivery, campaigns, forecasts, packs.")),
    "restore": Entry("backup_cmd:restore", N_("Replace the state file with a backup (daemon stopped).")),
    "rules": Entry("rules_cmd:app", N_("Check the ops-editable rules (rules/*.yaml).")),
    "run": Entry("run:run", N_("Run the daemon: sync jobs, dispatch the outbox, serve /metrics /readyz.")),
    "simulator": Entry("simulator_cmd:simulator", N_("Run a seeded CS-Cart simulator until Ctrl-C.")),
    "smile": Entry("smile_cmd:app", N_("SMILE files: generate sample data, check a file before delivery.")),
    "status": Entry("status:status", N_("Jobs, outbox and dead letters, daemon running or not.")),
    "sync": Entry("sync_cmd:sync", N_("Run one sync job once, now: in the running daemon when there is one, else in this process.")),
}


def _nothing() -> None:
    """The holder group's callback (makes it a group)."""


class LazyGroup(typer.core.TyperGroup):
    """The root group: lists ``COMMANDS`` without importing them; imports a command's module when it is used."""

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attribute = entry.target.split(":")
        module = importlib.import_module(f"bridge.cli.{module_name}")
        target = getattr(module, attribute)
        # Built as add_typer/command on a group would (a one-command group stays a group: bridge config check).
        holder = typer.Typer(add_completion=False)
        holder.callback()(_nothing)
        if isinstance(target, typer.Typer):
            holder.add_typer(target, name=cmd_name)
        else:
            # a one-function command's long help is its module's HELP (catalogue text), not the English docstring
            long_help = getattr(module, "HELP", None)
            holder.command(cmd_name, help=_(long_help) if long_help else None)(target)
        command = typer.main.get_command(holder).commands[cmd_name]  # type: ignore[attr-defined]
        _translate_help_option(command, ctx)
        return command

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = _(HELP_OPTION)
        return option

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, windows_expand_args: bool = True, **extra: Any) -> Any:
        """click's ``main``, with usage errors printed in the operator's language (bridge/cli/usage.py)."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        from bridge.cli import usage

        def run(arguments: Sequence[str] | None, **options: Any) -> Any:
            return super(LazyGroup, self).main(arguments, prog_name, complete_var,
                                               windows_expand_args=windows_expand_args, **options)

        return usage.run(run, args, **extra)

    def invoke(self, ctx: Any) -> Any:
        super().invoke(ctx)
        return None  # what a command returns is not an exit code (click ignores it too)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = [(name, _(COMMANDS[name].help)) for name in self.list_commands(ctx)]
        with formatter.section(_("Commands")):
            formatter.write_dl(rows)


HELP_OPTION = N_("Show this message and exit.")  # click's own text, in the operator's language
# typer's section headings of a command's help ("Arguments", "Options", "Commands") through the same catalogue
typer.core._ = _  # type: ignore[attr-defined]
TYPER_HEADINGS = (N_("Arguments"), N_("Options"))  # and "Commands", already in the catalogue
# typer's other help texts through the same _: "[default: 8080; required]"
TYPER_HELP = (N_("default: {default}"), N_("required"), N_("env var: {var}"), N_("(dynamic)"))
USAGE = N_("Usage: ")  # click writes it without gettext: given as the usage line's prefix instead


class _HelpFormatter(typer._click.formatting.HelpFormatter):
    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, _(USAGE) if prefix is None else prefix)


typer._click.core.Context.formatter_class = _HelpFormatter


def _translate_help_option(command: Any, ctx: Any) -> None:
    """``--help``'s own line of a command and of every subcommand under it."""
    option = command.get_help_option(ctx)
    if option is not None:
        option.help = _(HELP_OPTION)
    for sub in getattr(command, "commands", {}).values():
        _translate_help_option(sub, ctx)


app = typer.Typer(
    name="bridge",
    cls=LazyGroup,
    help=_("cscart-smile-bridge: keeps a CS-Cart B2B shop and the SMILE ERP consistent."),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cscart-smile-bridge {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help=_("Print the version and exit.")),
) -> None:
    # Each invocation (also CliRunner's in tests) follows the environment it runs in.
    i18n.configure_from_env()


def main() -> None:
    """The console entry point (``bridge``): the process ends when it returns."""
    try:
        app()
    finally:
        # The interpreter's exit would have the cyclic collector walk every object once more (pydantic's schemas,
        # a job's records) only to free what the OS takes back anyway: frozen, they are skipped. About 50 ms of a
        # daemon-run `bridge sync`'s 300 (bench/catalog_stock.py).
        gc.freeze()
