"""``bridge carriers``: label files now (``export``), a result file now (``import``), check a tracking number
(``track``), check a shipping-result file before it goes to the inbox (``check-result``).

``export`` and ``import`` run what the daemon's shipping job does on its schedule and inbox
(bridge/sync/shipping/job.py), in this process, then deliver the CS-Cart writes they enqueued.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, nullcontext
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from bridge.carriers.tracking import DEFAULT_TRACKING_URLS, check_number, tracking_url
from bridge.cli.common import CliError, ConfigOption, console, run_async, settings_or_exit
from bridge.i18n import _, format_local
from bridge.domain.time import Clock
from bridge.errors import ConfigError

app = typer.Typer(help=_("Carriers: label files, shipping-result files, tracking numbers."), no_args_is_help=True)
T = TypeVar("T")

RulesOption = Annotated[
    Path | None,
    typer.Option("--rules", help=_("rules/shipping.yaml for the tracking URL templates (default: built-in URLs).")),
]


def _templates(rules: Path | None) -> dict[str, str]:
    if rules is None:
        return dict(DEFAULT_TRACKING_URLS)
    from bridge.carriers.rules import load_shipping_rules

    try:
        return load_shipping_rules(rules).tracking_urls
    except ConfigError as exc:
        raise CliError(str(exc), exit_code=2) from None


@app.command("track", help=_(
    "Validate a tracking number and print the carrier's tracking URL."))
def track(
    number: Annotated[str, typer.Argument(help=_("Tracking number (伝票番号); hyphens and spaces are ignored."))],
    carrier: Annotated[str | None, typer.Option(
        "--carrier", help=_("yamato, sagawa, japanpost (or one from tracking_urls)."))] = None,
    rules: RulesOption = None,
) -> None:
    templates = _templates(rules)
    if carrier is not None and carrier not in templates:
        raise CliError(_("unknown carrier {carrier!r}; known: {known}").format(
            carrier=carrier, known=", ".join(sorted(templates))), exit_code=2)
    check = check_number(number, carrier)
    if not check.valid:
        raise CliError(check.error)
    console.print(_("number: {number}").format(number=check.display), markup=False)
    for warning in check.warnings:
        console.print(_("warning: {warning}").format(warning=warning), markup=False)
    candidates = (carrier,) if carrier else check.carriers
    if not carrier and len(candidates) > 1:
        console.print(_("carrier: one of {carriers} (a 12-digit number does not say which; use --carrier)").format(
            carriers=", ".join(candidates)), markup=False)
    else:
        console.print(_("carrier: {carrier}").format(carrier=candidates[0]), markup=False)
    for name in candidates:
        console.print(f"{name}: {tracking_url(name, check.number, templates)}", markup=False)


@app.command("check-result", help=_(
    "Parse a result file and print its shipments, or every problem with its line."))
def check_result(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help=_("Generic shipping-result CSV or a carrier's issued-data file."))],
) -> None:
    from bridge.carriers.results import parse_result_file

    result = parse_result_file(file, Clock().now())
    console.print(_("{file}: {kind}, {shipments} shipment(s), {errors} error(s), {warnings} warning(s)").format(
        file=file, kind=result.kind or _("unknown type"), shipments=len(result.shipments),
        errors=len(result.errors), warnings=len(result.warnings)), markup=False)
    for parsed in result.shipments:
        shipment = parsed.shipment
        items = ", ".join(f"{item} x{quantity}" for item, quantity in shipment.items) or _("all items")
        console.print("  " + _("line {line}: order {order} {carrier} {number} {shipped} ({items})").format(
            line=parsed.line, order=shipment.order_id, carrier=shipment.carrier, number=shipment.tracking_number,
            shipped=format_local(shipment.shipped_at), items=items), markup=False)
    for problem in result.problems:
        console.print(f"  {problem}", markup=False)
    if not result.ok:
        raise typer.Exit(1)


@asynccontextmanager
async def _shipping(config: Path | None) -> AsyncIterator[tuple[Any, Any]]:
    """The shipping job's context as the daemon wires it, and a dispatcher to deliver what a command enqueued."""
    from bridge.cli.in_process import in_process
    from bridge.sync.registry import shipping_context

    settings = settings_or_exit(config)
    async with in_process(settings) as run:
        yield shipping_context(run.context), run.dispatcher
        if run.has_sinks:
            stats = await run.dispatcher.drain_all()
            console.print("CS-Cart: " + _("delivered {done}, retry later {retried}, dead {dead}").format(
                done=stats.done, retried=stats.retried, dead=stats.dead), markup=False)
        elif await run.context.store.fetchone(
                "SELECT 1 FROM outbox WHERE state = 'pending' AND target = 'cscart' LIMIT 1"):
            console.print(_("CS-Cart is not configured: the writes wait in the outbox for the daemon"), markup=False)


