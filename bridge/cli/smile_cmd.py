"""``bridge smile``: generate a sample SMILE export set; check a file against its layout."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from bridge.cli.common import CliError, ConfigOption, console, settings_or_exit
from bridge.i18n import _

if TYPE_CHECKING:
    from bridge.smile.settings import SmileSettings

app = typer.Typer(help=_("SMILE files: generate sample data, check a file before it is delivered."),
                  no_args_is_help=True)

_PREVIEW_ROWS = 10


def _smile_settings(config: Path | None) -> SmileSettings:
    return settings_or_exit(config).smile


@app.command(help=_(
    "Write a realistic, seeded set of SMILE exports (商品, 得意先, 在庫, 得意先別単価, 数量別単価)."))
def generate(
    out: Annotated[Path, typer.Option("--out", help=_("Folder to write the files into (created if missing)."))],
    products: Annotated[int, typer.Option("--products", min=1, help=_("商品マスター rows."))] = 1000,
    customers: Annotated[int, typer.Option("--customers", min=1, max=899_998, help=_("得意先マスター rows."))] = 100,
    warehouses: Annotated[int, typer.Option("--warehouses", min=1, max=999, help=_("Warehouses in 在庫."))] = 1,
    seed: Annotated[int, typer.Option("--seed", help=_("Same seed, same files."))] = 1,
    encoding: Annotated[
        str | None, typer.Option("--encoding", help=_("Write every file in this encoding instead of its layout's."))
    ] = None,
    config: ConfigOption = None,
) -> None:
    from bridge.smile.generator import generate as run_generator

    settings = _smile_settings(config)
    allowed = ("cp932", "shift_jis", "utf-16", "utf-8", "utf-8-sig")
    if encoding is not None and encoding not in allowed:
        raise CliError(_("--encoding must be one of {allowed}; got {encoding!r}").format(
            allowed=", ".join(allowed), encoding=encoding), exit_code=2)
    if sys.stdout.isatty():
        from rich.progress import Progress

        with Progress(transient=True, console=console) as progress:
            task = progress.add_task(_("generating"), total=5)
            made = run_generator(out, products=products, customers=customers, warehouses=warehouses, seed=seed,
                                 encoding=encoding, settings=settings,
                                 progress=lambda kind, rows: progress.update(task, advance=1, description=kind))
    else:
        made = run_generator(out, products=products, customers=customers, warehouses=warehouses, seed=seed,
                             encoding=encoding, settings=settings)
    table = Table(_("type"), _("file"), _("rows"), _("encoding"))
    for file_type, path in made.paths.items():
        table.add_row(file_type, str(path), f"{len(getattr(made, file_type)):,}",
                      encoding or settings.layout(file_type).encoding)
    console.print(table)
    if encoding:
        console.print(_("Read them with smile.files.<type>.encoding: {encoding} in the settings.").format(
            encoding=encoding), highlight=False, markup=False)


@app.command(help=_(
    "Validate FILE against its layout: print what would be read, or every problem (exit 1)."))
def check(
    file: Annotated[Path, typer.Argument(help=_("The file to check."), exists=False)],
    file_type: Annotated[str, typer.Option("--type", "-t", help=_("Layout: products, customers, stock, …"))],
    encoding: Annotated[str | None, typer.Option("--encoding", help=_("Override the layout's encoding."))] = None,
    config: ConfigOption = None,
) -> None:
    from bridge.smile.reader import read_file
    from bridge.smile.schema import SCHEMAS

    settings = _smile_settings(config)
    if file_type not in SCHEMAS or file_type not in settings.files:
        readable = ", ".join(name for name in SCHEMAS if name in settings.files)
        raise CliError(_("--type {type!r} is not a readable SMILE file type; use one of: {readable}").format(
            type=file_type, readable=readable), exit_code=2)
    if not file.is_file():
        raise CliError(_("{file}: no such file").format(file=file), exit_code=2)
    layout = settings.layout(file_type)
    if encoding:
        layout = layout.changed(encoding=encoding)
    size = file.stat().st_size
    if size > settings.max_file_bytes:
        raise CliError(_("{file}: {size} bytes is more than smile.max_file_bytes ({limit}); not read").format(
            file=file, size=f"{size:,}", limit=f"{settings.max_file_bytes:,}"))
    if sys.stdout.isatty():
        with console.status(_("reading {file}").format(file=file.name), spinner="dots") as status:
            result = read_file(file, file_type, settings, layout=layout, progress=lambda rows: status.update(
                _("reading {file}: {rows} rows").format(file=file.name, rows=f"{rows:,}")))
    else:
        result = read_file(file, file_type, settings, layout=layout)
    if not result.ok:
        console.print(result.report(), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    console.print(_("{file}: OK — {layout}, {rows} row(s), {records} record(s) would be read, {skipped} 諸口 row(s) "
                    "skipped.").format(file=file.name, layout=layout.label(), rows=f"{result.rows:,}",
                                       records=f"{len(result.records):,}", skipped=f"{len(result.skipped):,}"),
                  markup=False, highlight=False)
    for note in result.notes:
        console.print(_("note: {note}").format(note=note), markup=False, highlight=False)
    if result.records:
        console.print(_preview(result.records[:_PREVIEW_ROWS]))


def _preview(records: list[Any]) -> Table:
    from dataclasses import fields

    # Product and StockLevel are named tuples, the other records dataclasses
    names = list(getattr(records[0], "_fields", None) or (f.name for f in fields(records[0])))
    table = Table(*names, title=_("first {count} record(s)").format(count=len(records)))
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
