"""What the shipping job's steps share: the rules in force, workflow moves with their CS-Cart status writes, staff
flags and events.

Moves follow rules/order_flow.yaml (allowed transitions, status letters, who is e-mailed); the orders job owns
受注 → 出荷指示, the shipping job owns what comes after (and 出荷指示 ⇄ 保留 for label problems).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import structlog

from bridge.carriers.rules import ShippingRules
from bridge.domain.orders import WorkflowState
from bridge.domain.time import iso
from bridge.errors import ConfigError
from bridge.rules.order_flow import OrderFlowRules
from bridge.store import order_flags
from bridge.store import orders as mirror
from bridge.store import outbox as ob
from bridge.store.db import Connection
from bridge.sync.base import JobContext
from bridge.sync.orders.moves import Changes, Mover
from bridge.sync.orders.rules import current_order_rules, order_rules
from bridge.sync.orders.workflow import CARRIERS, Move

log = structlog.get_logger("bridge.sync.shipping")

JOB = "shipping"
S = WorkflowState
HELD_BY = CARRIERS  # orders.hold_by for a label row that cannot be made valid: the shipping job releases it
DELAY_FLAG = "shipment_delayed"


@dataclass(frozen=True, slots=True)
class ShippingContext:
    ctx: JobContext
    rules: ShippingRules
    flow: OrderFlowRules

    def folder(self, path: Path) -> Path:
        """A folder of rules/shipping.yaml: relative ones are under the bridge's data_dir."""
        return path if path.is_absolute() else Path(self.ctx.settings.data_dir) / path


def shipping_rules(ctx: JobContext) -> ShippingRules:
    """rules/shipping.yaml in force."""
    found = ctx.services.shipping
    if found is None:
        path = Path(ctx.settings.rules_dir) / "shipping.yaml"
        raise ConfigError(f"{path}: shipping rules not found; the shipping job needs rules/shipping.yaml "
                          "(copy the shipped one and fill in the [A] codes), or set jobs.shipping.enabled: false")
    return found


def context(ctx: JobContext) -> ShippingContext:
    return ShippingContext(ctx, shipping_rules(ctx), order_rules(ctx).flow)


async def current_context(ctx: JobContext) -> ShippingContext:
    """``context`` with the smile_bridge add-on's current status letters (the ones the job writes)."""
    return ShippingContext(ctx, shipping_rules(ctx), (await current_order_rules(ctx)).flow)


def mover(sc: ShippingContext) -> Mover:
    return Mover(JOB, "carriers", sc.flow, sc.ctx.clock.now)


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
    await order_flags.resolve_all_but(tx, kind, keep, iso(sc.ctx.clock.now()))


async def enqueue(tx: Connection, sc: ShippingContext, changes: Changes) -> int:
    return await ob.enqueue(tx, changes.status_ops, sc.ctx.clock.time())


async def publish(sc: ShippingContext, changes: Changes) -> None:
    """Events after the transaction committed; best effort (the store holds the truth)."""
    events = sc.ctx.services.events
    for kind, payload in changes.events:
        try:
            await events.publish(kind, payload)
        except Exception:
            log.warning("shipping.event_failed", kind=kind, exc_info=True)
