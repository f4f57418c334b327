"""Export: any report table, or any analytics store table, to CSV (UTF-8 with BOM, which Excel in Japan opens
as UTF-8) or Parquet (for a BI tool or a warehouse)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from bridge.analytics.render.cells import plain
from bridge.analytics.reports.base import Report, Table

STORE_TABLES = ("orders", "order_lines", "order_promotions", "order_states", "shipments", "returns", "stock_changes",
                "products", "price_history", "customers")


def table_csv(table: Table, path: Path) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([c.key for c in table.columns])
        for row in table.rows:
            writer.writerow(["" if v is None else plain(v) for v in row])
    return path


def table_frame(table: Table) -> pd.DataFrame:
    return pd.DataFrame.from_records([[plain(v) for v in row] for row in table.rows],
                                     columns=[c.key for c in table.columns])


def table_parquet(con: Any, table: Table, path: Path) -> Path:
    frame = table_frame(table)
    con.register("export_frame", frame)
    try:
        con.execute(f"COPY (SELECT * FROM export_frame) TO '{_quoted(path)}' (FORMAT parquet)")
    finally:
        con.unregister("export_frame")
    return path


def report_files(con: Any, reports: Sequence[Report], folder: Path, formats: Sequence[str]) -> list[Path]:
    """One file per table and format (csv, parquet); names are ``<report>-<table>.<ext>``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    used: set[str] = set()
    for report in reports:
        for table in report.tables:
            stem = table.name
            n = 2
            while stem in used:
                stem = f"{table.name}-{n}"
                n += 1
            used.add(stem)
            if "csv" in formats:
                written.append(table_csv(table, folder / f"{stem}.csv"))
            if "parquet" in formats:
                written.append(table_parquet(con, table, folder / f"{stem}.parquet"))
    return written


def store_table(con: Any, name: str, path: Path, fmt: str) -> Path:
    """A whole analytics store table, straight from DuckDB."""
    if name not in STORE_TABLES:
        raise ValueError(f"unknown table {name!r}; tables: {', '.join(STORE_TABLES)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        con.execute(f"COPY {name} TO '{_quoted(path)}' (FORMAT parquet)")
    elif fmt == "csv":
        con.execute(f"COPY {name} TO '{_quoted(path)}' (FORMAT csv, HEADER)")
    else:
        raise ValueError(f"format {fmt!r}: csv or parquet")
    return path


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")
