"""The composition root: builds sinks, services and extra HTTP routes from the settings.

Edges plug in here and nowhere else, so the daemon and the CLI share one wiring.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bridge.config import Settings
from bridge.dispatch import Sink
from bridge.http import Handler
from bridge.store import Store


@dataclass
class Wiring:
    sinks: dict[str, Sink] = field(default_factory=dict)
    services: dict[str, Any] = field(default_factory=dict)
    routes: list[tuple[str, str, Handler]] = field(default_factory=list)
    reload_hooks: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    background: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    exit_stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)

    async def aclose(self) -> None:
        await self.exit_stack.aclose()


async def build(settings: Settings, store: Store) -> Wiring:
    """Everything the configured edges provide. Each edge adds itself when its settings are present."""
    wiring = Wiring()
    _add_mqtt(settings, wiring)
    await _add_cscart(settings, wiring)
    return wiring


async def _add_cscart(settings: Settings, wiring: Wiring) -> None:
    """The CS-Cart REST client (``services["cscart"]``) and its sink (target ``cscart``), when cscart.url is set."""
    if not settings.cscart.url:
        return
    from bridge.cscart.client import CSCartClient
    from bridge.cscart.sink import CSCartSink

    client = CSCartClient(settings.cscart)
    wiring.exit_stack.push_async_callback(client.close)
    wiring.services["cscart"] = client
    wiring.sinks[CSCartSink.target] = CSCartSink(client)


def _add_mqtt(settings: Settings, wiring: Wiring) -> None:
    """``events`` is always there (a no-op while mqtt.host is empty), so jobs publish without checking."""
    from bridge.events import MqttEvents, NullPublisher

    if not settings.mqtt.host:
        wiring.services.setdefault("events", NullPublisher())
        return
    mqtt = MqttEvents(settings.mqtt)
    wiring.services["events"] = mqtt
    wiring.services["sync_commands"] = mqtt  # the daemon binds its scheduler's trigger here
    wiring.background.append(mqtt.run)
