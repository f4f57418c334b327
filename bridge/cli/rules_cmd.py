"""``bridge rules check [DIR]``: validate the rules files and list every problem as ``file:line: key: message``."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bridge.cli.common import ConfigOption, console, console_err, settings_or_exit
from bridge.domain.time import utcnow

if TYPE_CHECKING:
    from bridge.rules import RuleSet

app = typer.Typer(help="Check the ops-editable rules (rules/*.yaml).", no_args_is_help=True)

DirArgument = Annotated[
    Path | None, typer.Argument(help="Rules directory; default: rules_dir from the settings.", show_default=False)
]


@app.command("check")
def check(directory: DirArgument = None, config: ConfigOption = None) -> None:
    """Validate every rules file; exit 1 listing all problems, else summarise the rules that would be in force."""
    from bridge.rules import check_rules
    from bridge.wiring import rule_files

    if directory is None:
        directory = settings_or_exit(config).rules_dir
    rules, problems = check_rules(directory, rule_files())
    if rules is None:
        for problem in problems:
            console.print(str(problem), markup=False, highlight=False, soft_wrap=True)
        console_err.print(f"{len(problems)} problem(s) in {directory}; nothing was changed (the daemon keeps the "
                          "last good rules)", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    for line in summary(rules, directory):
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def summary(rules: RuleSet, directory: Path) -> list[str]:
    """A few lines on what is in force, per file; ``(defaults)`` marks a file that is absent."""

    def head(name: str) -> str:
        return f"{name}{'' if name in rules.files else ' (defaults)'}:"

    pricing, stock, flow = rules.pricing, rules.stock, rules.order_flow
    letters = ", ".join(f"{state.value} {'/'.join(s.letters)}" for state, s in flow.states.items())
    kinds = sorted({m.kind for m in flow.payment_methods})
    from bridge.rules.campaigns import active_campaigns, explain, state_at

    now = utcnow()
    active = [c.id for c in active_campaigns(rules.campaigns, now)]
    stock_rules = len(stock.safety_stock.by_prefix) + len(stock.safety_stock.by_code)
    lines = [
        f"rules OK: {directory} (digest {rules.digest})",
        f"  {head('pricing.yaml')} 掛率 base {pricing.rate_base.value}; rank groups "
        f"{', '.join(pricing.rank_usergroups.values())}; 直送 +{pricing.direct_ship.surcharge_percent} %; "
        f"scheduled prices {'on' if pricing.scheduled_prices.enabled else 'off'}; quantity tiers "
        f"{'on' if pricing.quantity_tiers.enabled else 'off'}",
        f"  {head('stock.yaml')} warehouses {stock.warehouses.mode}; safety stock {stock.safety_stock.default} "
        f"(+{stock_rules} specific); guard: >{_pct(stock.guard.zero_share)} zeros or "
        f"<{_pct(stock.guard.min_row_ratio)} rows",
        f"  {head('order_flow.yaml')} {letters}; payment classes {', '.join(kinds) or 'none'} "
        f"({len(flow.payment_methods)} rules)",
        f"  {head('campaigns.yaml')} {len(rules.campaigns.campaigns)} campaign(s), active now: "
        f"{', '.join(active) or 'none'}",
        *(f"    {c.id} [{state_at(c, now).label_ja}]: {explain(c)}" for c in rules.campaigns.campaigns),
        f"  {head('products.yaml')} outside validity → {rules.products.status.outside_validity}, not displayed → "
        f"{rules.products.status.not_displayed}",
        f"  {head('customers.yaml')} rank membership {'on' if rules.customers.rank_membership else 'off'}, "
        f"掛率 {'pushed' if rules.customers.push_rate else 'not pushed'}, credit limit "
        f"{'pushed' if rules.customers.push_credit_limit else 'not pushed'}",
    ]
    shipping = rules.shipping
    if shipping is not None:
        carriers = [name for name in ("yamato", "sagawa", "japanpost") if shipping.carriers.get(name) is not None]
        lines.append(f"  shipping.yaml: {len(shipping.methods)} shipping method rule(s); carriers "
                     f"{', '.join(carriers) or 'none'}")
    else:
        lines.append("  shipping.yaml: absent")
    return lines


def _pct(share: Decimal) -> str:
    return f"{(share * 100).normalize():f} %"
