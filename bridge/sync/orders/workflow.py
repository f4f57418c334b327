"""The order workflow's decisions, pure: no store, no clock, no network. The jobs call these and carry out the
answer (``bridge/sync/orders/moves.py`` writes it).

States and the moves between them are in ``rules/order_flow.yaml``; this module says, for what the bridge just
learnt about an order, which move it makes, who holds it, and what the CS-Cart status write carries (the letter and
whether CS-Cart mails the customer and the shop)::

    受注 ──gates pass──> 出荷指示 ──result file──> 出荷済 ──mail sent──> 出荷通知済 ──> 完了
     │  ^                   │ ^
     v  │ (released)        v │ (label row valid again)
    保留 (bridge: gates; staff: CS-Cart; carriers: label row)
    キャンセル from any state before 出荷済 (after export: a flag for staff and, by setting, a 赤伝 file)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from bridge.domain.orders import Order, PaymentState, WorkflowState
from bridge.i18n import _
from bridge.rules.order_flow import (
    OrderFlowRules,
    allowed_transition,
    notification,
    payment_kind,
)

S = WorkflowState

# Who holds an order in 保留 (orders.hold_by): each releases only its own holds.
BRIDGE = "bridge"  # the gates (unpaid, credit, unknown customer or product …): released when they pass
STAFF = "staff"  # CS-Cart's 保留 letter set by hand, or an unknown letter: only staff release it
CARRIERS = "carriers"  # a label row the shipping job cannot make valid: released when it can


def payment_state(order: Order, flow: OrderFlowRules, paid_letters: frozenset[str],
                  previous: PaymentState | None) -> PaymentState:
    """What the bridge knows of the order's payment: a received payment is never undone by a later status.

    A 掛売 order is paid when SMILE books the 入金 (its 売掛残 shows it), never by a CS-Cart status: 完了 (C), which the
    bridge itself writes after the shipping mail, carries CS-Cart's payment_received flag, and counting that as paid
    dropped a shipped, unpaid 掛売 order from the credit exposure."""
    kind = payment_kind(order, flow)
    if kind == "on_account":
        return PaymentState.ON_ACCOUNT
    if previous is PaymentState.PAID:
        return PaymentState.PAID  # a later status (保留, 出荷指示) does not undo a received payment
    if order.status in paid_letters:
        return PaymentState.PAID
    if kind == "card" and flow.state_for_letter(order.status) is not S.RECEIVED:
        return PaymentState.UNPAID  # Failed / Declined: the card was not authorised
    return {"card": PaymentState.AUTHORISED, "cod": PaymentState.COD,
            "on_account": PaymentState.ON_ACCOUNT}.get(kind or "", PaymentState.UNPAID)


@dataclass(frozen=True, slots=True)
class Placement:
    """Where an order seen for the first time enters the mirror."""

    state: WorkflowState
    hold_by: str | None = None
    hold_reason: str | None = None
    record_hold: bool = False  # its letter is not in order_flow.yaml: the move into 保留 goes into its history


def unknown_letter_reason(letter: str) -> str:
    return _("CS-Cart status {letter} is not in order_flow.yaml: waiting for staff").format(letter=letter)


def place_new(letter: str, letter_state: WorkflowState | None) -> Placement:
    """Orders already past 受注 (handled by hand before the bridge) are mirrored where they are, never sent."""
    if letter_state is None:
        return Placement(S.HOLD, STAFF, unknown_letter_reason(letter), record_hold=True)
    if letter_state is S.HOLD:
        return Placement(S.HOLD, STAFF, _("held by staff in CS-Cart"))
    return Placement(letter_state)


@dataclass(frozen=True, slots=True)
class Move:
    to_state: WorkflowState
    reason: str
    hold_by: str | None = None
    write_status: bool = True  # False: CS-Cart already shows it (a cancellation), nothing to write


@dataclass(frozen=True, slots=True)
class OrderFlag:
    kind: str
    detail: str


@dataclass(frozen=True, slots=True)
class Reaction:
    """What a changed, already mirrored order leads to (each part may be empty)."""

    payment_received: bool = False
    flag: OrderFlag | None = None
    move: Move | None = None
    cancelled_after_export: bool = False
    further: tuple[Move, ...] = ()  # moves after ``move``, in order (staff jumped several states in CS-Cart)
    corrected_after_export: bool = False  # a 赤伝 of what SMILE has and a corrected 受注 follow


# How far along the flow each state is; staff setting a letter further along is hand work the bridge mirrors.
_PROGRESS = {S.RECEIVED: 0, S.HOLD: 0, S.SHIPPING_INSTRUCTED: 1, S.SHIPPED: 2, S.NOTIFIED: 3, S.COMPLETE: 4}
_PATH = (S.SHIPPED, S.NOTIFIED, S.COMPLETE)


def hand_set(*, letter: str, letter_state: WorkflowState | None, state: WorkflowState,
             tracking: tuple[str, ...] | None) -> Reaction | None:
    """Staff set a status by hand in CS-Cart that the bridge did not write (the letter changed and lies ahead of
    the mirror, or is unknown): mirror it, or flag it for staff. ``tracking`` = the tracking numbers of the order's
    CS-Cart shipments (None = not looked up). A letter behind the mirror is an echo of an earlier write: ignored.

    * 出荷済 with a shipment that has a tracking number: mirrored as 出荷済 (the normal notify path follows: the
      shipping mail at the next notification time, then 完了); without one: a flag, no mail;
    * 出荷通知済 / 完了: mirrored along the path (CS-Cart mailed, or staff closed it), flagged when no tracking number;
    * 出荷済 or later on an order SMILE never got, 出荷指示 set by hand, a letter not in order_flow.yaml: a flag.
    """
    if state is S.CANCELLED:
        return None
    if letter_state is None:
        if state is S.RECEIVED:
            return None  # the existing staff-hold reaction covers it
        return Reaction(flag=OrderFlag("status_by_hand", _(
            "CS-Cart status {letter} was set by hand and is not in order_flow.yaml; the bridge leaves the order at "
            "{state}: set a status of the flow, or map the letter in order_flow.yaml").format(
                letter=letter, state=state.label_ja)))
    if letter_state not in _PROGRESS or _PROGRESS[letter_state] <= _PROGRESS.get(state, 99):
        return None
    label = letter_state.label_ja
    if letter_state is S.SHIPPING_INSTRUCTED:
        return Reaction(flag=OrderFlag("instructed_by_hand", _(
            "出荷指示 was set by hand in CS-Cart; the bridge sends the order to SMILE itself once its gates pass (保留 "
            "reasons: bridge orders show)")))
    if _PROGRESS[state] < 1:
        return Reaction(flag=OrderFlag("shipped_by_hand", _(
            "{label} was set by hand in CS-Cart, but the order was never sent to SMILE (no 受注 slip, no label): enter "
            "it in SMILE by hand or set the status back").format(label=label)))
    numbers = ", ".join(tracking or ())
    path = [to for to in _PATH if _PROGRESS[state] < _PROGRESS[to] <= _PROGRESS[letter_state]]
    reason = (_("{state} set by staff in CS-Cart; shipment(s) {numbers}").format(state=label, numbers=numbers)
              if numbers else _("{state} set by staff in CS-Cart; no tracking number").format(state=label))
    moves = tuple(Move(to, reason, write_status=False) for to in path)
    flag = None
    if not numbers:
        flag = OrderFlag("shipped_by_hand", _(
            "{label} was set by hand in CS-Cart, but the order has no CS-Cart shipment with a tracking number: add the "
            "shipment with its 伝票番号 (or import the result file); no shipping mail goes out without one").format(
                label=label))
        if letter_state is S.SHIPPED:
            return Reaction(flag=flag)  # stays 出荷指示 until a tracking number exists
    return Reaction(flag=flag, move=moves[0], further=moves[1:])


def react(*, letter: str, letter_state: WorkflowState | None, state: WorkflowState, hold_by: str | None,
          content_changed: bool, exported_batch: str | None, paid_now: bool, flow: OrderFlowRules,
          letter_changed: bool = False, tracking: tuple[str, ...] | None = None) -> Reaction:
    """A mirrored order changed in CS-Cart (status, content or payment): what the bridge does about it."""
    if letter_state is S.CANCELLED and state is not S.CANCELLED:
        if exported_batch is None:
            return Reaction(paid_now, move=Move(S.CANCELLED, _("cancelled in CS-Cart before export"),
                                                write_status=False))
        detail = (_("cancelled in CS-Cart after export to SMILE (batch {batch}): cancel the SMILE 受注 slip (a 赤伝 "
                    "file follows)") if flow.cancellations.file else
                  _("cancelled in CS-Cart after export to SMILE (batch {batch}): cancel the SMILE 受注 slip")).format(
                      batch=exported_batch)
        move = Move(S.CANCELLED, detail, write_status=False) if allowed_transition(state, S.CANCELLED, flow) else None
        return Reaction(paid_now, OrderFlag("cancelled_after_export", detail), move, cancelled_after_export=True)
    if exported_batch and content_changed:
        if flow.cancellations.edits == "correct" and state is not S.CANCELLED:
            detail = _("order edited in CS-Cart after export to SMILE (batch {exported_batch}): a 赤伝 of the slip "
                       "SMILE has and a corrected 受注 follow; check them in SMILE").format(exported_batch=exported_batch)
            return Reaction(paid_now, OrderFlag("edited_after_export", detail), corrected_after_export=True)
        detail = _("order edited in CS-Cart after export to SMILE (batch {exported_batch}): check the SMILE slip"
                   ).format(exported_batch=exported_batch)
        return Reaction(paid_now, OrderFlag("edited_after_export", detail))
    if letter_state is None and state is S.RECEIVED:
        return Reaction(paid_now, move=Move(S.HOLD, unknown_letter_reason(letter), hold_by=STAFF))
    if letter_state is S.HOLD and state is S.RECEIVED:
        return Reaction(paid_now, move=Move(S.HOLD, _("held by staff in CS-Cart"), hold_by=STAFF))
    if letter_state is S.RECEIVED and state is S.HOLD and hold_by == STAFF:
        return Reaction(paid_now, move=Move(S.RECEIVED, _("released by staff in CS-Cart")))
    if letter_changed and (by_hand := hand_set(letter=letter, letter_state=letter_state, state=state,
                                               tracking=tracking)) is not None:
        return Reaction(paid_now, by_hand.flag, by_hand.move, further=by_hand.further)
    return Reaction(paid_now)


def refusal(from_state: WorkflowState, to_state: WorkflowState, flow: OrderFlowRules) -> str | None:
    """None when order_flow.yaml allows the move, else why not (for the log and the audit trail)."""
    if allowed_transition(from_state, to_state, flow):
        return None
    return _("{from_state} → {to_state} not allowed by order_flow.yaml").format(
        from_state=from_state.value, to_state=to_state.value)


def writes_status(move: Move) -> bool:
    """A staff hold mirrors what staff did in CS-Cart: writing it back would only echo it (and mail twice)."""
    return move.write_status and move.hold_by != STAFF


@dataclass(frozen=True, slots=True)
class StatusWrite:
    """The CS-Cart status-only PUT for one move, and whom CS-Cart mails about it."""

    order_id: int
    letter: str
    notify_user: bool
    notify_department: bool
    idempotency_key: str

    def payload(self) -> dict[str, Any]:
        return {"order_id": self.order_id, "status": self.letter, "notify_user": self.notify_user,
                "notify_department": self.notify_department}


def status_write(order_id: int, from_state: WorkflowState, to_state: WorkflowState, flow: OrderFlowRules, *,
                 idempotency_key: str, notify_customer: bool = False) -> StatusWrite:
    """``notify_customer`` adds a customer mail the rules do not ask for (e.g. the 入金確認 of a prepaid order)."""
    notify = notification(from_state, to_state, flow)
    return StatusWrite(order_id, flow.letter_for(to_state), notify.customer or notify_customer, notify.department,
                       idempotency_key)


class GateOutcome(Enum):
    HOLD = "hold"  # into 保留 with the gates' reasons
    STILL_HELD = "still_held"  # stays in 保留; the new reason goes into its history
    SAME_HOLD = "same_hold"  # stays in 保留 for the same reasons: nothing to record
    REFUSED = "refused"  # passes the gates, but order_flow.yaml does not allow the move: refused once, audited
    REFUSED_AGAIN = "refused_again"  # … and already refused for that: nothing to record
    RELEASE = "release"  # into this cycle's 受注 file, then 出荷指示


@dataclass(frozen=True, slots=True)
class GateStep:
    """What the gates' decision means for an order in 受注 or 保留 now."""

    outcome: GateOutcome
    reason: str


def after_gates(*, held_reasons: list[str], release_reason: str, state: WorkflowState, hold_reason: str | None,
                flow: OrderFlowRules) -> GateStep:
    """The gate decision applied to the order's state: hold it (once, with its reasons), keep it held (a new reason
    goes into its history), or release it to 出荷指示 when order_flow.yaml allows that move."""
    if held_reasons:
        reason = "; ".join(held_reasons)
        if state is S.HOLD:
            return GateStep(GateOutcome.SAME_HOLD if hold_reason == reason else GateOutcome.STILL_HELD, reason)
        return GateStep(GateOutcome.HOLD, reason)
    if not allowed_transition(state, S.SHIPPING_INSTRUCTED, flow):
        refused = _("order_flow.yaml does not allow {state} → shipping_instructed: move it by hand").format(
            state=state.value)
        # refused, logged and audited once, not every cycle
        return GateStep(GateOutcome.REFUSED_AGAIN if hold_reason == refused else GateOutcome.REFUSED, refused)
    return GateStep(GateOutcome.RELEASE, release_reason)
