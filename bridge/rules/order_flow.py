"""``rules/order_flow.yaml``: the workflow states and their CS-Cart letters, the allowed transitions, who is
notified, the payment classes and the gates an order passes before 出荷指示 (shipping instructed)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from pydantic import Field, field_validator, model_validator

from bridge.domain.customers import MISC_CUSTOMER_CODE
from bridge.domain.limits import order_line_problems
from bridge.domain.text_damage import damaged_fields
from bridge.domain.orders import Order, PaymentState, WorkflowState
from bridge.i18n import Text, _, N_
from bridge.rules.common import RulesModel, status_letter
from bridge.rules.pricing import PricingRules, surcharge_mismatch

S = WorkflowState
PaymentKind = Literal["prepaid", "card", "cod", "on_account"]
RESERVED_LETTERS = ("N", "T")  # CS-Cart: incomplete, parent order
_Hold = Callable[[str, str], None]  # records one hold reason with its flag

DEFAULT_LETTERS: dict[WorkflowState, list[str]] = {
    S.RECEIVED: ["O", "P"], S.HOLD: ["H"], S.SHIPPING_INSTRUCTED: ["J"], S.SHIPPED: ["S"], S.NOTIFIED: ["W"],
    S.COMPLETE: ["C"], S.CANCELLED: ["I"],
}
DEFAULT_DESCRIPTIONS: dict[WorkflowState, str] = {
    S.HOLD: "保留", S.SHIPPING_INSTRUCTED: "出荷指示", S.SHIPPED: "出荷済", S.NOTIFIED: "出荷通知済",
}
DEFAULT_TRANSITIONS: dict[WorkflowState, list[WorkflowState]] = {
    S.RECEIVED: [S.HOLD, S.SHIPPING_INSTRUCTED, S.CANCELLED],
    S.HOLD: [S.RECEIVED, S.SHIPPING_INSTRUCTED, S.CANCELLED],
    S.SHIPPING_INSTRUCTED: [S.HOLD, S.SHIPPED, S.CANCELLED],
    S.SHIPPED: [S.NOTIFIED, S.COMPLETE],
    S.NOTIFIED: [S.COMPLETE],
    S.COMPLETE: [],
    S.CANCELLED: [],
}


class StateStatus(RulesModel):
    """The CS-Cart order status of one workflow state."""

    letters: list[str] = Field(min_length=1)
    """The first letter is the one the bridge writes; the others are recognised when reading (e.g. O and P)."""
    description: str = ""
    """The status name in CS-Cart (GET /statuses); when given, CS-Cart's name must contain it (checked at start-up)."""

    @field_validator("letters")
    @classmethod
    def _letters(cls, value: list[str]) -> list[str]:
        for letter in value:
            if status_letter(letter, N_("CS-Cart status")) in RESERVED_LETTERS:
                raise ValueError(_("{letter} is reserved by CS-Cart (N incomplete, T parent order)").format(
                                     letter=letter))
        if len(set(value)) != len(value):
            raise ValueError(_("a letter is listed twice"))
        return value


class TransitionNotice(RulesModel):
    """Who CS-Cart e-mails when an order enters ``to`` (from ``from_state`` only, when given)."""

    to: WorkflowState
    from_state: WorkflowState | None = Field(None, alias="from")
    customer: bool = False
    department: bool = False


class PaymentMethod(RulesModel):
    """CS-Cart payment methods (by payment_id and/or name) of one class."""

    kind: PaymentKind
    """prepaid = 先入金 / bank transfer, card, cod = 代金引換, on_account = 掛売."""
    payment_ids: list[int] = Field(default_factory=list)
    names: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _matches_something(self) -> PaymentMethod:
        if not self.payment_ids and not self.names:
            raise ValueError(_("give payment_ids or names (the CS-Cart payment method this rule is for)"))
        return self

    def matches(self, order: Order) -> bool:
        return (order.payment_id is not None and order.payment_id in self.payment_ids) or (
            bool(order.payment_method) and order.payment_method in self.names)


class PrepaidGate(RulesModel):
    wait_for_payment: bool = True
    """Hold the order until the payment is confirmed (入金確認)."""
    notify_payment_received: bool = True
    """Send the customer the payment-received mail once it is."""


class CardGate(RulesModel):
    require_authorised: bool = True


