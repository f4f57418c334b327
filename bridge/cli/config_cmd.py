"""``bridge config check``: validate the settings and print them, secrets masked."""

from __future__ import annotations

import typer
import yaml

from bridge.cli.common import ConfigOption, console, settings_or_exit

app = typer.Typer(help="Inspect the settings.", no_args_is_help=True)


@app.command("check")
def check(config: ConfigOption = None) -> None:
    """Validate the settings file and environment; print the effective settings with secrets masked."""
    from bridge.config import masked, resolve_config_path

    settings = settings_or_exit(config)
    source = resolve_config_path(config)
    console.print(f"# settings OK ({source or 'built-in defaults'} + BRIDGE_* environment)", highlight=False)
    console.print(yaml.safe_dump(masked(settings), sort_keys=False, allow_unicode=True), highlight=False, markup=False)
