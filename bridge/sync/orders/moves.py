"""Carrying out the workflow's decisions (``workflow.py``) inside a job's store transaction: the mirror's state and
history, who holds the order, staff flags, the audit trail, the events and the CS-Cart status writes. The orders job
and the shipping job both move orders through here, so a move means the same thing wherever it is made."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from bridge.domain.orders import WorkflowState
from bridge.domain.time import iso
from bridge.i18n import Text, _
from bridge.rules.order_flow import OrderFlowRules
from bridge.store import audit, order_flags
from bridge.store import orders as mirror
from bridge.store import outbox as ob
from bridge.store.db import Connection
from bridge.sync.orders.workflow import Move, StatusWrite, refusal, status_write, writes_status

S = WorkflowState


@dataclass(slots=True)
class Changes:
    """What one step decided to write after its transaction: status writes, events and notes for people."""

    status_ops: list[ob.NewOp] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    notes: list[Text] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Mover:
    job: str  # the audit trail's and the log's name for who moved the order
    key_prefix: str  # of the status writes' idempotency keys ("orders", "carriers"); kept stable across versions
    flow: OrderFlowRules
    now: Callable[[], datetime]

    @property
    def log(self) -> Any:
        return structlog.get_logger(f"bridge.sync.{self.job}")

    async def move(self, tx: Connection, order_id: int, from_state: WorkflowState, move: Move, changes: Changes,
                   *, notify_customer: bool = False) -> bool:
        """A move order_flow.yaml allows: state and history, hold columns, the event and the status write. A move
        it does not allow is refused, logged and audited; False then."""
        refused = refusal(from_state, move.to_state, self.flow)
        if refused:
            self.log.warning(f"{self.job}.transition_refused", order_id=order_id, from_state=from_state.value,
                             to_state=move.to_state.value, reason=move.reason)
            await audit.write(tx, self.job, "transition_refused", str(order_id), f"{refused}: {move.reason}")
            changes.notes.append(_("order {order}: {from_state} → {to_state} is not allowed by rules/order_flow.yaml")
                                 .format(order=order_id, from_state=from_state.label_ja,
                                         to_state=move.to_state.label_ja))
            return False
        await mirror.transition(tx, order_id, move.to_state, move.reason)
        held = move.to_state is S.HOLD
        await mirror.set_hold(tx, order_id, move.hold_by if held else None, move.reason if held else None)
        changes.events.append(("order_state_changed", {"order_id": order_id, "from_state": from_state.value,
                                                       "to_state": move.to_state.value, "reason": move.reason}))
        if writes_status(move):
            changes.status_ops.append(
                await self.status_op(tx, order_id, from_state, move.to_state, notify_customer=notify_customer))
        return True

    async def status_op(self, tx: Connection, order_id: int, from_state: WorkflowState, to_state: WorkflowState,
                        *, notify_customer: bool = False) -> ob.NewOp:
        step = await mirror.history_steps(tx, order_id)
        # One key per order, state and history step: a retry or a re-run never writes (or mails) a change twice.
        write = status_write(order_id, from_state, to_state, self.flow, notify_customer=notify_customer,
                             idempotency_key=f"{self.key_prefix}/{order_id}/status/{to_state.value}/{step}")
        return status_op(write)

    async def flag(self, tx: Connection, order_id: int, kind: str, detail: str, changes: Changes) -> bool:
        """An open staff flag (``bridge orders list --flagged``); True when it is new (the event goes out once)."""
        if not await order_flags.open_flag(tx, order_id, kind, detail, iso(self.now())):
            return False
        self.log.warning(f"{self.job}.flagged", order_id=order_id, flag=kind, detail=detail)
        await audit.write(tx, self.job, f"flag:{kind}", str(order_id), detail)
        changes.events.append(("order_flagged", {"order_id": order_id, "flag": kind, "detail": detail}))
        return True

    async def still_held(self, tx: Connection, order_id: int, reason: str, hold_by: str) -> None:
        """An order stays in 保留; a changed reason goes into its history."""
        if await mirror.hold_reason(tx, order_id) == reason:
            return
        await mirror.transition(tx, order_id, S.HOLD, _("still held: {reason}").format(reason=reason))
        await mirror.set_hold(tx, order_id, hold_by, reason)


def status_op(write: StatusWrite) -> ob.NewOp:
    """The outbox op of a ``workflow.StatusWrite``: never coalesced, since each change may mail the customer."""
    return ob.NewOp("cscart", "order.status", "order", str(write.order_id), write.payload(),
                    idempotency_key=write.idempotency_key, track_ledger=False, coalescing=False)
