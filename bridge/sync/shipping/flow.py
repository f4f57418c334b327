"""What the shipping job's steps share: the rules in force, workflow moves with their CS-Cart status writes, staff
flags and events.

Moves follow rules/order_flow.yaml (allowed transitions, status letters, who is e-mailed); the orders job owns
受注 → 出荷指示, the shipping job owns what comes after (and 出荷指示 ⇄ 保留 for label problems).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from bridge.carriers.rules import ShippingRules
from bridge.domain.orders import WorkflowState
from bridge.domain.time import iso
from bridge.errors import ConfigError
from bridge.rules.order_flow import OrderFlowRules, allowed_transition, notification
from bridge.store import audit
from bridge.store import orders as mirror
from bridge.store import outbox as ob
from bridge.store.db import Connection
from bridge.sync.base import JobContext
from bridge.sync.orders.rules import order_rules

log = structlog.get_logger("bridge.sync.shipping")

JOB = "shipping"
S = WorkflowState
HELD_BY = "carriers"  # orders.hold_by for a label row that cannot be made valid: the shipping job releases it
DELAY_FLAG = "shipment_delayed"


@dataclass(frozen=True, slots=True)
class ShippingContext:
    ctx: JobContext
    rules: ShippingRules
    flow: OrderFlowRules

    def folder(self, path: Path) -> Path:
        """A folder of rules/shipping.yaml: relative ones are under the bridge's data_dir."""
        return path if path.is_absolute() else Path(self.ctx.settings.data_dir) / path


@dataclass(slots=True)
class Changes:
    """Status writes, events and notes one step collected (enqueued in the step's transaction)."""

    status_ops: list[ob.NewOp] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


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


async def move(tx: Connection, sc: ShippingContext, order_id: int, to_state: WorkflowState, reason: str,
               changes: Changes, *, hold_by: str | None = None, write_status: bool = True) -> bool:
    """A transition order_flow.yaml allows: history, hold columns, event and the CS-Cart status write."""
    current = await mirror.get(tx, order_id)
    if current is None:
        raise KeyError(f"order {order_id} is not mirrored")
    from_state = current.workflow_state
    if not allowed_transition(from_state, to_state, sc.flow):
        log.warning("shipping.transition_refused", order_id=order_id, from_state=from_state.value,
                    to_state=to_state.value, reason=reason)
        await audit.write(tx, JOB, "transition_refused", str(order_id),
                          f"{from_state.value} → {to_state.value} not allowed by order_flow.yaml: {reason}")
        changes.notes.append(f"order {order_id}: {from_state.label_ja} → {to_state.label_ja} is not allowed by "
                             "rules/order_flow.yaml")
        return False
    await mirror.transition(tx, order_id, to_state, reason)
    await tx.execute("UPDATE orders SET hold_by = ?, hold_reason = ? WHERE order_id = ?",
                     (hold_by if to_state is S.HOLD else None, reason if to_state is S.HOLD else None, order_id))
    changes.events.append(("order_state_changed", {"order_id": order_id, "from_state": from_state.value,
                                                   "to_state": to_state.value, "reason": reason}))
    if write_status:
        changes.status_ops.append(await status_op(tx, sc, order_id, from_state, to_state))
    return True


async def status_op(tx: Connection, sc: ShippingContext, order_id: int, from_state: WorkflowState,
                    to_state: WorkflowState) -> ob.NewOp:
    notify = notification(from_state, to_state, sc.flow)
    cursor = await tx.execute("SELECT COUNT(*) FROM order_transitions WHERE order_id = ?", (order_id,))
    step = (await cursor.fetchone())[0]
    payload = {"order_id": order_id, "status": sc.flow.letter_for(to_state), "notify_user": notify.customer,
               "notify_department": notify.department}
    # One key per order, state and history step: a retry or a re-run never writes (or mails) the same change twice.
    return ob.NewOp("cscart", "order.status", "order", str(order_id), payload,
                    idempotency_key=status_key(order_id, to_state, step), track_ledger=False,
                    coalescing=False)  # each change may mail the customer: none replaces another


def status_key(order_id: int, state: WorkflowState, step: int) -> str:
    return f"carriers/{order_id}/status/{state.value}/{step}"


async def flag(tx: Connection, sc: ShippingContext, order_id: int, kind: str, detail: str, changes: Changes) -> bool:
    """An open staff flag (``bridge orders list --flagged``); True when it is new (the event goes out once)."""
    cursor = await tx.execute(
        "INSERT INTO order_flags (order_id, kind, detail, at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (order_id, kind) WHERE resolved_at IS NULL DO NOTHING",
        (order_id, kind, detail, iso(sc.ctx.clock.now())),
    )
    if not cursor.rowcount:
        return False
    log.warning("shipping.flagged", order_id=order_id, flag=kind, detail=detail)
    await audit.write(tx, JOB, f"flag:{kind}", str(order_id), detail)
    changes.events.append(("order_flagged", {"order_id": order_id, "flag": kind, "detail": detail}))
    return True


async def resolve_flags(tx: Connection, sc: ShippingContext, kind: str, keep: set[int]) -> None:
    """Close the open ``kind`` flags of every order not in ``keep``."""
    cursor = await tx.execute("SELECT order_id FROM order_flags WHERE kind = ? AND resolved_at IS NULL", (kind,))
    gone = [row[0] for row in await cursor.fetchall() if row[0] not in keep]
    await tx.executemany("UPDATE order_flags SET resolved_at = ? WHERE order_id = ? AND kind = ? AND resolved_at "
                         "IS NULL", [(iso(sc.ctx.clock.now()), order_id, kind) for order_id in gone])


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
