"""``bridge rules check [DIR]``: validate the rules files and list every problem as ``file:line: key: message``."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bridge.cli.common import EXIT_BAD_INPUT, ConfigOption, console, console_err, settings_or_exit
from bridge.domain.time import utcnow
from bridge.i18n import _

if TYPE_CHECKING:
    from bridge.rules import RuleSet

app = typer.Typer(help=_("Check the ops-editable rules (rules/*.yaml)."), no_args_is_help=True)

DirArgument = Annotated[
    Path | None, typer.Argument(help=_("Rules directory; default: rules_dir from the settings."), show_default=False)
]


@app.command("check", help=_(
    "Validate every rules file; exit 2 listing all problems, else summarise the rules that would be in force."))
def check(directory: DirArgument = None, config: ConfigOption = None) -> None:
    """Validate every rules file; exit 2 listing all problems, else summarise the rules that would be in force."""
    from bridge.rules import check_rules
    from bridge.wiring import rule_files

    if directory is None:
        directory = settings_or_exit(config).rules_dir
    rules, problems = check_rules(directory, rule_files())
    if rules is None:
        for problem in problems:
            console.print(str(problem), markup=False, highlight=False, soft_wrap=True)
        console_err.print(_("{count} problem(s) in {directory}; nothing was changed (the daemon keeps the last good "
                            "rules)").format(count=len(problems), directory=directory),
                          markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    for line in summary(rules, directory):
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def summary(rules: RuleSet, directory: Path) -> list[str]:
    """A few lines on what is in force, per file; a file that is absent says its defaults are used."""

    def head(name: str) -> str:
        if name in rules.files:
            return f"{name}:"
        return _("{name} (file not found: defaults used):").format(name=name)

    def on(flag: bool) -> str:
        return _("on") if flag else _("off")

    pricing, stock, flow = rules.pricing, rules.stock, rules.order_flow
    letters = ", ".join(f"{state.value} {'/'.join(s.letters)}" for state, s in flow.states.items())
    kinds = sorted({m.kind for m in flow.payment_methods})
    from bridge.rules.campaigns import active_campaigns, explain, state_at

    now = utcnow()
    active = [c.id for c in active_campaigns(rules.campaigns, now)]
    stock_rules = len(stock.safety_stock.by_prefix) + len(stock.safety_stock.by_code)
    none = _("none")
    lines = [
        _("rules OK: {directory} (digest {digest})").format(directory=directory, digest=rules.digest),
        "  " + head("pricing.yaml") + " " + _(
            "掛率 base {base}; rank groups {groups}; 直送 +{surcharge} %; scheduled prices {scheduled}; "
            "quantity tiers {tiers}").format(
            base=pricing.rate_base.value, groups=", ".join(pricing.rank_usergroups.values()),
            surcharge=pricing.direct_ship.surcharge_percent, scheduled=on(pricing.scheduled_prices.enabled),
            tiers=on(pricing.quantity_tiers.enabled)),
        "  " + head("stock.yaml") + " " + _(
            "warehouses {mode}; safety stock {default} (+{specific} specific); guard: >{zeros} zeros or "
            "<{rows} rows").format(
            mode=stock.warehouses.mode, default=stock.safety_stock.default, specific=stock_rules,
            zeros=_pct(stock.guard.zero_share), rows=_pct(stock.guard.min_row_ratio)),
        "  " + head("order_flow.yaml") + " " + _("{letters}; payment classes {kinds} ({count} rules)").format(
            letters=letters, kinds=", ".join(kinds) or none, count=len(flow.payment_methods)),
        "  " + head("campaigns.yaml") + " " + _("{count} campaign(s), active now: {active}").format(
            count=len(rules.campaigns.campaigns), active=", ".join(active) or none),
        *(f"    {c.id} [{state_at(c, now).label_ja}]: {explain(c)}" for c in rules.campaigns.campaigns),
        "  " + head("products.yaml") + " " + _(
            "outside validity → {outside}, not displayed → {hidden}").format(
            outside=rules.products.status.outside_validity, hidden=rules.products.status.not_displayed),
        "  " + head("customers.yaml") + " " + _(
            "rank membership {membership}, 掛率 pushed: {rate}, credit limit pushed: {credit}").format(
            membership=on(rules.customers.rank_membership), rate=on(rules.customers.push_rate),
            credit=on(rules.customers.push_credit_limit)),
    ]
    shipping = rules.shipping
    if shipping is not None:
        carriers = [name for name in ("yamato", "sagawa", "japanpost") if shipping.carriers.get(name) is not None]
        lines.append("  shipping.yaml: " + _("{count} shipping method rule(s); carriers {carriers}").format(
            count=len(shipping.methods), carriers=", ".join(carriers) or none))
    else:
        lines.append("  " + _("shipping.yaml: file not found (label files and shipping mails are off)"))
    return lines


def _pct(share: Decimal) -> str:
    return f"{(share * 100).normalize():f} %"