class CodGate(RulesModel):
    max_total: Decimal | None = Field(None, gt=0)
    """Hold COD orders above this total (yen); none = no limit here (the carrier limit is in shipping.yaml)."""


class OnAccountGate(RulesModel):
    credit_check: bool = True
    """Hold when SMILE credit limit < open exposure + this order."""
    without_limit: Literal["allow", "hold"] = "allow"
    """A customer with no 与信限度額 in SMILE: allow (as the add-on does) or hold for a person to decide."""


class DirectShipGate(RulesModel):
    """Who may use 直送; the surcharge itself is in pricing.yaml (direct_ship)."""

    enabled: bool = True
    payment_kinds: list[PaymentKind] = Field(default_factory=lambda: list[PaymentKind](["on_account", "prepaid"]))
    products: Literal["any", "flagged", "listed", "flagged_or_listed"] = "flagged_or_listed"
    """flagged = the product's 直送可 flag in CS-Cart; listed = product_codes / product_prefixes below."""
    product_codes: list[str] = Field(default_factory=list)
    product_prefixes: list[str] = Field(default_factory=list)
    prefectures: list[str] = Field(default_factory=list)
    """Destinations allowed (都道府県); empty = everywhere except excluded_prefectures."""
    excluded_prefectures: list[str] = Field(default_factory=list)
    check_surcharge: bool = True
    """The surcharge CS-Cart charged must match pricing.yaml direct_ship, else 保留."""


class UnknownCustomer(RulesModel):
    action: Literal["misc", "hold"] = "misc"
    """misc = send the order to SMILE under the 諸口 code and flag it; hold = 保留 until the code is known."""
    misc_code: str = Field(MISC_CUSTOMER_CODE, pattern=r"^[0-9A-Za-z]{1,10}$")


class Cancellations(RulesModel):
    """Orders cancelled or edited in CS-Cart after SMILE has them: always flagged for staff and published."""

    file: bool = True
    """Also write a 赤伝 (cancellation) 受注 file: the order's rows with negated quantities and amounts."""
    edits: Literal["correct", "flag"] = "correct"
    """An order edited after export: correct = a 赤伝 of what SMILE has plus a corrected 受注; flag = only flag it."""


class CustomerMails(RulesModel):
    """The add-on's customer mails that are no status change (its templates: Design → Email templates). The
    payment mail (入金確認) is ``gating.prepaid.notify_payment_received``; 正式受注確認, 出荷通知 and the cancellation
    mail go with the status writes in ``notifications``."""

    delay: bool = False
    """遅延のお知らせ when the delay watch (shipping.yaml delay_watch) first finds the order late."""
    returned: bool = True
    """返品受付のお知らせ when a return (CS-Cart's rma add-on) is approved and its 返品 slip written."""


class Gating(RulesModel):
    prepaid: PrepaidGate = PrepaidGate()
    card: CardGate = CardGate()
    cod: CodGate = CodGate()
    on_account: OnAccountGate = OnAccountGate()
    direct_ship: DirectShipGate = DirectShipGate()
    unknown_customer: UnknownCustomer = UnknownCustomer()


