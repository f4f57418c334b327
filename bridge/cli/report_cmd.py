"""``bridge report KIND``: one report over a period, as a table, CSV, Excel, HTML or Parquet.
``bridge report list``: the reports. ``bridge report pack ID``: a pack of rules/reports.yaml, made now."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable

from bridge.cli.common import CliError, ConfigOption, console, run_async, settings_or_exit
from bridge.i18n import _

FORMATS = ("table", "csv", "xlsx", "html", "parquet")


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CliError(_("{option} {value!r}: give a date as YYYY-MM-DD (Japan time)").format(
            option=name, value=value), exit_code=2) from None


def report(
    kind: Annotated[str, typer.Argument(help=_("A report (bridge report list), or list, or pack"))],
    pack_id: Annotated[str | None, typer.Argument(help=_("For pack: the pack id of rules/reports.yaml"))] = None,
    start: Annotated[str | None, typer.Option("--from", help=_("First day, YYYY-MM-DD (JST); default: last month"))] = None,
    end: Annotated[str | None, typer.Option("--to", help=_("Last day, YYYY-MM-DD (JST), inclusive"))] = None,
    by: Annotated[str, typer.Option("--by", help=_("Dimension (sales: product, category, customer, …)"))] = "",
    top: Annotated[int | None, typer.Option("--top", min=1, help=_("Only the N largest"))] = None,
    bottom: Annotated[int | None, typer.Option("--bottom", min=1, help=_("Only the N smallest"))] = None,
    fmt: Annotated[str, typer.Option("--format", help=_("table, csv, xlsx, html or parquet"))] = "table",
    output: Annotated[Path | None, typer.Option("--output", "-o", help=_("File or folder to write"))] = None,
    no_mail: Annotated[bool, typer.Option("--no-mail", help=_("pack: write the files, do not mail"))] = False,
    config: ConfigOption = None,
) -> None:
    from bridge.analytics.reports import REPORTS

    if kind == "list":
        for spec in REPORTS.values():
            by_text = f"  --by {'|'.join(spec.by)}" if spec.by else ""
            console.print(f"{spec.kind:10} {spec.title}{by_text}", markup=False)
        return
    settings = settings_or_exit(config)
    if kind == "pack":
        _pack(settings, pack_id, _day(start, "--from"), _day(end, "--to"), mail=not no_mail)
        return
    if kind not in REPORTS:
        raise CliError(_("unknown report {kind!r}; known: {known}, list, pack").format(
            kind=kind, known=", ".join(REPORTS)), exit_code=2)
    if fmt not in FORMATS:
        raise CliError(_("--format {format!r}: one of {formats}").format(format=fmt, formats=", ".join(FORMATS)),
                       exit_code=2)
    _one(settings, kind, _period(_day(start, "--from"), _day(end, "--to")), by, top, bottom, fmt, output)


report.__doc__ = _("Analytics reports: sales, stock, customers, delivery, campaigns, forecast.")


def _period(start: date | None, end: date | None):  # type: ignore[no-untyped-def]
    from bridge.analytics import periods
    from bridge.domain.time import business_date, utcnow

    if start is None and end is None:
        return periods.last_complete("monthly", business_date(utcnow()))
    try:
        return periods.Period(start or end, end or business_date(utcnow()))  # type: ignore[arg-type]
    except ValueError as error:
        raise CliError(str(error)) from None


def _one(settings, kind, period, by, top, bottom, fmt, output) -> None:  # type: ignore[no-untyped-def]
    from bridge.analytics import export
    from bridge.analytics.render import html, workbook
    from bridge.analytics.render.cells import text
    from bridge.analytics.reports import Params, run
    from bridge.analytics.rules import campaigns_in_force, load_or_default
    from bridge.analytics.store import AnalyticsStore

    rules = load_or_default(settings.rules_dir)
    options = rules.settings.options_for(kind)
    if kind == "campaigns":
        options["rules"] = campaigns_in_force(None, settings.rules_dir)
    analytics = AnalyticsStore(settings.analytics.path, memory_limit=settings.analytics.memory_limit,
                               threads=settings.analytics.threads)
    try:
        with analytics.connect() as con:
            result = run(kind, con, Params(period, by=by, top=top, bottom=bottom, options=options))
            stem = f"{kind}{'-' + by if by else ''}-{period.start}-{period.end}"
            if fmt in ("csv", "parquet"):
                folder = output or Path.cwd() / stem
                for path in export.report_files(con, [result], folder, [fmt]):
                    console.print(str(path), markup=False)
                return
    except ValueError as error:
        raise CliError(str(error)) from None
    if fmt == "html":
        path = output or Path.cwd() / f"{stem}.html"
        path.write_text(html.page(f"{result.title} {period.label()}", [result]), encoding="utf-8")
        console.print(str(path), markup=False)
    elif fmt == "xlsx":
        path = output or Path.cwd() / f"{stem}.xlsx"
        workbook.write(path, result.title, [result])
        console.print(str(path), markup=False)
    else:
        console.print(f"{result.title}  {period.label()}", markup=False)
        console.print(result.summary, markup=False)
        for table in result.tables:
            shown = RichTable(title=table.title, show_lines=False)
            for column in table.columns:
                shown.add_column(column.label, justify="left" if column.kind in ("text", "date") else "right")
            for row in table.rows[:50]:
                shown.add_row(*(text(v, c) for v, c in zip(row, table.columns, strict=True)))
            console.print(shown)
            if len(table.rows) > 50:
                console.print(_("… {count} more row(s): --format csv or xlsx for all").format(
                    count=len(table.rows) - 50), markup=False)


def _pack(settings, pack_id, start, end, *, mail: bool) -> None:  # type: ignore[no-untyped-def]
    from bridge.analytics import packs
    from bridge.analytics.rules import campaigns_in_force, load_or_default
    from bridge.domain.time import business_date, utcnow

    if not pack_id:
        raise CliError(_("bridge report pack ID: give the pack id of rules/reports.yaml"), exit_code=2)
    rules = load_or_default(settings.rules_dir)
    pack = rules.pack(pack_id)
    period = _period(start, end) if (start or end) else packs.period_of(pack, business_date(utcnow()))
    done = run_async(packs.run_pack(settings, rules, pack, period, mail=mail,
                                    campaign_rules=campaigns_in_force(None, settings.rules_dir)))
    console.print(done.summary, markup=False)
    for path in done.files:
        console.print(str(path), markup=False)
    if done.mailed_to:
        console.print(_("mailed to {addresses}").format(addresses=", ".join(done.mailed_to)), markup=False)
    console.print(f"{done.seconds:.1f} s", markup=False)
