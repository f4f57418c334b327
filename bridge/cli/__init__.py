"""The ``bridge`` command. Each command group lives in its own module and is registered here."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="bridge",
    help="cscart-smile-bridge: keeps a CS-Cart B2B shop and the SMILE ERP consistent.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    # Command groups, one module each; keep this list sorted by command name.
    from bridge.cli import (
        addon_cmd,
        analytics_cmd,
        backup_cmd,
        campaigns_cmd,
        carriers_cmd,
        config_cmd,
        demo_cmd,
        dlq,
        rules_cmd,
        run,
        simulator_cmd,
        smile_cmd,
        status,
        sync_cmd,
    )

    app.add_typer(addon_cmd.app, name="addon")
    app.add_typer(analytics_cmd.app, name="analytics")
    app.command("backup")(backup_cmd.backup)
    app.command("run")(run.run)
    app.add_typer(campaigns_cmd.app, name="campaigns")
    app.add_typer(carriers_cmd.app, name="carriers")
    app.add_typer(config_cmd.app, name="config")
    app.command("demo")(demo_cmd.demo)
    app.add_typer(dlq.app, name="dlq")
    from bridge.cli import orders_cmd

    app.add_typer(orders_cmd.app, name="orders")
    from bridge.cli import report_cmd

    app.command("report")(report_cmd.report)
    app.command("restore")(backup_cmd.restore)
    app.add_typer(rules_cmd.app, name="rules")
    app.command("simulator")(simulator_cmd.simulator)
    app.add_typer(smile_cmd.app, name="smile")
    app.command("status")(status.status)
    app.command("sync")(sync_cmd.sync)


_register()


def main() -> None:
    app()
