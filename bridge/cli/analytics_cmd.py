"""``bridge analytics``: build the analytics store of an existing installation, export its tables, show its size."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bridge.cli.common import CliError, ConfigOption, console, settings_or_exit
from bridge.i18n import _

app = typer.Typer(help=_("The analytics store (DuckDB): backfill, export, info."), no_args_is_help=True)


def _store(config: Path | None):  # type: ignore[no-untyped-def]
    from bridge.analytics.store import AnalyticsStore, default_path

    settings = settings_or_exit(config)
    path = settings.analytics.path or default_path(settings.data_dir)
    return settings, AnalyticsStore(path, memory_limit=settings.analytics.memory_limit,
                                    threads=settings.analytics.threads)


@app.command("backfill", help=_(
    "Build the analytics store from the orders mirror and the archived SMILE files (safe to run "
    "again)."))
def backfill(
    config: ConfigOption = None,
    orders: Annotated[bool, typer.Option(help=_("Feed the orders mirror (state store)"))] = True,
    files: Annotated[bool, typer.Option(help=_("Feed the archived SMILE 商品/得意先/在庫 files"))] = True,
) -> None:
    from bridge.analytics.backfill import backfill as run_backfill

    settings, analytics = _store(config)
    if not settings.state_path.is_file():
        raise CliError(_("{file}: no state store yet (run the bridge first, or check --config)").format(
            file=settings.state_path))
    result = run_backfill(settings, analytics, orders=orders, files=files,
                          progress=lambda line: console.print(line, markup=False))
    for line in result.lines():
        console.print(line, markup=False)
    console.print(_("analytics store: {path} ({size} MB)").format(
        path=analytics.path, size=f"{analytics.size_bytes() / 1e6:.1f}"), markup=False)


@app.command("export", help=_(
    "Export a whole analytics table to Parquet or CSV (for a BI tool or a warehouse)."))
def export_table(
    table: Annotated[str, typer.Argument(help=_(
        "orders, order_lines, order_states, shipments, returns, stock_changes, products, price_history, customers"))],
    output: Annotated[Path, typer.Option("--output", "-o", help=_("File to write (.parquet or .csv)"))],
    config: ConfigOption = None,
) -> None:
    from bridge.analytics import export

    _settings, analytics = _store(config)
    fmt = output.suffix.lstrip(".").lower()
    if fmt not in ("parquet", "csv"):
        raise CliError(_("{file}: give a .parquet or .csv file name").format(file=output), exit_code=2)
    try:
        with analytics.connect() as con:
            export.store_table(con, table, output, fmt)
    except ValueError as error:
        raise CliError(str(error)) from None
    console.print(f"{table} → {output}", markup=False)


@app.command("info", help=_(
    "Rows per table and the size of the analytics store."))
def info(config: ConfigOption = None) -> None:
    from bridge.analytics.export import STORE_TABLES

    _settings, analytics = _store(config)
    with analytics.connect() as con:
        for table in STORE_TABLES:
            count = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            console.print(f"{table:15} {count:>12,}", markup=False)
    console.print(f"{analytics.path}: {analytics.size_bytes() / 1e6:.1f} MB", markup=False)
