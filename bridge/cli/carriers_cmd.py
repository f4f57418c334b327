"""``bridge carriers``: check a tracking number, check a shipping-result file before it goes to the inbox."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bridge.carriers.results import parse_result_file
from bridge.carriers.rules import load_shipping_rules
from bridge.carriers.tracking import DEFAULT_TRACKING_URLS, check_number, tracking_url
from bridge.cli.common import CliError, console
from bridge.domain.time import JST, Clock
from bridge.errors import ConfigError

app = typer.Typer(help="Carriers: tracking numbers and shipping-result files.", no_args_is_help=True)

RulesOption = Annotated[
    Path | None,
    typer.Option("--rules", help="rules/shipping.yaml for the tracking URL templates (default: built-in URLs)."),
]


def _templates(rules: Path | None) -> dict[str, str]:
    if rules is None:
        return dict(DEFAULT_TRACKING_URLS)
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
