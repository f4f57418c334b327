"""The rules the orders flow reads: order_flow.yaml and pricing.yaml (slip lines, surcharge), from the daemon's rules
provider (hot-reloaded) or, in a CLI process without one, from the files in ``rules_dir``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from bridge.domain.orders import WorkflowState
from bridge.errors import BridgeError, ConfigError
from bridge.rules.order_flow import OrderFlowRules
from bridge.rules.pricing import PricingRules
from bridge.sync import orders_export as export
from bridge.sync.base import JobContext

log = structlog.get_logger("bridge.sync.orders")

# The workflow states whose CS-Cart statuses the smile_bridge add-on creates (its keys are the states' values).
ADDON_STATES = (WorkflowState.HOLD, WorkflowState.SHIPPING_INSTRUCTED, WorkflowState.SHIPPED, WorkflowState.NOTIFIED)


@dataclass(frozen=True, slots=True)
class OrderRules:
    flow: OrderFlowRules
    pricing: PricingRules

    def export_rules(self) -> export.ExportRules:
        fee, surcharge = self.pricing.shipping_fee, self.pricing.direct_ship.slip_line
        return export.ExportRules(
            shipping_item_code=fee.item_code, shipping_item_name=fee.item_name,
            shipping_tax_class=fee.tax_class or "0", surcharge_item_code=surcharge.item_code,
            surcharge_item_name=surcharge.item_name, surcharge_tax_class=surcharge.tax_class or "1",
            tax_rate=self.pricing.tax.default_rate_percent, shipping_tax_rate=fee.tax_rate_percent,
            surcharge_tax_rate=surcharge.tax_rate_percent,
        )


async def current_order_rules(ctx: JobContext) -> OrderRules:
    """``order_rules`` with, when the smile_bridge add-on is installed, its current status letters (from the events
    feed's ``params.statuses``) in place of the yaml's for 保留, 出荷指示, 出荷済 and 出荷通知済."""
    rules = order_rules(ctx)
    client = ctx.services.get("cscart")
    if client is None or not hasattr(client, "addon_status_letters"):
        return rules
    try:
        found = await client.addon_status_letters()
    except BridgeError as exc:
        log.warning("orders.addon_letters_unread", error=str(exc))
        return rules
    letters = {WorkflowState(key): letter for key, letter in found.items()
               if key in {state.value for state in ADDON_STATES}}
    flow = rules.flow.with_letters(letters)
    if flow is rules.flow:
        return rules
    changed = {state.value: f"{rules.flow.letter_for(state)}→{letter}" for state, letter in letters.items()
               if rules.flow.letter_for(state) != letter}
    if changed:
        log.info("orders.addon_letters", changed=changed,
                 hint="the add-on's letters win over order_flow.yaml; update the yaml to silence this")
    return OrderRules(flow=flow, pricing=rules.pricing)


def order_rules(ctx: JobContext) -> OrderRules:
    """The rules provider's current order_flow and pricing rules, or the files in ``rules_dir``."""
    return order_rules_from(ctx.services, Path(ctx.settings.rules_dir))


def order_rules_from(services: dict[str, Any], rules_dir: Path) -> OrderRules:
    provider = services.get("rules")
    flow = getattr(provider, "order_flow", None) if provider is not None else None
    pricing = getattr(provider, "pricing", None) if provider is not None else None
    if callable(flow):
        flow = flow()
    if callable(pricing):
        pricing = pricing()
    return OrderRules(
        flow=flow if isinstance(flow, OrderFlowRules) else _load_yaml(rules_dir / "order_flow.yaml", OrderFlowRules),
        pricing=pricing if isinstance(pricing, PricingRules) else _load_yaml(rules_dir / "pricing.yaml",
                                                                               PricingRules),
    )


def _load_yaml(path: Path, model: Any) -> Any:
    from pydantic import ValidationError
    from ruamel.yaml import YAML

    if not path.is_file():
        return model()
    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{path}: {problems}") from None
    except Exception as exc:  # noqa: BLE001 - YAML syntax errors name line and column in their text
        raise ConfigError(f"{path}: {exc}") from None
