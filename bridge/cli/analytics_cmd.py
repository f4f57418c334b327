"""``bridge analytics``: build the analytics store of an existing installation, export its tables, show its size."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bridge.cli.common import CliError, ConfigOption, console, settings_or_exit

app = typer.Typer(help="The analytics store (DuckDB): backfill, export, info.", no_args_is_help=True)


def _store(config: Path | None):  # type: ignore[no-untyped-def]
    from bridge.analytics.store import AnalyticsStore, default_path

    settings = settings_or_exit(config)
    path = settings.analytics.path or default_path(settings.data_dir)
    return settings, AnalyticsStore(path, memory_limit=settings.analytics.memory_limit,
                                    threads=settings.analytics.threads)


@app.command("backfill")
def backfill(
    config: ConfigOption = None,
    orders: Annotated[bool, typer.Option(help="Feed the orders mirror (state store)")] = True,
    files: Annotated[bool, typer.Option(help="Feed the archived SMILE 商品/得意先/在庫 files")] = True,
) -> None:
    """Build the analytics store from the orders mirror and the archived SMILE files (safe to run again)."""
    from bridge.analytics.backfill import backfill as run_backfill

    settings, analytics = _store(config)
    if not settings.state_path.is_file():
        raise CliError(f"{settings.state_path}: no state store yet (run the bridge first, or check --config)")
    result = run_backfill(settings, analytics, orders=orders, files=files,
                          progress=lambda line: console.print(line, markup=False))
    for line in result.lines():
        console.print(line, markup=False)
    console.print(f"analytics store: {analytics.path} ({analytics.size_bytes() / 1e6:.1f} MB)", markup=False)


@app.command("export")
def export_table(
    table: Annotated[str, typer.Argument(help="orders, order_lines, order_states, shipments, returns, "
                                              "stock_changes, products, price_history, customers")],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write (.parquet or .csv)")],
    config: ConfigOption = None,
) -> None:
    """Export a whole analytics table to Parquet or CSV (for a BI tool or a warehouse)."""
    from bridge.analytics import export

    _, analytics = _store(config)
    fmt = output.suffix.lstrip(".").lower()
    if fmt not in ("parquet", "csv"):
        raise CliError(f"{output}: give a .parquet or .csv file name")
    try:
        with analytics.connect() as con:
            export.store_table(con, table, output, fmt)
    except ValueError as error:
        raise CliError(str(error)) from None
    console.print(f"{table} → {output}", markup=False)


@app.command("info")
def info(config: ConfigOption = None) -> None:
    """Rows per table and the size of the analytics store."""
    from bridge.analytics.export import STORE_TABLES

    _, analytics = _store(config)
    with analytics.connect() as con:
        for table in STORE_TABLES:
            count = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            console.print(f"{table:15} {count:>12,}", markup=False)
    console.print(f"{analytics.path}: {analytics.size_bytes() / 1e6:.1f} MB", markup=False)