class OrderFlowRules(RulesModel):
    version: Literal[1] = 1
    states: dict[WorkflowState, StateStatus] = Field(default_factory=dict, validate_default=True)
    """Workflow state → CS-Cart letters; states left out use the defaults (O/P, H, J, S, W, C, I)."""
    transitions: dict[WorkflowState, list[WorkflowState]] = Field(default_factory=lambda: dict(DEFAULT_TRANSITIONS))
    """From-state → the states it may move to; anything else is refused and logged."""
    notifications: list[TransitionNotice] = Field(default_factory=lambda: [
        TransitionNotice(to=S.NOTIFIED, customer=True), TransitionNotice(to=S.CANCELLED, customer=True),
        TransitionNotice(to=S.HOLD, department=True)])
    payment_methods: list[PaymentMethod] = Field(default_factory=list)
    gating: Gating = Gating()
    cancellations: Cancellations = Cancellations()
    customer_mails: CustomerMails = CustomerMails()

    @field_validator("states")
    @classmethod
    def _with_defaults(cls, value: dict[WorkflowState, StateStatus]) -> dict[WorkflowState, StateStatus]:
        merged = {state: StateStatus(letters=DEFAULT_LETTERS[state], description=DEFAULT_DESCRIPTIONS.get(state, ""))
                  for state in WorkflowState}
        merged.update(value)
        owner: dict[str, WorkflowState] = {}
        for state, status in merged.items():
            for letter in status.letters:
                if letter in owner:
                    raise ValueError(_("letter {letter} is used by both {value} and {value2}").format(
                                         letter=letter, value=owner[letter].value, value2=state.value))
                owner[letter] = state
        return merged

    @field_validator("transitions")
    @classmethod
    def _no_loops(cls, value: dict[WorkflowState, list[WorkflowState]]) -> dict[WorkflowState, list[WorkflowState]]:
        for state, targets in value.items():
            if state in targets:
                raise ValueError(_("{value} lists itself; a state does not move to itself").format(value=state.value))
        return value

    @model_validator(mode="after")
    def _payment_rules_disjoint(self) -> OrderFlowRules:
        seen: dict[object, int] = {}
        for index, rule in enumerate(self.payment_methods):
            for key in [*rule.payment_ids, *rule.names]:
                if key in seen:
                    raise ValueError(_("payment method {key!r} is in payment_methods[{value}] and "
                                       "payment_methods[{index}]; a method "
                                       "has one class").format(key=key, value=seen[key], index=index))
                seen[key] = index
        return self

    def with_letters(self, letters: Mapping[WorkflowState, str]) -> OrderFlowRules:
        """These rules with the given states' letters replaced by one letter each (the smile_bridge add-on's current
        letters win over the yaml: a reinstall may have chosen others). A letter taken from another state is dropped
        there, so no letter belongs to two states."""
        if all(self.states[state].letters == [letter] for state, letter in letters.items()):
            return self
        taken = set(letters.values())
        states = {}
        for state, status in self.states.items():
            if state in letters:
                states[state] = status.model_copy(update={"letters": [letters[state]]})
            else:
                kept = [letter for letter in status.letters if letter not in taken]
                states[state] = status.model_copy(update={"letters": kept or status.letters})
        return self.model_copy(update={"states": states})

    def letter_for(self, state: WorkflowState) -> str:
        return self.states[state].letters[0]

    def state_for_letter(self, letter: str) -> WorkflowState | None:
        return next((s for s, status in self.states.items() if letter in status.letters), None)


# -- transitions and notifications ------------------------------------------------------------------------------


def allowed_transition(from_state: WorkflowState, to_state: WorkflowState, rules: OrderFlowRules) -> bool:
    return to_state in rules.transitions.get(from_state, [])


@dataclass(frozen=True, slots=True)
class Notify:
    customer: bool = False
    department: bool = False


def notification(from_state: WorkflowState, to_state: WorkflowState, rules: OrderFlowRules) -> Notify:
    """CS-Cart's notify flags for a status change; a rule naming ``from`` wins over one that does not."""
    matches = [n for n in rules.notifications if n.to == to_state and n.from_state in (None, from_state)]
    if not matches:
        return Notify()
    best = max(matches, key=lambda n: n.from_state is not None)
    return Notify(customer=best.customer, department=best.department)


def check_status_letters(rules: OrderFlowRules, statuses: Mapping[str, str]) -> list[Text]:
    """Problems with the letters against CS-Cart's ``GET /statuses`` (letter → description); empty = all good."""
    problems = []
    known = ", ".join(f"{letter} {name}" for letter, name in sorted(statuses.items()))
    for state, status in rules.states.items():
        for letter in status.letters:
            if letter not in statuses:
                problems.append(_("order_flow.yaml states.{value}: CS-Cart has no status {letter} (it has: {known}); "
                                  "install the "
                                  "smile_bridge add-on or fix the letter").format(
                                    value=state.value, letter=letter, known=known))
        first = status.letters[0]
        if status.description and first in statuses and status.description not in statuses[first]:
            problems.append(_("order_flow.yaml states.{value}: status {first} is {value2!r} in CS-Cart, not "
                              "{description!r}; "
                              "fix the letter or the description").format(
                                value=state.value, first=first, value2=statuses[first], description=status.description))
    return problems


# -- gating before 出荷指示 --------------------------------------------------------------------------------------


