"""The order workflow's decisions on their own: no store, no CS-Cart, the shipped rules/order_flow.yaml.

Each row is one situation an operator knows (staff set 保留 in CS-Cart, an order cancelled after export …) and the
decision the bridge must make. The end-to-end proof stays in test_gates.py and test_cancellations.py."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.domain.orders import PaymentState, WorkflowState
from bridge.rules.loader import load_rules
from bridge.sync.orders import workflow
from bridge.sync.orders.workflow import BRIDGE, STAFF, GateOutcome, Move, OrderFlag, Reaction
from tests.carriers.samples import order

S = WorkflowState
SHIPPED_RULES = load_rules(Path(__file__).parents[2] / "rules")
FLOW = SHIPPED_RULES.order_flow


@pytest.mark.parametrize(("letter", "expected"), [
    ("O", workflow.Placement(S.RECEIVED)),
    ("H", workflow.Placement(S.HOLD, STAFF, "held by staff in CS-Cart")),
    ("C", workflow.Placement(S.COMPLETE)),  # handled by hand before the bridge: mirrored where it is, never sent
    ("Z", workflow.Placement(S.HOLD, STAFF, "CS-Cart status Z is not in order_flow.yaml: waiting for staff",
                             record_hold=True)),
])
def test_a_new_order_enters_the_mirror_where_its_letter_says(letter: str, expected: workflow.Placement) -> None:
    """An order seen for the first time is placed by its CS-Cart letter; an unknown letter waits for staff."""
    assert workflow.place_new(letter, FLOW.state_for_letter(letter)) == expected


def react(letter: str, state: WorkflowState, *, hold_by: str | None = None, changed: bool = False,
          exported: str | None = None, paid_now: bool = False) -> Reaction:
    return workflow.react(letter=letter, letter_state=FLOW.state_for_letter(letter), state=state, hold_by=hold_by,
                          content_changed=changed, exported_batch=exported, paid_now=paid_now, flow=FLOW)


AFTER_EXPORT = ("cancelled in CS-Cart after export to SMILE (batch B1): cancel the SMILE 受注 slip"
                + (" (a 赤伝 file follows)" if FLOW.cancellations.file else ""))


@pytest.mark.parametrize(("situation", "reaction", "expected"), [
    ("cancelled before export", react("I", S.RECEIVED),
     Reaction(move=Move(S.CANCELLED, "cancelled in CS-Cart before export", write_status=False))),
    ("cancelled after export", react("I", S.SHIPPING_INSTRUCTED, exported="B1"),
     Reaction(flag=OrderFlag("cancelled_after_export", AFTER_EXPORT),
              move=Move(S.CANCELLED, AFTER_EXPORT, write_status=False), cancelled_after_export=True)),
    ("cancelled after shipping: flag only, the move is not allowed", react("I", S.SHIPPED, exported="B1"),
     Reaction(flag=OrderFlag("cancelled_after_export", AFTER_EXPORT), cancelled_after_export=True)),
    ("edited after export: a 赤伝 and a corrected 受注 (the shipped default)",
     react("J", S.SHIPPING_INSTRUCTED, changed=True, exported="B1"),
     Reaction(flag=OrderFlag("edited_after_export", "order edited in CS-Cart after export to SMILE (batch B1): a 赤伝 "
                                                    "of the slip SMILE has and a corrected 受注 follow; check them in "
                                                    "SMILE"), corrected_after_export=True)),
    ("edited before export: the gates see the new content", react("O", S.RECEIVED, changed=True), Reaction()),
    ("staff set 保留", react("H", S.RECEIVED), Reaction(move=Move(S.HOLD, "held by staff in CS-Cart", STAFF))),
    ("staff released their hold", react("O", S.HOLD, hold_by=STAFF),
     Reaction(move=Move(S.RECEIVED, "released by staff in CS-Cart"))),
    ("a bridge hold is not released by the letter", react("O", S.HOLD, hold_by=BRIDGE), Reaction()),
    ("unknown letter", react("Z", S.RECEIVED),
     Reaction(move=Move(S.HOLD, "CS-Cart status Z is not in order_flow.yaml: waiting for staff", STAFF))),
    ("payment arrived", react("P", S.HOLD, hold_by=BRIDGE, paid_now=True), Reaction(payment_received=True)),
])
def test_a_changed_order_leads_to_one_reaction(situation: str, reaction: Reaction, expected: Reaction) -> None:
    """What staff did in CS-Cart becomes one move, flag or audit line (and nothing else)."""
    assert reaction == expected, situation


def test_staff_moves_are_not_written_back_to_cs_cart() -> None:
    """A hold staff set in CS-Cart is mirrored, never echoed back (that would mail the shop twice)."""
    assert not workflow.writes_status(Move(S.HOLD, "held by staff in CS-Cart", STAFF))
    assert not workflow.writes_status(Move(S.CANCELLED, "cancelled", write_status=False))
    assert workflow.writes_status(Move(S.HOLD, "unpaid", BRIDGE))


def test_status_writes_carry_the_shipped_letters_and_mails() -> None:
    """The letter comes from order_flow.yaml and the mails from its notifications (出荷通知済 mails the customer)."""
    notified = workflow.status_write(7, S.SHIPPED, S.NOTIFIED, FLOW, idempotency_key="k")
    assert notified.payload() == {"order_id": 7, "status": "W", "notify_user": True, "notify_department": False}
    held = workflow.status_write(7, S.RECEIVED, S.HOLD, FLOW, idempotency_key="k")
    assert (held.letter, held.notify_user, held.notify_department) == ("H", False, True)
    paid = workflow.status_write(7, S.RECEIVED, S.SHIPPING_INSTRUCTED, FLOW, idempotency_key="k",
                                 notify_customer=True)
    assert (paid.letter, paid.notify_user) == ("J", True)


@pytest.mark.parametrize(("reasons", "state", "hold_reason", "outcome"), [
    (["unpaid"], S.RECEIVED, None, GateOutcome.HOLD),
    (["unpaid"], S.HOLD, "unpaid", GateOutcome.SAME_HOLD),
    (["unpaid", "credit"], S.HOLD, "unpaid", GateOutcome.STILL_HELD),
    ([], S.HOLD, "unpaid", GateOutcome.RELEASE),
    ([], S.RECEIVED, None, GateOutcome.RELEASE),
])
def test_the_gates_decide_hold_or_release(reasons: list[str], state: WorkflowState, hold_reason: str | None,
                                          outcome: GateOutcome) -> None:
    """Held once with its reasons; a held order is recorded again only when its reasons change."""
    step = workflow.after_gates(held_reasons=reasons, release_reason="ok", state=state, hold_reason=hold_reason,
                                flow=FLOW)
    assert step.outcome is outcome
    assert step.reason == ("; ".join(reasons) if reasons else "ok")


def test_a_release_the_rules_forbid_is_refused_once() -> None:
    """When order_flow.yaml does not allow 保留 → 出荷指示 the order is refused, and not again every cycle."""
    strict = FLOW.model_copy(update={"transitions": {**FLOW.transitions, S.HOLD: [S.RECEIVED, S.CANCELLED]}})
    first = workflow.after_gates(held_reasons=[], release_reason="ok", state=S.HOLD, hold_reason="unpaid",
                                 flow=strict)
    assert first.outcome is GateOutcome.REFUSED
    again = workflow.after_gates(held_reasons=[], release_reason="ok", state=S.HOLD, hold_reason=first.reason,
                                 flow=strict)
    assert again.outcome is GateOutcome.REFUSED_AGAIN
    assert workflow.refusal(S.HOLD, S.SHIPPING_INSTRUCTED, strict) == \
        "hold → shipping_instructed not allowed by order_flow.yaml"
    assert workflow.refusal(S.HOLD, S.SHIPPING_INSTRUCTED, FLOW) is None


@given(previous=st.sampled_from([None, *PaymentState]), letter=st.sampled_from(["O", "P", "H", "J", "I", "F"]),
       method=st.sampled_from(["掛売", "銀行振込", "クレジットカード", "代金引換", "現金書留"]))
def test_a_received_payment_is_never_undone(previous: PaymentState | None, letter: str, method: str) -> None:
    """Whatever the later letter or method, an order once paid stays paid; a paid letter always means paid — except
    for 掛売, which is paid when SMILE books the 入金 (its 売掛残), never by a CS-Cart status (完了 C carries CS-Cart's
    payment_received flag and would drop a shipped, unpaid order from the credit exposure)."""
    sample = replace(order(1, status=letter, payment_method=method), total=Decimal(1000))
    state = workflow.payment_state(sample, FLOW, frozenset({"P"}), previous)
    if method == "掛売":
        assert state is PaymentState.ON_ACCOUNT
    elif previous is PaymentState.PAID or letter == "P":
        assert state is PaymentState.PAID
    else:
        assert state is not PaymentState.PAID


@pytest.mark.parametrize(("method", "letter", "expected"), [
    ("掛売", "O", PaymentState.ON_ACCOUNT),
    ("代金引換", "O", PaymentState.COD),
    ("クレジットカード", "O", PaymentState.AUTHORISED),
    ("クレジットカード", "F", PaymentState.UNPAID),  # failed: the card was not authorised
    ("銀行振込", "O", PaymentState.UNPAID),  # 先入金 waits for 入金確認
])
def test_payment_state_follows_the_payment_class(method: str, letter: str, expected: PaymentState) -> None:
    """The payment classes of the shipped order_flow.yaml give the payment state the gates read."""
    assert workflow.payment_state(order(1, status=letter, payment_method=method), FLOW, frozenset(), None) is expected


def hand(letter: str, state: WorkflowState, tracking: tuple[str, ...] | None = None) -> Reaction:
    return workflow.react(letter=letter, letter_state=FLOW.state_for_letter(letter), state=state, hold_by=None,
                          content_changed=False, exported_batch="B1", paid_now=False, flow=FLOW, letter_changed=True,
                          tracking=tracking)


NO_NUMBER = ("was set by hand in CS-Cart, but the order has no CS-Cart shipment with a tracking number: add the "
             "shipment with its 伝票番号 (or import the result file); no shipping mail goes out without one")


@pytest.mark.parametrize(("situation", "reaction", "expected"), [
    ("出荷済 by hand with a tracking number: the normal notify path follows", hand("S", S.SHIPPING_INSTRUCTED,
                                                                                ("389711074012",)),
     Reaction(move=Move(S.SHIPPED, "出荷済 set by staff in CS-Cart; shipment(s) 389711074012", write_status=False))),
    ("出荷済 by hand without a number: flagged, it stays 出荷指示", hand("S", S.SHIPPING_INSTRUCTED, ()),
     Reaction(flag=OrderFlag("shipped_by_hand", "出荷済 " + NO_NUMBER))),
    ("完了 by hand with a number: every step in the history, nothing written back", hand("C", S.SHIPPING_INSTRUCTED,
                                                                                      ("1001",)),
     Reaction(move=Move(S.SHIPPED, "完了 set by staff in CS-Cart; shipment(s) 1001", write_status=False),
              further=(Move(S.NOTIFIED, "完了 set by staff in CS-Cart; shipment(s) 1001", write_status=False),
                       Move(S.COMPLETE, "完了 set by staff in CS-Cart; shipment(s) 1001", write_status=False)))),
    ("完了 by hand on a shipped order without a number: mirrored and flagged", hand("C", S.SHIPPED, ()),
     Reaction(flag=OrderFlag("shipped_by_hand", "完了 " + NO_NUMBER),
              move=Move(S.NOTIFIED, "完了 set by staff in CS-Cart; no tracking number", write_status=False),
              further=(Move(S.COMPLETE, "完了 set by staff in CS-Cart; no tracking number", write_status=False),))),
    ("出荷済 on an order SMILE never got", hand("S", S.RECEIVED, ("1",)),
     Reaction(flag=OrderFlag("shipped_by_hand", "出荷済 was set by hand in CS-Cart, but the order was never sent to "
                             "SMILE (no 受注 slip, no label): enter it in SMILE by hand or set the status back"))),
    ("出荷指示 by hand", hand("J", S.HOLD),
     Reaction(flag=OrderFlag("instructed_by_hand", "出荷指示 was set by hand in CS-Cart; the bridge sends the order "
                             "to SMILE itself once its gates pass (保留 reasons: bridge orders show)"))),
    ("a letter behind the mirror is an echo of an earlier write", hand("J", S.SHIPPED), Reaction()),
    ("an unknown letter after export", hand("F", S.SHIPPED),
     Reaction(flag=OrderFlag("status_by_hand", "CS-Cart status F was set by hand and is not in order_flow.yaml; the "
                             "bridge leaves the order at 出荷済: set a status of the flow, or map the letter in "
                             "order_flow.yaml"))),
])
def test_every_status_staff_can_set_is_mirrored_or_flagged(situation: str, reaction: Reaction,
                                                          expected: Reaction) -> None:
    assert reaction == expected, situation


@pytest.mark.parametrize("letter", [s.letters[0] for s in FLOW.states.values()] + ["F", "D", "B", "Y"])
@pytest.mark.parametrize("state", [s for s in WorkflowState if s is not S.CANCELLED])
def test_no_letter_staff_set_is_silently_ignored(letter: str, state: WorkflowState) -> None:
    """Staff set ``letter`` on an order the mirror has at ``state``: the bridge mirrors it, flags it, or it is the
    mirror's own letter or one it wrote earlier (behind the mirror)."""
    reaction = hand(letter, state, ("389711074012",))
    letter_state = FLOW.state_for_letter(letter)
    behind = letter_state is not None and workflow._PROGRESS.get(letter_state, 0) <= workflow._PROGRESS[state]
    handled_elsewhere = letter_state in (S.CANCELLED, S.HOLD, S.RECEIVED) or (letter_state is None and
                                                                             state is S.RECEIVED)
    assert reaction.move or reaction.flag or behind or handled_elsewhere, (letter, state)
