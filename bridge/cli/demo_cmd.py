"""``bridge demo``: simulator + generated SMILE folder + the real daemon, in a temporary folder, no config needed."""

from __future__ import annotations

from pathlib import Path

import typer

from bridge.cli.common import console, run_async
from bridge.i18n import N_, _

HELP = N_("See the whole catalog flow: SMILE files → rules → only-what-changed writes to a simulated CS-Cart.")


def demo(
    cycles: int = typer.Option(0, "--cycles", min=0, help=_("Stop after N cycles; 0 runs until Ctrl-C.")),
    products: int = typer.Option(300, min=2, help=_("Products in the generated SMILE set and the simulator.")),
    interval: float = typer.Option(3.0, min=0.5, help=_("Seconds from the start of one cycle to the next.")),
    seed: int = typer.Option(1, help=_("Seed of the generated data and of the demo's changes.")),
    keep: Path = typer.Option(None, help=_("Work in this folder and keep it (default: a temporary folder).")),
    details: bool = typer.Option(False, "--details", help=_(
        "Print every change and each job's figures, instead of one line per cycle.")),
) -> None:
    """See the whole catalog flow: SMILE files → rules → only-what-changed writes to a simulated CS-Cart."""
    from bridge.demo import DemoOptions, run_demo

    options = DemoOptions(cycles=cycles or None, products=products, interval=interval, seed=seed, keep=keep,
                          details=details)
    code = run_async(run_demo(options, out=lambda line: console.print(line, markup=False, highlight=False, soft_wrap=True)))
    raise typer.Exit(code)
