"""What a job may use besides the settings and the store, typed: built once by the wiring (``bridge/wiring.py``),
the way Home Assistant keeps an integration's runtime data in one dataclass instead of a dict of strings.

Edges are optional (a store without CS-Cart configured has no client): a job that needs a missing one asks with
``require_cscart()`` and gets a ``ConfigError`` that names the setting. The rules are always there; each rules file
has a typed accessor that returns the part of the rules in force *now* (one job run reads it once at its start).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from bridge.errors import ConfigError
from bridge.events import EventPublisher, NullPublisher
from bridge.i18n import _

if TYPE_CHECKING:
    from bridge.carriers.rules import ShippingRules
    from bridge.cscart.client import CSCartClient
    from bridge.events import MqttEvents
    from bridge.rules.campaigns import CampaignRules
    from bridge.rules.customers import CustomerRules
    from bridge.rules.loader import RuleSet
    from bridge.rules.order_flow import OrderFlowRules
    from bridge.rules.pricing import PricingRules
    from bridge.rules.products import ProductRules
    from bridge.rules.returns import ReturnRules
    from bridge.rules.stock import StockRules
    from bridge.scheduler import Scheduler
    from bridge.sync.orders.hook import OrdersWakeup


class RulesSource(Protocol):
    """The rules in force: the daemon's hot-reloading ``RulesProvider``, or ``FixedRules`` for one CLI run."""

    @property
    def current(self) -> RuleSet: ...


@dataclass(frozen=True, slots=True)
class FixedRules:
    """A rule set that never changes (a test, a one-off command)."""

    current: RuleSet


@dataclass(slots=True)
class Services:
    rules: RulesSource
    events: EventPublisher = field(default_factory=NullPublisher)
    cscart: CSCartClient | None = None  # cscart.url set
    orders_wakeup: OrdersWakeup | None = None  # POST /hooks/cscart (the add-on's push), cscart.url set
    sync_commands: MqttEvents | None = None  # MQTT "sync now" commands, mqtt.host set
    scheduler: Scheduler | None = None  # only inside the daemon: lets a push run a job at once

    def require_cscart(self) -> CSCartClient:
        if self.cscart is None:
            raise ConfigError(_("this job needs CS-Cart, which is not configured: set cscart.url (and the API key)"))
        return self.cscart

    # The rules in force now, one accessor per rules file.
    @property
    def pricing(self) -> PricingRules:
        return self.rules.current.pricing

    @property
    def stock(self) -> StockRules:
        return self.rules.current.stock

    @property
    def order_flow(self) -> OrderFlowRules:
        return self.rules.current.order_flow

    @property
    def campaigns(self) -> CampaignRules:
        return self.rules.current.campaigns

    @property
    def products(self) -> ProductRules:
        return self.rules.current.products

    @property
    def customers(self) -> CustomerRules:
        return self.rules.current.customers

    @property
    def returns(self) -> ReturnRules:
        return self.rules.current.returns

    @property
    def shipping(self) -> ShippingRules | None:
        """rules/shipping.yaml, or None when the folder has none (the shipping job then refuses to run)."""
        from bridge.carriers.rules import ShippingRules

        found = self.rules.current.shipping
        return found if isinstance(found, ShippingRules) else None
