"""The rules the orders flow reads: order_flow.yaml and pricing.yaml (slip lines, surcharge), from the daemon's rules
provider (hot-reloaded) or, in a CLI process without one, from the files in ``rules_dir``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridge.errors import ConfigError
from bridge.rules.order_flow import OrderFlowRules
from bridge.rules.pricing import PricingRules
from bridge.sync.orders import export
from bridge.sync.base import JobContext


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