class Flag:
    """Machine-readable markers on a gate decision (stored with the order, shown to staff)."""

    UNKNOWN_PRODUCT = "unknown_product"
    UNKNOWN_CUSTOMER = "unknown_customer"
    MISC_CUSTOMER = "misc_customer"
    UNKNOWN_PAYMENT = "unknown_payment"
    AWAITING_PAYMENT = "awaiting_payment"
    NOT_AUTHORISED = "not_authorised"
    NOTIFY_PAYMENT_RECEIVED = "notify_payment_received"
    COD_OVER_LIMIT = "cod_over_limit"
    OVER_CREDIT_LIMIT = "over_credit_limit"
    NO_CREDIT_LIMIT = "no_credit_limit"
    DIRECT_SHIP_REFUSED = "direct_ship_refused"
    SURCHARGE_MISMATCH = "surcharge_mismatch"
    NO_ITEMS = "no_items"
    TEXT_DAMAGED = "text_damaged"
    BAD_NUMBERS = "bad_numbers"


@dataclass(frozen=True, slots=True)
class GateContext:
    """What the orders job knows about an order besides the order itself."""

    payment_state: PaymentState
    customer_known: bool = True  # the order's 得意先コード exists in SMILE
    credit_limit: Decimal | None = None  # SMILE 与信限度額; None = none set
    exposure: Decimal = Decimal(0)  # open receivables + orders not yet invoiced, without this one
    known_product_codes: frozenset[str] = frozenset()
    direct_ship_flagged: frozenset[str] = frozenset()  # product codes whose CS-Cart 直送可 flag is on
    direct_ship_surcharge: Decimal | None = None  # what CS-Cart charged for 直送 (add-on column)


@dataclass(frozen=True, slots=True)
class GateDecision:
    state: WorkflowState  # HOLD or SHIPPING_INSTRUCTED
    reasons: tuple[str, ...]  # why it is held (empty when released)
    notes: tuple[str, ...] = ()  # what was decided without holding it (e.g. 諸口 code used)
    flags: frozenset[str] = field(default_factory=frozenset)
    customer_code: str = ""  # the 得意先コード to send to SMILE
    payment_kind: PaymentKind | None = None

    @property
    def held(self) -> bool:
        return self.state is WorkflowState.HOLD

    def reason_text(self) -> str:
        parts = self.reasons or (_("all gates passed"),)
        return "; ".join([*parts, *self.notes])


def payment_kind(order: Order, rules: OrderFlowRules) -> PaymentKind | None:
    return next((rule.kind for rule in rules.payment_methods if rule.matches(order)), None)


def gate_order(order: Order, context: GateContext, rules: OrderFlowRules, pricing: PricingRules) -> GateDecision:
    """Decide whether ``order`` may go to 出荷指示 now or waits in 保留. Every gate is evaluated and every reason
    kept, so staff see all problems at once."""
    reasons: list[str] = []
    notes: list[str] = []
    flags: set[str] = set()

    def hold(flag: str, reason: str) -> None:
        flags.add(flag)
        reasons.append(reason)

    if not order.lines:
        hold(Flag.NO_ITEMS, _("order {order_id} has no items: SMILE's 受注 file would get no row for it").format(
                                order_id=order.order_id))
    damaged = damaged_fields(order)
    if damaged:
        hold(Flag.TEXT_DAMAGED, _("order {order_id}: CS-Cart stored '?' for characters it cannot keep in {items}: "
                                  "correct the text "
                                  "in the CS-Cart order (use a BMP form, e.g. 吉 for 𠮷)").format(
                                    order_id=order.order_id, items=', '.join(damaged)))
    numbers = order_line_problems([(index, line.product_code, line.quantity, line.unit_price)
                                   for index, line in enumerate(order.lines, start=1)])
    if numbers:
        hold(Flag.BAD_NUMBERS, f"order {order.order_id}: " + "; ".join(numbers))
    unknown = sorted({line.product_code or "(blank)" for line in order.lines
                      if line.product_code not in context.known_product_codes})
    if unknown:
        hold(Flag.UNKNOWN_PRODUCT, _("unknown product code(s) {items}: not in the SMILE 商品マスター").format(
                                       items=', '.join(unknown)))

    customer_code = order.customer_code
    if not context.customer_known or not customer_code:
        shown = customer_code or "(none)"
        if rules.gating.unknown_customer.action == "misc":
            customer_code = rules.gating.unknown_customer.misc_code
            flags.update({Flag.UNKNOWN_CUSTOMER, Flag.MISC_CUSTOMER})
            notes.append(_("customer code {shown} unknown to SMILE: sent as 諸口 {customer_code}").format(
                             shown=shown, customer_code=customer_code))
        else:
            hold(Flag.UNKNOWN_CUSTOMER, _("customer code {shown} unknown to SMILE").format(shown=shown))

    kind = payment_kind(order, rules)
    gates = rules.gating
    if kind is None:
        hold(Flag.UNKNOWN_PAYMENT, _("payment method {payment_method!r} (payment_id {payment_id}) has no class in "
                                     "order_flow.yaml "
                                     "payment_methods").format(
                                       payment_method=order.payment_method, payment_id=order.payment_id))
    elif kind == "prepaid":
        paid = context.payment_state is PaymentState.PAID
        if gates.prepaid.wait_for_payment and not paid:
            hold(Flag.AWAITING_PAYMENT, _("waiting for payment (先入金): ship after 入金確認"))
        if paid and gates.prepaid.notify_payment_received:
            flags.add(Flag.NOTIFY_PAYMENT_RECEIVED)
    elif kind == "card":
        if gates.card.require_authorised and context.payment_state not in (PaymentState.AUTHORISED, PaymentState.PAID):
            hold(Flag.NOT_AUTHORISED, _("card payment not authorised"))
    elif kind == "cod":
        if gates.cod.max_total is not None and order.total > gates.cod.max_total:
            hold(Flag.COD_OVER_LIMIT, _("代引 total ¥{total} is above the limit ¥{max_total}").format(
                                          total=order.total, max_total=gates.cod.max_total))
    elif kind == "on_account" and gates.on_account.credit_check:
        _credit(order, context, rules, hold)

    if order.direct_ship:
        _direct_ship(order, context, kind, rules, pricing, hold)

    state = WorkflowState.HOLD if reasons else WorkflowState.SHIPPING_INSTRUCTED
    return GateDecision(state=state, reasons=tuple(reasons), notes=tuple(notes), flags=frozenset(flags),
                        customer_code=customer_code, payment_kind=kind)


