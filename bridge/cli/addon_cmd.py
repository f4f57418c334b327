"""``bridge addon check`` lints the smile_bridge CS-Cart add-on; ``bridge addon build`` packs its archive."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bridge.cli.common import CliError, console
from bridge.errors import ValidationFailed

DEFAULT_OUT = Path("dist")

app = typer.Typer(help="The smile_bridge CS-Cart add-on: lint and package it.", no_args_is_help=True)


def _report(problems: list[str]) -> None:
    for problem in problems:
        console.print(f"  {problem}", markup=False, highlight=False, soft_wrap=True)


@app.command("check")
def check_cmd(
    php: str = typer.Option("php", "--php", help="PHP CLI binary used for php -l."),
) -> None:
    """Lint the add-on: php -l, addon.xml, en/ja texts for every language variable, file tree."""
    from bridge.cscart import addon_tools

    problems = addon_tools.check(php=php)
    if problems:
        _report(problems)
        raise CliError(f"the add-on has {len(problems)} problem(s)")
    info = addon_tools.addon_info()
    console.print(f"{info.addon_id} {info.version}: ok ({len(info.files)} files)", markup=False)


@app.command("build")
def build_cmd(
    out: Annotated[
        Path, typer.Option("--out", help="Directory for smile_bridge-<version>.zip.")
    ] = DEFAULT_OUT,
    php: str = typer.Option("php", "--php", help="PHP CLI binary used for php -l."),
) -> None:
    """Check the add-on, then write the installable archive (upload it in Add-ons → Manage add-ons)."""
    try:
        from bridge.cscart import addon_tools

        target = addon_tools.build(out, php=php)
    except ValidationFailed as exc:
        _report(exc.problems)
        raise CliError(str(exc)) from None
    console.print(str(target), markup=False)
