"""``bridge smile``: generate a sample SMILE export set; check a file against its layout."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from bridge.cli.common import CliError, ConfigOption, console, settings_or_exit

if TYPE_CHECKING:
    from bridge.smile.settings import SmileSettings

app = typer.Typer(help="SMILE files: generate sample data, check a file before it is delivered.",
                  no_args_is_help=True)

_PREVIEW_ROWS = 10


def _smile_settings(config: Path | None) -> SmileSettings:
    return settings_or_exit(config).smile


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the files into (created if missing).")],
    products: Annotated[int, typer.Option("--products", min=1, help="商品マスター rows.")] = 1000,
    customers: Annotated[int, typer.Option("--customers", min=1, max=899_998, help="得意先マスター rows.")] = 100,
    warehouses: Annotated[int, typer.Option("--warehouses", min=1, max=999, help="Warehouses in 在庫.")] = 1,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same files.")] = 1,
    encoding: Annotated[
        str | None, typer.Option("--encoding", help="Write every file in this encoding instead of its layout's.")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Write a realistic, seeded set of SMILE exports (商品, 得意先, 在庫, 得意先別単価, 数量別単価)."""
    from bridge.smile.generator import generate as run_generator

    settings = _smile_settings(config)
    allowed = ("cp932", "shift_jis", "utf-16", "utf-8", "utf-8-sig")
    if encoding is not None and encoding not in allowed:
        raise CliError(f"--encoding must be one of {', '.join(allowed)}; got {encoding!r}", exit_code=2)
    if sys.stdout.isatty():
        from rich.progress import Progress

        with Progress(transient=True, console=console) as progress:
            task = progress.add_task("generating", total=5)
            made = run_generator(out, products=products, customers=customers, warehouses=warehouses, seed=seed,
                                 encoding=encoding, settings=settings,
                                 progress=lambda kind, rows: progress.update(task, advance=1, description=kind))
    else:
        made = run_generator(out, products=products, customers=customers, warehouses=warehouses, seed=seed,
                             encoding=encoding, settings=settings)
    table = Table("type", "file", "rows", "encoding")
    for file_type, path in made.paths.items():
        table.add_row(file_type, str(path), f"{len(getattr(made, file_type)):,}",
                      encoding or settings.layout(file_type).encoding)
    console.print(table)
    if encoding:
        console.print(f"Read them with smile.files.<type>.encoding: {encoding} in the settings.", highlight=False)


@app.command()
def check(
    file: Annotated[Path, typer.Argument(help="The file to check.", exists=False)],
    file_type: Annotated[str, typer.Option("--type", "-t", help="Layout: products, customers, stock, …")],
    encoding: Annotated[str | None, typer.Option("--encoding", help="Override the layout's encoding.")] = None,
    config: ConfigOption = None,
) -> None:
    """Validate FILE against its layout: print what would be read, or every problem (exit 1)."""
    from bridge.smile.reader import read_file
    from bridge.smile.schema import SCHEMAS

    settings = _smile_settings(config)
    if file_type not in SCHEMAS or file_type not in settings.files:
        readable = ", ".join(name for name in SCHEMAS if name in settings.files)
        raise CliError(f"--type {file_type!r} is not a readable SMILE file type; use one of: {readable}", exit_code=2)
    if not file.is_file():
        raise CliError(f"{file}: no such file", exit_code=2)
    layout = settings.layout(file_type)
    if encoding:
        layout = layout.changed(encoding=encoding)
    size = file.stat().st_size
    if size > settings.max_file_bytes:
        raise CliError(f"{file}: {size:,} bytes is more than smile.max_file_bytes ({settings.max_file_bytes:,}); "
                       "not read")
    if sys.stdout.isatty():
        with console.status(f"reading {file.name}", spinner="dots") as status:
            result = read_file(file, file_type, settings, layout=layout,
                               progress=lambda rows: status.update(f"reading {file.name}: {rows:,} rows"))
    else:
        result = read_file(file, file_type, settings, layout=layout)
    if not result.ok:
        console.print(result.report(), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    console.print(f"{file.name}: OK — {layout.label()}, {result.rows:,} row(s), {len(result.records):,} record(s) "
                  f"would be read, {len(result.skipped):,} 諸口 row(s) skipped.", markup=False, highlight=False)
    for note in result.notes:
        console.print(f"note: {note}", markup=False, highlight=False)
    if result.records:
        console.print(_preview(result.records[:_PREVIEW_ROWS]))


def _preview(records: list[Any]) -> Table:
    from dataclasses import fields

    names = [f.name for f in fields(records[0])]
    table = Table(*names, title=f"first {len(records)} record(s)")
    for record in records:
        table.add_row(*(_show(getattr(record, name)) for name in names))
    return table


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return " / ".join(_show(v) for v in value)
    if hasattr(value, "company"):  # Address
        return " ".join(part for part in (value.postcode, value.prefecture, value.city, value.street) if part)
    return str(value.value if hasattr(value, "value") else value)
