"""The rules the orders flow reads: order_flow.yaml and pricing.yaml (slip lines, surcharge), from the rules in
force (the daemon's provider reloads them; a CLI process loads them once from ``rules_dir``)."""

from __future__ import annotations

from dataclasses import dataclass

from bridge.rules.order_flow import OrderFlowRules
from bridge.rules.pricing import PricingRules
from bridge.sync.base import JobContext
from bridge.sync.orders import export


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


def order_rules(ctx: JobContext) -> OrderRules:
    """The order_flow and pricing rules in force (one consistent rule set)."""
    current = ctx.services.rules.current
    return OrderRules(flow=current.order_flow, pricing=current.pricing)