def _credit(order: Order, context: GateContext, rules: OrderFlowRules, hold: _Hold) -> None:
    limit = context.credit_limit
    if limit is None:
        if rules.gating.on_account.without_limit == "hold":
            hold(Flag.NO_CREDIT_LIMIT, _("掛売 customer has no 与信限度額 in SMILE"))
        return
    needed = context.exposure + order.total
    if needed > limit:
        hold(Flag.OVER_CREDIT_LIMIT, _("credit limit ¥{limit} exceeded: open ¥{exposure} + this order ¥{total} = "
                                       "¥{needed}").format(
                                         limit=limit, exposure=context.exposure, total=order.total, needed=needed))


def _direct_ship(order: Order, context: GateContext, kind: PaymentKind | None, rules: OrderFlowRules,
                 pricing: PricingRules, hold: _Hold) -> None:
    gate = rules.gating.direct_ship
    if not gate.enabled:
        hold(Flag.DIRECT_SHIP_REFUSED, _("直送 is switched off in order_flow.yaml"))
        return
    if kind is not None and kind not in gate.payment_kinds:
        hold(Flag.DIRECT_SHIP_REFUSED, _("直送 is not allowed with payment class {kind}").format(kind=kind))
    refused = sorted({line.product_code for line in order.lines
                      if not _direct_ship_product(line.product_code, context, gate)})
    if refused:
        hold(Flag.DIRECT_SHIP_REFUSED, _("直送 is not allowed for product(s) {items}").format(items=', '.join(refused)))
    prefecture = order.shipping.prefecture
    if (gate.prefectures and prefecture not in gate.prefectures) or prefecture in gate.excluded_prefectures:
        hold(Flag.DIRECT_SHIP_REFUSED, _("直送 is not allowed to {prefecture}").format(
            prefecture=prefecture or _("(no prefecture)")))
    if gate.check_surcharge:
        charged = context.direct_ship_surcharge if context.direct_ship_surcharge is not None else Decimal(0)
        problem = surcharge_mismatch(charged, order.subtotal, pricing)
        if problem:
            hold(Flag.SURCHARGE_MISMATCH, problem)


def _direct_ship_product(code: str, context: GateContext, gate: DirectShipGate) -> bool:
    flagged = code in context.direct_ship_flagged
    listed = code in gate.product_codes or any(code.startswith(p) for p in gate.product_prefixes)
    return {"any": True, "flagged": flagged, "listed": listed, "flagged_or_listed": flagged or listed}[gate.products]
