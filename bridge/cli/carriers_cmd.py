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
from bridge.domain.time import JST, Clock
from bridge.errors import ConfigError

app = typer.Typer(help="Carriers: label files, shipping-result files, tracking numbers.", no_args_is_help=True)
T = TypeVar("T")

RulesOption = Annotated[
    Path | None,
    typer.Option("--rules", help="rules/shipping.yaml for the tracking URL templates (default: built-in URLs)."),
]


def _templates(rules: Path | None) -> dict[str, str]:
    if rules is None:
        return dict(DEFAULT_TRACKING_URLS)
    from bridge.carriers.rules import load_shipping_rules

    try:
        return load_shipping_rules(rules).tracking_urls
    except ConfigError as exc:
        raise CliError(str(exc), exit_code=2) from None


@app.command("track")
def track(
    number: Annotated[str, typer.Argument(help="Tracking number (伝票番号); hyphens and spaces are ignored.")],
    carrier: Annotated[str | None, typer.Option(
        "--carrier", help="yamato, sagawa, japanpost (or one from tracking_urls).")] = None,
    rules: RulesOption = None,
) -> None:
    """Validate a tracking number and print the carrier's tracking URL."""
    templates = _templates(rules)
    if carrier is not None and carrier not in templates:
        raise CliError(f"unknown carrier {carrier!r}; known: {', '.join(sorted(templates))}", exit_code=2)
    check = check_number(number, carrier)
    if not check.valid:
        raise CliError(check.error)
    console.print(f"number: {check.display}", markup=False)
    for warning in check.warnings:
        console.print(f"warning: {warning}", markup=False)
    candidates = (carrier,) if carrier else check.carriers
    if not carrier and len(candidates) > 1:
        console.print(f"carrier: one of {', '.join(candidates)} (a 12-digit number does not say which; "
                      "use --carrier)", markup=False)
    else:
        console.print(f"carrier: {candidates[0]}", markup=False)
    for name in candidates:
        console.print(f"{name}: {tracking_url(name, check.number, templates)}", markup=False)


@app.command("check-result")
def check_result(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="Generic shipping-result CSV or a carrier's issued-data file.")],
) -> None:
    """Parse a result file and print its shipments, or every problem with its line."""
    from bridge.carriers.results import parse_result_file

    result = parse_result_file(file, Clock().now())
    console.print(f"{file}: {result.kind or 'unknown type'}, {len(result.shipments)} shipment(s), "
                  f"{len(result.errors)} error(s), {len(result.warnings)} warning(s)", markup=False)
    for parsed in result.shipments:
        shipment = parsed.shipment
        items = ", ".join(f"{item} x{quantity}" for item, quantity in shipment.items) or "all items"
        console.print(f"  line {parsed.line}: order {shipment.order_id} {shipment.carrier} "
                      f"{shipment.tracking_number} {shipment.shipped_at.astimezone(JST):%Y-%m-%d %H:%M} ({items})",
                      markup=False)
    for problem in result.problems:
        console.print(f"  {problem}", markup=False)
    if not result.ok:
        raise typer.Exit(1)


@asynccontextmanager
async def _shipping(config: Path | None) -> AsyncIterator[tuple[Any, Any]]:
    """The shipping job's context as the daemon wires it, and a dispatcher to deliver what a command enqueued."""
    from bridge.cli.in_process import in_process
    from bridge.sync.shipping.flow import context

    settings = settings_or_exit(config)
    async with in_process(settings) as run:
        yield context(run.context), run.dispatcher
        if run.has_sinks:
            stats = await run.dispatcher.drain_all()
            console.print(f"CS-Cart: delivered {stats.done}, retry later {stats.retried}, dead {stats.dead}",
                          markup=False)
        elif await run.context.store.fetchone(
                "SELECT 1 FROM outbox WHERE state = 'pending' AND target = 'cscart' LIMIT 1"):
            console.print("CS-Cart is not configured: the writes wait in the outbox for the daemon", markup=False)


async def _with_status(message: str, work: Callable[[], Awaitable[T]]) -> T:
    """A spinner on a TTY while the work runs (files are built in one pass, so there is no count to show)."""
    with console.status(message) if sys.stdout.isatty() else nullcontext():
        return await work()


@app.command("export")
def export(
    carrier: Annotated[str | None, typer.Option("--carrier", help="Only this carrier: yamato, sagawa, japanpost.")]
    = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the files and holds; write nothing.")] = False,
    config: ConfigOption = None,
) -> None:
    """Label files now for the orders in 出荷指示 (the daemon does it at each carrier's scheduled times)."""
    from bridge.sync.shipping.labels import export_labels

    if carrier is not None and carrier not in ("yamato", "sagawa", "japanpost"):
        raise CliError(f"unknown carrier {carrier!r}; use yamato, sagawa or japanpost", exit_code=2)

    async def go() -> Any:
        async with _shipping(config) as (sc, _):
            if carrier is not None and (sc.rules.carriers.get(carrier) is None
                                        or not sc.rules.carrier_rules(carrier).enabled):
                raise CliError(f"carrier {carrier} is not enabled in rules/shipping.yaml", exit_code=2)
            return await _with_status("building label files", lambda: export_labels(
                sc, sc.ctx.clock.now(), carriers=None if carrier is None else [carrier], dry_run=dry_run))

    outcome = run_async(go())
    for label_file in outcome.files:
        verb = "would write" if dry_run else "wrote"
        console.print(f"{verb} {label_file.carrier} {label_file.file_name}: {len(label_file.order_ids)} order(s) "
                      f"{', '.join(map(str, label_file.order_ids))}", markup=False)
        for line in (*label_file.substitutions, *label_file.warnings):
            console.print(f"  {line}", markup=False)
    for path in outcome.paths:
        console.print(f"  {path}", markup=False)
    for rejection in outcome.held:
        console.print(f"{'would hold' if dry_run else 'held'} (保留): {rejection.message}", markup=False)
    for order_id in outcome.released:
        console.print(f"{'would release' if dry_run else 'released'} order {order_id}: 保留 → 出荷指示", markup=False)
    if not outcome.files and not outcome.held and not outcome.released:
        console.print("nothing to export: no order in 出荷指示 without a label file", markup=False)


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="Generic shipping-result CSV or a carrier's issued-data file.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check the file against the orders; apply nothing.")]
    = False,
    config: ConfigOption = None,
) -> None:
    """Apply one result file now: CS-Cart shipments with tracking numbers, orders → 出荷済. All or nothing."""
    from bridge.sync.shipping.results import import_result

    async def go() -> Any:
        async with _shipping(config) as (sc, _):
            return await _with_status(f"importing {file.name}", lambda: import_result(
                sc, file.read_bytes(), file.name, sc.ctx.clock.now(), dry_run=dry_run))

    outcome = run_async(go())
    for problem in outcome.problems:
        console.print(str(problem), markup=False)
    for note in outcome.notes:
        console.print(f"note: {note}", markup=False)
    if not outcome.ok:
        console.print(f"{file.name}: refused, nothing applied ({len(outcome.errors)} error(s))", markup=False)
        raise typer.Exit(1)
    console.print(("checked (dry run): " if dry_run else "") + outcome.summary(), markup=False)
