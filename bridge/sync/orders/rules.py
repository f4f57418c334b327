"""The rules the orders flow reads: order_flow.yaml and pricing.yaml (slip lines, surcharge), from the rules in
force (the daemon's provider reloads them; a CLI process loads them once from ``rules_dir``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

from bridge.domain.orders import WorkflowState
from bridge.errors import BridgeError
from bridge.rules.campaigns import SlipRules
from bridge.rules.order_flow import OrderFlowRules
from bridge.rules.pricing import PricingRules
from bridge.sync.orders import export

if TYPE_CHECKING:
    from bridge.cscart.client import CSCartClient
    from bridge.rules.loader import RuleSet

log = structlog.get_logger("bridge.sync.orders")

# The workflow states whose CS-Cart statuses the smile_bridge add-on creates (its keys are the states' values).
ADDON_STATES = (WorkflowState.HOLD, WorkflowState.SHIPPING_INSTRUCTED, WorkflowState.SHIPPED, WorkflowState.NOTIFIED)


@dataclass(frozen=True, slots=True)
class OrderRules:
    flow: OrderFlowRules
    pricing: PricingRules
    slip: SlipRules = SlipRules()  # campaigns.yaml slip: (the 値引 line)

    def export_rules(self) -> export.ExportRules:
        fee, surcharge = self.pricing.shipping_fee, self.pricing.direct_ship.slip_line
        payment = self.pricing.payment_fee
        return export.ExportRules(
            payment_fee_item_code=payment.item_code, payment_fee_item_name=payment.item_name,
            payment_fee_tax_class=payment.tax_class or "1", payment_fee_tax_rate=payment.tax_rate_percent,
            shipping_item_code=fee.item_code, shipping_item_name=fee.item_name,
            shipping_tax_class=fee.tax_class or "0", surcharge_item_code=surcharge.item_code,
            surcharge_item_name=surcharge.item_name, surcharge_tax_class=surcharge.tax_class or "1",
            tax_rate=self.pricing.tax.default_rate_percent, shipping_tax_rate=fee.tax_rate_percent,
            surcharge_tax_rate=surcharge.tax_rate_percent, discount_item_code=self.slip.discount_item_code,
            discount_item_name=self.slip.discount_item_name, discount_tax_class=self.slip.discount_tax_class,
            discount_sign=self.slip.discount_sign, discount_columns=dict(self.slip.discount_columns),
            bonus_line=self.slip.bonus_line,
        )


def order_rules(current: RuleSet) -> OrderRules:
    """The order_flow, pricing and campaigns (slip) rules of one consistent rule set (the one in force)."""
    return OrderRules(flow=current.order_flow, pricing=current.pricing, slip=current.campaigns.slip)


async def current_order_rules(rules: OrderRules, client: CSCartClient | None) -> OrderRules:
    """``rules`` with, when the smile_bridge add-on is installed, its current status letters (from the events
    feed's ``params.statuses``) in place of the yaml's for 保留, 出荷指示, 出荷済 and 出荷通知済."""
    if client is None:
        return rules
    try:
        found = await client.addon_status_letters()
    except BridgeError as exc:
        log.warning("orders.addon_letters_unread", error=str(exc))
        return rules
    keys = {state.value for state in ADDON_STATES}
    letters = {WorkflowState(key): letter for key, letter in found.items() if key in keys}
    flow = rules.flow.with_letters(letters)
    if flow is rules.flow:
        return rules
    changed = {state.value: f"{rules.flow.letter_for(state)}→{letter}" for state, letter in letters.items()
               if rules.flow.letter_for(state) != letter}
    log.info("orders.addon_letters", changed=changed,
             hint="the add-on's letters win over order_flow.yaml; update the yaml to silence this")
    return OrderRules(flow=flow, pricing=rules.pricing, slip=rules.slip)
