"""``bridge campaigns``: where each campaign stands (list), what the next run would write (plan), and its effect
(report), from rules/campaigns.yaml, the add-on's promotions and the orders mirror."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from bridge.cli.common import CliError, ConfigOption, console, run_async, settings_or_exit
from bridge.domain.time import utcnow
from bridge.i18n import _, format_local

if TYPE_CHECKING:
    from bridge.config import Settings


def configure(level: str, fmt: str) -> None:
    from bridge.logging import configure as configure_logging

    configure_logging(level, fmt)

app = typer.Typer(help=_("Campaigns (rules/campaigns.yaml): state, next write, effect report."), no_args_is_help=True)

FORMATS = ("table", "csv", "json")


def _rules(settings: Settings) -> Any:
    from bridge.rules.loader import RulesInvalid, load_rules
    from bridge.wiring import rule_files

    try:
        return load_rules(settings.rules_dir, rule_files()).campaigns
    except RulesInvalid as exc:
        raise CliError(_("rules in {folder} are invalid; run `bridge rules check`:\n{problems}").format(
            folder=settings.rules_dir, problems=exc), exit_code=2) from None


def _when(moment: datetime) -> str:
    return format_local(moment)


async def _listing(settings: Settings) -> tuple[Any, str]:
    if not settings.cscart.url:
        return None, _("cscart.url is not set: CS-Cart's promotions not read")
    from bridge.cli.in_process import in_process
    from bridge.sync.campaigns.job import managed

    async with in_process(settings) as run:
        try:
            listing = await managed(run.context.services.require_cscart())
        except Exception as exc:  # noqa: BLE001 - shown to the operator, the file's view still prints
            return None, _("CS-Cart's promotions could not be read: {problem}").format(problem=exc)
    if listing is None:
        return None, _("the smile_bridge add-on does not answer: no promotions in CS-Cart")
    return listing, ""


@app.command("list", help=_(
    "Each campaign now: planned / running / ended / disabled (times in the shop zone), and its CS-Cart "
    "promotion."))
def list_(config: ConfigOption = None) -> None:
    from bridge.rules.campaigns import state_at

    settings = settings_or_exit(config)
    configure(settings.log.level, settings.log.format)
    rules = _rules(settings)
    listing, problem = run_async(_listing(settings))
    now = utcnow()
    table = Table(_("id"), _("name"), _("state"), _("period"), _("promotion"), "CS-Cart", _("usages"))
    shown = set()
    for campaign in rules.campaigns:
        remote = listing.promotions.get(campaign.id) if listing else None
        state = state_at(campaign, now)
        table.add_row(campaign.id, campaign.name, f"{state.value} {state.label_ja}",
                      f"{_when(campaign.period.start)} – {_when(campaign.period.end)}",
                      str(remote.promotion_id) if remote else "-",
                      (remote.status + (_(" edited by hand") if remote.edited else "")) if remote else "-",
                      str(remote.number_of_usages) if remote else "-")
        shown.add(campaign.id)
    for campaign_id, remote in sorted((listing.promotions if listing else {}).items()):
        if campaign_id not in shown:
            table.add_row(campaign_id, _("(not in campaigns.yaml)"), "disabled 無効", "-", str(remote.promotion_id),
                          remote.status, str(remote.number_of_usages))
    console.print(table)
    if problem:
        console.print(_("note: {note}").format(note=problem), markup=False)


@app.command(help=_(
    "What the next campaigns run would write to CS-Cart (a dry run: nothing is written)."))
def plan(config: ConfigOption = None) -> None:
    from bridge.cli.sync_cmd import _run

    settings = settings_or_exit(config)
    configure(settings.log.level, settings.log.format)
    if not settings.cscart.url:
        raise CliError(_("cscart.url is not set: the plan compares with CS-Cart's promotions"), exit_code=2)
    result = run_async(_run(settings, "campaigns", True, False))
    console.print(f"campaigns: {result.summary()}", markup=False)
    console.print(_("plan:") if result.plan else _("plan: nothing to change"), markup=False)
    for line in result.plan:
        console.print(f"  {line}", markup=False, soft_wrap=True)
    for note in result.notes:
        console.print(_("note: {note}").format(note=note), markup=False, soft_wrap=True)


async def _effects(settings: Settings, campaign_id: str | None) -> tuple[list[Any], str]:
    from bridge.store import Store, usergroups
    from bridge.sync.campaigns.report import effect, facts_of, latest_costs, load_orders

    rules = _rules(settings)
    chosen = [c for c in rules.campaigns if campaign_id in (None, c.id)]
    if campaign_id is not None and not chosen:
        known = ", ".join(c.id for c in rules.campaigns) or _("none")
        raise CliError(_("no campaign {id!r} in {file} (known: {known})").format(
            id=campaign_id, file=settings.rules_dir / "campaigns.yaml", known=known), exit_code=2)
    costs, source = latest_costs(settings)
    store = await Store.open(settings.state_path)
    try:
        async with store.transaction() as tx:
            orders = await load_orders(tx)
            members = await usergroups.memberships(tx)
            read = await usergroups.groups_read(tx)
    finally:
        await store.close()
    facts = [facts_of(order, costs) for order in orders]
    now = utcnow()
    return [effect(c, rules, facts, costs, now, members, read) for c in chosen], source


def _yen(value: Decimal | None) -> str:
    return "-" if value is None else f"¥{value:,.0f}"


def _pct(value: Decimal | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


@app.command(help=_(
    "Effect: orders, customers, usage rate, revenue, discount cost, average order value against "
    "before and against non-participants, incremental gross margin and ROI (orders mirror + SMILE "
    "原価)."))
def report(
    campaign_id: Annotated[str | None, typer.Argument(help=_("One campaign id; all campaigns when omitted"))] = None,
    format: Annotated[str, typer.Option("--format", help=_("table | csv | json"))] = "table",
    config: ConfigOption = None,
) -> None:
    if format not in FORMATS:
        raise CliError(_("--format must be one of {formats}, not {format!r}").format(
            formats=", ".join(FORMATS), format=format), exit_code=2)
    settings = settings_or_exit(config)
    configure(settings.log.level, settings.log.format)
    effects, source = run_async(_effects(settings, campaign_id))
    rows = [e.as_json() for e in effects]
    if format == "json":
        console.print_json(json.dumps({"campaigns": rows, "costs": source}, ensure_ascii=False))
        return
    if format == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["campaign_id"], lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ";".join(v) if isinstance(v, list) else v for k, v in row.items()})
        typer.echo(out.getvalue(), nl=False)
        return
    table = Table(_("campaign"), _("orders"), _("customers"), _("usage"), _("revenue"), _("cost"), _("AOV"),
                  _("AOV before"), _("AOV others"), _("incr. margin"), "ROI")
    for e in effects:
        table.add_row(e.campaign_id, str(e.orders), str(e.customers), _pct(e.usage_rate), _yen(e.revenue),
                      _yen(e.cost), _yen(e.aov), _yen(e.aov_before), _yen(e.aov_non_participants),
                      _yen(e.incremental_gross_margin), "-" if e.roi is None else f"{e.roi:.2f}")
    console.print(table)
    console.print(_("note: {note}").format(note=source), markup=False, soft_wrap=True)
    for e in effects:
        if e.uncosted:
            console.print(_("note: {id}: no cost price for {items} (counted at ¥0)").format(
                id=e.campaign_id, items=", ".join(e.uncosted[:10]) + (" …" if len(e.uncosted) > 10 else "")),
                markup=False)
        if e.unread_groups:
            console.print(_("note: {id}: usergroup membership of {groups} not read yet (the campaigns job reads it): "
                            "eligible orders are not filtered by it").format(
                id=e.campaign_id, groups=", ".join(e.unread_groups)), markup=False, soft_wrap=True)
