"""What the shipping job's steps share: the rules in force, workflow moves with their CS-Cart status writes, staff
flags and events.

Moves follow rules/order_flow.yaml (allowed transitions, status letters, who is e-mailed); the orders job owns
受注 → 出荷指示, the shipping job owns what comes after (and 出荷指示 ⇄ 保留 for label problems).
"""

from __future__ import annotations

from typing import Any

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import structlog

from bridge.carriers.rules import ShippingRules
from bridge.domain.orders import WorkflowState
from bridge.domain.time import Clock, iso
from bridge.errors import ConfigError
from bridge.events import EventPublisher
from bridge.i18n import _
from bridge.rules.order_flow import OrderFlowRules
from bridge.smile.settings import SmileSettings
from bridge.store import Store, order_flags
from bridge.store import orders as mirror
from bridge.store import outbox as ob
from bridge.store.db import Connection
from bridge.sync.orders.moves import Changes, Mover
from bridge.sync.orders.workflow import CARRIERS, Move

log = structlog.get_logger("bridge.sync.shipping")

JOB = "shipping"
S = WorkflowState
HELD_BY = CARRIERS  # orders.hold_by for a label row that cannot be made valid: the shipping job releases it
DELAY_FLAG = "shipment_delayed"


@dataclass(frozen=True, slots=True)
class ShippingContext:
    """What one shipping run (or ``bridge carriers export|import``) works with: the rules in force and the state."""

    rules: ShippingRules
    flow: OrderFlowRules
    store: Store
    clock: Clock
    events: EventPublisher
    wake_dispatcher: Callable[[], None]
    smile: SmileSettings  # the results inbox reads files the way the SMILE inbox does
    data_dir: Path
    cscart: Any = None  # CSCartClient | None: whether the smile_bridge add-on sends the customer mails

    def folder(self, path: Path) -> Path:
        """A folder of rules/shipping.yaml: relative ones are under the bridge's data_dir."""
        return path if path.is_absolute() else Path(self.data_dir) / path


def shipping_rules(found: ShippingRules | None, rules_dir: Path) -> ShippingRules:
    """rules/shipping.yaml in force (``found``), or a ``ConfigError`` naming the file the folder lacks."""
    if found is None:
        path = Path(rules_dir) / "shipping.yaml"
        raise ConfigError(_("{path}: shipping rules not found; the shipping job needs rules/shipping.yaml (copy the "
                            "shipped one and fill in the [A] codes), or set jobs.shipping.enabled: false").format(
                                path=path))
    return found


def mover(sc: ShippingContext) -> Mover:
    return Mover(JOB, "carriers", sc.flow, sc.clock.now)


async def move(tx: Connection, sc: ShippingContext, order_id: int, to_state: WorkflowState, reason: str,
               changes: Changes, *, hold_by: str | None = None, write_status: bool = True) -> bool:
    """A transition order_flow.yaml allows: history, hold columns, event and the CS-Cart status write."""
    states = await mirror.states_of(tx, [order_id])
    if order_id not in states:
        raise KeyError(f"order {order_id} is not mirrored")
    return await mover(sc).move(tx, order_id, states[order_id], Move(to_state, reason, hold_by, write_status),
                                changes)


async def flag(tx: Connection, sc: ShippingContext, order_id: int, kind: str, detail: str, changes: Changes) -> bool:
    """An open staff flag (``bridge orders list --flagged``); True when it is new (the event goes out once)."""
    return await mover(sc).flag(tx, order_id, kind, detail, changes)


async def resolve_flags(tx: Connection, sc: ShippingContext, kind: str, keep: set[int]) -> None:
    """Close the open ``kind`` flags of every order not in ``keep``."""
    await order_flags.resolve_all_but(tx, kind, keep, iso(sc.clock.now()))


async def enqueue(tx: Connection, sc: ShippingContext, changes: Changes) -> int:
    return await ob.enqueue(tx, changes.status_ops, sc.clock.time())


async def publish(sc: ShippingContext, changes: Changes) -> None:
    """Events after the transaction committed; best effort (the store holds the truth)."""
    events = sc.events
    for kind, payload in changes.events:
        try:
            await events.publish(kind, payload)
        except Exception:
            log.warning("shipping.event_failed", kind=kind, exc_info=True)