async def _with_status(message: str, work: Callable[[], Awaitable[T]]) -> T:
    """A spinner on a TTY while the work runs (files are built in one pass, so there is no count to show)."""
    with console.status(message) if sys.stdout.isatty() else nullcontext():
        return await work()


@app.command("export", help=_(
    "Label files now for the orders in 出荷指示 (the daemon does it at each carrier's scheduled times)."))
def export(
    carrier: Annotated[str | None, typer.Option("--carrier", help=_("Only this carrier: yamato, sagawa, japanpost."))]
    = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help=_("Show the files and holds; write nothing."))] = False,
    config: ConfigOption = None,
) -> None:
    from bridge.sync.shipping.labels import export_labels

    if carrier is not None and carrier not in ("yamato", "sagawa", "japanpost"):
        raise CliError(_("unknown carrier {carrier!r}; use yamato, sagawa or japanpost").format(carrier=carrier),
                       exit_code=2)

    async def go() -> Any:
        async with _shipping(config) as (sc, _dispatcher):
            if carrier is not None and (sc.rules.carriers.get(carrier) is None
                                        or not sc.rules.carrier_rules(carrier).enabled):
                raise CliError(_("carrier {carrier} is not enabled in rules/shipping.yaml").format(carrier=carrier),
                               exit_code=2)
            return await _with_status(_("building label files"), lambda: export_labels(
                sc, sc.clock.now(), carriers=None if carrier is None else [carrier], dry_run=dry_run))

    outcome = run_async(go())
    for label_file in outcome.files:
        text = (_("would write {carrier} {file}: {count} order(s) {ids}") if dry_run
                else _("wrote {carrier} {file}: {count} order(s) {ids}"))
        console.print(text.format(carrier=label_file.carrier, file=label_file.file_name,
                                  count=len(label_file.order_ids), ids=", ".join(map(str, label_file.order_ids))),
                      markup=False)
        for line in (*label_file.substitutions, *label_file.warnings):
            console.print(f"  {line}", markup=False)
    for path in outcome.paths:
        console.print(f"  {path}", markup=False)
    for rejection in outcome.held:
        text = _("would hold (保留): {message}") if dry_run else _("held (保留): {message}")
        console.print(text.format(message=rejection.message), markup=False)
    for order_id in outcome.released:
        text = _("would release order {id}: 保留 → 出荷指示") if dry_run else _("released order {id}: 保留 → 出荷指示")
        console.print(text.format(id=order_id), markup=False)
    if not outcome.files and not outcome.held and not outcome.released:
        console.print(_("nothing to export: no order in 出荷指示 without a label file"), markup=False)


@app.command("import", help=_(
    "Apply one result file now: CS-Cart shipments with tracking numbers, orders → 出荷済. All or "
    "nothing."))
def import_(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help=_("Generic shipping-result CSV or a carrier's issued-data file."))],
    dry_run: Annotated[bool, typer.Option("--dry-run", help=_("Check the file against the orders; apply nothing."))]
    = False,
    config: ConfigOption = None,
) -> None:
    from bridge.sync.shipping.results import import_result

    async def go() -> Any:
        async with _shipping(config) as (sc, _dispatcher):
            return await _with_status(_("importing {file}").format(file=file.name), lambda: import_result(
                sc, file.read_bytes(), file.name, sc.clock.now(), dry_run=dry_run))

    outcome = run_async(go())
    for problem in outcome.problems:
        console.print(str(problem), markup=False)
    for note in outcome.notes:
        console.print(_("note: {note}").format(note=note), markup=False)
    if not outcome.ok:
        console.print(_("{file}: refused, nothing applied ({count} error(s))").format(
            file=file.name, count=len(outcome.errors)), markup=False)
        raise typer.Exit(1)
    console.print(_("checked (dry run): {summary}").format(summary=outcome.summary()) if dry_run
                  else outcome.summary(), markup=False)
