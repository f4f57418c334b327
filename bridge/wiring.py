"""The composition root: builds sinks, services and extra HTTP routes from the settings.

Edges plug in here and nowhere else, so the daemon and the CLI share one wiring.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bridge.config import Settings
from bridge.dispatch import Sink
from bridge.store import Store
from bridge.sync.services import Services

if TYPE_CHECKING:
    from bridge.http import Handler  # aiohttp's server side: the daemon loads it, a CLI command has no routes
    from bridge.rules.provider import RulesProvider


@dataclass
class Wiring:
    services: Services
    sinks: dict[str, Sink] = field(default_factory=dict)
    routes: list[tuple[str, str, Handler]] = field(default_factory=list)
    reload_hooks: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    background: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)  # each becomes a task
    # checks the daemon awaits before it starts anything; one that raises ConfigError stops the start
    startup: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    exit_stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)

    async def aclose(self) -> None:
        await self.exit_stack.aclose()


async def build(settings: Settings, store: Store) -> Wiring:
    """Everything the configured edges provide. Each edge adds itself when its settings are present."""
    rules = _open_rules(settings)
    wiring = Wiring(Services(rules=rules))
    wiring.reload_hooks.append(rules.reload_hook)
    wiring.background.append(rules.watch)
    _add_mqtt(settings, wiring)
    await _add_cscart(settings, wiring, store)
    _add_orders_hook(settings, wiring)
    return wiring


def _add_orders_hook(settings: Settings, wiring: Wiring) -> None:
    """``POST /hooks/cscart`` (the add-on's signed wake-up); the orders job binds it to its scheduler trigger."""
    if not settings.cscart.url:
        return
    from bridge.sync.orders.hook import OrdersWakeup

    secret = settings.cscart.hmac_secret.get_secret_value() if settings.cscart.hmac_secret else None
    hook = OrdersWakeup(secret)
    wiring.services.orders_wakeup = hook
    wiring.routes.append(("POST", hook.path, hook.handle))
    if settings.jobs.orders.enabled:
        from bridge.sync.orders.job import startup_check

        wiring.startup.append(lambda: startup_check(wiring.services.cscart, wiring.services.order_flow))


async def _add_cscart(settings: Settings, wiring: Wiring, store: Store) -> None:
    """The CS-Cart REST client (``services.cscart``) and its sink (target ``cscart``), when cscart.url is set:
    the add-on's batch sink when the smile_bridge add-on answers, plain REST otherwise."""
    if not settings.cscart.url:
        return
    from bridge.cscart.client import CSCartClient
    from bridge.cscart.sink import CSCartSink

    client = CSCartClient(settings.cscart)
    wiring.exit_stack.push_async_callback(client.close)
    wiring.services.cscart = client
    from bridge.sync.catalog.created import recorder

    # create ops bind the new id through the store before they count as done
    sink = CSCartSink(client, on_created=recorder(store))
    if await _addon_answers(client):
        from bridge.cscart.batch_sink import AddonBatchSink

        sink = AddonBatchSink(client, on_created=recorder(store))
    wiring.sinks[CSCartSink.target] = sink
    from bridge.cscart.promotions import PromotionSink

    wiring.sinks[PromotionSink.target] = PromotionSink(client)  # campaigns → the add-on's promotions entity


async def _addon_answers(client: Any) -> bool:
    """Detect the smile_bridge add-on at start-up (a few seconds at most). A store that cannot be asked gets the
    batch sink, which asks again on every round and uses plain REST while the add-on does not answer."""
    import asyncio

    from bridge.errors import AuthError, BridgeError

    try:
        return bool(await asyncio.wait_for(client.addon_installed(), timeout=5.0))
    except AuthError:
        return False  # nothing works until the credentials are fixed; the REST sink reports that clearly
    except (BridgeError, TimeoutError):
        return True


def rule_files() -> tuple[Any, ...]:
    """Rules files an edge validates itself (the rules engine imports only the domain, so they are passed in)."""
    from bridge.analytics.rules import load_report_rules
    from bridge.carriers.rules import load_shipping_rules
    from bridge.rules import RuleFile

    return (RuleFile("shipping.yaml", load_shipping_rules), RuleFile("reports.yaml", load_report_rules))


def _open_rules(settings: Settings) -> RulesProvider:
    """``services.rules``: the rules in force, reloaded on SIGHUP and on file change. Invalid rules at start-up
    raise ``RulesInvalid`` listing every problem: there is no last good set to run with yet."""
    from bridge.rules.provider import RulesProvider

    return RulesProvider.open(settings.rules_dir, rule_files())


def offline_services(settings: Settings) -> Services:
    """Services for a command that reads the rules but talks to no edge (``bridge orders resend``, benchmarks)."""
    return Services(rules=_open_rules(settings))


def _add_mqtt(settings: Settings, wiring: Wiring) -> None:
    """``events`` is always there (a no-op while mqtt.host is empty), so jobs publish without checking."""
    from bridge.events import MqttEvents, NullPublisher

    if not settings.mqtt.host:
        wiring.services.events = NullPublisher()
        return
    mqtt = MqttEvents(settings.mqtt)
    wiring.services.events = mqtt
    wiring.services.sync_commands = mqtt  # the daemon binds its scheduler's trigger here
    wiring.background.append(mqtt.run)
