"""The orders job: CS-Cart orders → mirror → gates (order_flow.yaml) → SMILE 受注 file → CS-Cart 出荷指示.

One run:
1. check the status letters of order_flow.yaml against CS-Cart's ``GET /statuses`` (a missing letter fails the run
   with a message naming it; the other jobs keep running and /readyz shows the orders job late);
2. finish any 受注 batch a crash left half-done (orders_export);
3. detect new and changed orders (``OrderSource``: polling with an overlap window, or a push that triggers a run);
4. mirror them and handle what changed: cancellations, edits after export, staff holds, payments;
5. gate every open order (``bridge.rules.order_flow.gate_order``): 保留 with its reasons, or ready;
6. write one 受注 file for the ready orders, exactly once, then enqueue the CS-Cart status writes;
7. read SMILE's 受注明細 / 売上明細 back and alert on orders SMILE has not confirmed in time.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import structlog

from bridge import metrics
from bridge.analytics.hooks import AnalyticsFeed
from bridge.cscart.client import CSCartClient
from bridge.domain.orders import Order, PaymentState, WorkflowState
from bridge.domain.serialize import to_data
from bridge.domain.time import Clock, iso
from bridge.errors import AuthError, ConfigError, RetryableError, ValidationFailed
from bridge.events import EventPublisher
from bridge.i18n import Text, _, joined
from bridge.rules.order_flow import (
    Flag,
    GateContext,
    GateDecision,
    OrderFlowRules,
    check_status_letters,
    gate_order,
)
from bridge.rules.returns import ReturnRules
from bridge.smile.settings import SmileSettings
from bridge.smile.writer import record_changes
from bridge.store import Store, audit, bindings, exports, order_flags
from bridge.store import orders as mirror
from bridge.store import outbox as ob
from bridge.store.db import Connection
from bridge.store.exports import ExportBatch
from bridge.sync.base import JobResult, RunOptions
from bridge.sync.orders import direct_ship, export, hand_work, readback, returns, workflow
from bridge.sync.orders.batches import Batches
from bridge.sync.orders.catalog_wait import last_catalog_success, waits_for_binding
from bridge.sync.orders.credit import credit_exposure, credit_limits
from bridge.sync.orders.mails import addon_mails
from bridge.sync.orders.moves import Changes, Mover
from bridge.sync.orders.rules import OrderRules, current_order_rules
from bridge.sync.orders.settings import OrdersSettings
from bridge.sync.orders.source import OrderSource, PollingSource
from bridge.sync.orders.workflow import GateOutcome as Gate

log = structlog.get_logger("bridge.sync.orders")

S = WorkflowState
JOB = "orders"
# Identity links the catalog and customers jobs write (CS-Cart id → SMILE code).
CUSTOMER_BINDING = ("cscart", "user", "smile", "customer")
ANALYTICS_EVERY = 5.0  # seconds between the daemon's analytics copies
# ... while orders stream in (a run asks for the next at once): the copy waits for a pause in the burst, or this long
ANALYTICS_STREAMING_EVERY = 30.0
PRODUCT_BINDING = ("cscart", "product", "smile", "product")


def choose_source(client: CSCartClient, settings: OrdersSettings) -> OrderSource:
    """Where the orders job learns about new and changed orders (the one place that decides it): the add-on's event
    feed when the store has it, with polling behind it as the safety net (bridge/sync/orders/event_feed.py)."""
    from bridge.sync.orders.event_feed import with_event_feed

    return with_event_feed(client, PollingSource(
        client, overlap=timedelta(seconds=settings.overlap_seconds), page_size=settings.page_size,
        initial_lookback=timedelta(hours=settings.initial_lookback_hours),
    ))


class _DryRun(Exception):
    """Raised at the end of a dry run so the store transaction rolls back."""


def content_hash(order: Order, data: dict[str, Any] | None = None) -> str:
    """What staff can edit in CS-Cart (lines, totals, addresses, notes); status and timestamps are left out, and so
    are fields added later while at their default (an upgrade must not make every exported order look edited).
    ``data``: ``to_data(order)`` when the caller has it already (the mirror stores it): the same digest."""
    data = to_data(replace(order, status="", updated_at=None)) if data is None else \
        {**data, "status": "", "updated_at": None}
    for name in ("tax_added",):
        if name in data and Decimal(data[name]) == 0:
            data.pop(name)
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


@dataclass(slots=True)
class Cycle:
    """What one run decided, for the summary, the dry-run plan and the status writes."""

    read: int = 0
    unchanged: int = 0
    mirrored: int = 0
    held: list[tuple[int, str]] = field(default_factory=list)
    released: list[tuple[Order, GateDecision]] = field(default_factory=list)
    changes: Changes = field(default_factory=Changes)  # status writes, events and notes
    cancelled_after_export: list[Order] = field(default_factory=list)
    known: dict[int, mirror.Seen] = field(default_factory=dict)  # what the mirror holds of the orders read
    # orders seen for the first time: where each enters the mirror
    new: list[tuple[Order, PaymentState, str, workflow.Placement]] = field(default_factory=list)
    refreshed: list[tuple[Order, PaymentState]] = field(default_factory=list)  # changed in CS-Cart, same for us
    customer_codes: dict[str, str] = field(default_factory=dict)  # CS-Cart user_id → SMILE 得意先コード
    direct_ship_flagged: frozenset[str] = frozenset()  # 商品コード whose CS-Cart 直送可 flag is on
    tracking: dict[int, tuple[str, ...]] = field(default_factory=dict)  # hand-set 出荷済: its shipments' numbers
    corrected: list[tuple[Order, Order]] = field(default_factory=list)  # edited after export: (as SMILE has it, now)
    new_data: dict[int, Any] = field(default_factory=dict)  # the new orders' to_data (mirrored, then gated)
    new_orders: dict[int, Order] = field(default_factory=dict)  # the new orders as mirrored this run


class OrdersJob:
    name = JOB

    def __init__(self, *, cscart: CSCartClient, rules: Callable[[], OrderRules], settings: OrdersSettings,
                 smile: SmileSettings, data_dir: Path, store: Store, clock: Clock, events: EventPublisher,
                 wake_dispatcher: Callable[[], None], analytics: AnalyticsFeed,
                 source: OrderSource | None = None, returns: Callable[[], ReturnRules] | None = None) -> None:
        """``rules``: order_flow.yaml, pricing.yaml and the campaigns' slip lines in force; ``source``: where new
        and changed orders come from (default: ``choose_source``); ``returns``: rules/returns.yaml (返品; default:
        its documented defaults)."""
        self.returns = returns or ReturnRules
        self.cscart, self.rules, self.settings, self.smile = cscart, rules, settings, smile
        self.store, self.clock, self.events = store, clock, events
        self.wake_dispatcher, self.analytics = wake_dispatcher, analytics
        self._source = source
        self._echo_rules: tuple[OrderFlowRules, frozenset[str]] | None = None  # this run's, for _echoes
        self._analytics_task: asyncio.Task[None] | None = None
        self._analytics_again = False
        self._analytics_last = float("-inf")
        self._analytics_due = float("-inf")  # monotonic time the pending copy starts
        self._analytics_changed = asyncio.Event()  # a run moved the pending copy earlier
        self.layout = smile.layout("order_import")
        self.dirs = smile.dirs(data_dir)
        self.outbox_dir = self.dirs.outbox
        self.batches = Batches(store, clock, smile, self.outbox_dir, wake_dispatcher)

    @property
    def source(self) -> OrderSource:
        if self._source is None:
            self._source = choose_source(self.cscart, self.settings)
        if getattr(self._source, "echo_filter", False) is None:
            self._source.echo_filter = self._echoes  # type: ignore[attr-defined]
        return self._source

    async def _echoes(self, candidates: Mapping[int, str]) -> set[int]:
        """Of the orders whose only events are status changes (order_id → the letter they end in): those whose
        letter is the one the bridge writes for the mirror's state, and whose re-read could not change the payment
        state either — the echo of the bridge's own write. Re-reading them would only refresh the mirror's letter."""
        if self._echo_rules is None:
            return set()
        flow, paid_letters = self._echo_rules
        async with self.store.transaction() as tx:
            seen = await mirror.seen_many(tx, sorted(candidates))
        echoes = set()
        for order_id, current in seen.items():
            letter = candidates[order_id]
            if flow.letter_for(current.workflow_state) != letter:
                continue
            stable = current.payment_state in (PaymentState.PAID, PaymentState.ON_ACCOUNT) or (
                letter not in paid_letters and current.payment_state is not PaymentState.AUTHORISED)
            if stable:
                echoes.add(order_id)
        return echoes

    async def current_rules(self) -> OrderRules:
        """The rules in force, with the add-on's status letters (``current_order_rules``)."""
        return await current_order_rules(self.rules(), self.cscart)

    # -- the run -------------------------------------------------------------------------------------------------

    async def run(self, options: RunOptions) -> JobResult:
        rules = await self.current_rules()
        paid_letters = await self._check_letters(rules)
        self._echo_rules = (rules.flow, paid_letters)
        result = JobResult()
        if not options.dry_run:
            result.notes.extend(await self.batches.recover(self.current_rules))
        started = self.clock.now()
        source = self.source
        if hasattr(source, "read_ahead"):  # the next page is read while this run writes its file (daemon only)
            source.read_ahead = options.daemon and not options.dry_run
        found = await source.fetch(self.store, started)
        options.progress.start(_("orders"), len(found.orders))
        cycle = Cycle(read=len(found.orders))
        client = self.cscart
        cycle.direct_ship_flagged = await direct_ship.flags_for_run(client, self.store, rules.flow, found.orders)
        cycle.tracking = await hand_work.tracking_for_run(client, self.store, rules.flow, found.orders)
        try:
            async with self.store.transaction() as tx:
                cycle.known = await mirror.seen_many(tx, [order.order_id for order in found.orders])
                cycle.customer_codes = await bindings.all_of(tx, *CUSTOMER_BINDING)
                for order in found.orders:
                    await self._mirror(tx, order, rules, paid_letters, cycle)
                    options.progress.advance()
                await _flush_new(tx, cycle)
                await self._tracked_since(tx, rules, cycle)
                await self._gate(tx, rules, cycle)
                if options.dry_run:
                    raise _DryRun
                await found.commit(tx)
                await ob.enqueue(tx, cycle.changes.status_ops, self.clock.time())
        except _DryRun:
            result.plan = [_("order {order}: 保留 — {reason}").format(order=oid, reason=reason)
                           for oid, reason in cycle.held[:20]]
            result.plan += [_("order {order}: → 出荷指示 ({reason})").format(order=o.order_id, reason=d.reason_text())
                            for o, d in cycle.released[:20]]
        result.read, result.changed = cycle.read, cycle.mirrored
        result.more = found.more  # a bounded run over a backlog, or a burst going on: run again at once
        if options.dry_run:
            result.more = False
            return result
        written = await self._export(rules, cycle, started)
        result.enqueued = written + len(cycle.changes.status_ops)
        if rules.flow.cancellations.file and cycle.cancelled_after_export:
            result.notes.append(await self._cancellation_file(rules, cycle.cancelled_after_export, started))
        if cycle.corrected:
            result.notes.extend(await self._corrections(rules, cycle.corrected, started))
        for kind, payload in cycle.changes.events:
            await self._publish(kind, payload)
        result.notes.extend(cycle.changes.notes)
        result.notes.extend(await self._readback(started))
        result.notes.extend(await returns.handle_returns(  # 返品 (CS-Cart's rma add-on)
            returns.ReturnsContext(self.cscart, self.store, self.clock, self.wake_dispatcher), rules, self.returns(),
            self.layout, self.smile.substitutions, self.outbox_dir, started))
        metrics.JOB_RECORDS.labels(sync_job=JOB, stage="read").inc(cycle.read)
        metrics.JOB_RECORDS.labels(sync_job=JOB, stage="changed").inc(cycle.mirrored)
        metrics.JOB_RECORDS.labels(sync_job=JOB, stage="written").inc(written)
        self.wake_dispatcher()
        if options.daemon:
            self._analytics_soon(streaming=result.more)
        else:
            await self.analytics.orders_changed()
        return result

    def _analytics_soon(self, *, streaming: bool = False) -> None:
        """The daemon's analytics copy of the mirror, off the orders hot path, one at a time (the copy is
        incremental: a later one takes what an earlier one would have). After a run that ends a burst (or a lone
        run) it follows at most every ``ANALYTICS_EVERY`` seconds; while orders stream in (the run asked for the
        next at once) it waits for the burst's pause, or ``ANALYTICS_STREAMING_EVERY`` seconds at most, so a burst
        pays one copy instead of one every few seconds beside its runs."""
        due = self._analytics_last + (ANALYTICS_STREAMING_EVERY if streaming else ANALYTICS_EVERY)
        pending = self._analytics_task is not None and not self._analytics_task.done()
        if pending and self._analytics_again:
            due = min(due, self._analytics_due)  # a copy already asked for keeps its earlier time
        self._analytics_due = due
        self._analytics_again = True
        self._analytics_changed.set()
        if not pending:
            self._analytics_task = asyncio.create_task(self._analytics_loop(), name="orders-analytics")

    async def _analytics_loop(self) -> None:
        while self._analytics_again:
            wait = self._analytics_due - time.monotonic()
            if wait > 0:
                self._analytics_changed.clear()
                try:  # until the copy is due, or a run moves it
                    await asyncio.wait_for(self._analytics_changed.wait(), timeout=wait)
                except TimeoutError:
                    pass
                continue
            self._analytics_again = False
            self._analytics_last = time.monotonic()
            await self.analytics.orders_changed()  # never raises: a failed copy is logged (bridge/analytics/hooks)

    async def _check_letters(self, rules: OrderRules) -> frozenset[str]:
        """Letters checked against CS-Cart; returns the letters that mean "payment received"."""
        return await check_letters(self.cscart, rules.flow)

    # -- mirror --------------------------------------------------------------------------------------------------

    def _mover(self, rules: OrderRules) -> Mover:
        return Mover(JOB, "orders", rules.flow, self.clock.now)

    async def _mirror(self, tx: Connection, order: Order, rules: OrderRules, paid_letters: frozenset[str],
                      cycle: Cycle) -> None:
        if order.status == "N":
            return  # checkout not finished (online payment pending): not an order yet
        code = cycle.customer_codes.get(str(order.user_id))
        if code and not order.customer_code:
            order = replace(order, customer_code=code)
        seen = cycle.known.get(order.order_id)
        data = to_data(order) if seen is None else None  # a new order: the mirror stores the same data
        digest = content_hash(order, data)
        payment = workflow.payment_state(order, rules.flow, paid_letters, seen.payment_state if seen else None)
        if seen is not None and seen.status == order.status and seen.updated_at == iso(order.updated_at) and \
                seen.content_hash == digest and payment == seen.payment_state:
            cycle.unchanged += 1  # the overlap window read it again
            return
        letter_state = rules.flow.state_for_letter(order.status)
        cycle.mirrored += 1
        if seen is not None and seen.content_hash == digest and payment == seen.payment_state and \
                letter_state is seen.workflow_state:
            cycle.refreshed.append((order, payment))  # e.g. the echo of the bridge's own status write
            return
        if seen is None:
            # Written in bulk by _flush_new before anything reads them (orders arrive in bursts).
            cycle.new.append((order, payment, digest, workflow.place_new(order.status, letter_state)))
            cycle.new_data[order.order_id] = data
            return
        exported_batch = await exports.live_export(tx, order.order_id)
        before = await mirror.get(tx, order.order_id) if exported_batch and seen.content_hash != digest else None
        await mirror.upsert(tx, order, initial_state=seen.workflow_state, payment_state=payment, exists=True)
        await mirror.set_content_hash(tx, order.order_id, digest)
        state = seen.workflow_state
        reaction = workflow.react(
            letter=order.status, letter_state=letter_state, state=state, hold_by=seen.hold_by,
            content_changed=bool(seen.content_hash) and seen.content_hash != digest,
            exported_batch=exported_batch,
            paid_now=payment is PaymentState.PAID and seen.payment_state is not PaymentState.PAID, flow=rules.flow,
            letter_changed=seen.status != order.status, tracking=cycle.tracking.get(order.order_id))
        mover = self._mover(rules)
        if reaction.payment_received:
            await audit.write(tx, JOB, "payment_received", str(order.order_id), {"status": order.status})
        if reaction.flag:
            await mover.flag(tx, order.order_id, reaction.flag.kind, reaction.flag.detail, cycle.changes)
        if reaction.move:
            moved = await mover.move(tx, order.order_id, state, reaction.move, cycle.changes)
            at = reaction.move.to_state
            for step in reaction.further if moved else ():  # staff jumped several states: each one in the history
                if not await mover.move(tx, order.order_id, at, step, cycle.changes):
                    break
                at = step.to_state
        if reaction.cancelled_after_export:
            cycle.cancelled_after_export.append(order)
            label = await mirror.issued_label(tx, order.order_id)
            if label is not None:
                carrier, file_name = label
                await mover.flag(tx, order.order_id, "label_recall",
                                 _("the {carrier} label for this order was issued in {file}: void it in the "
                                   "carrier's system and recall the parcel if it was handed over").format(
                                       carrier=carrier, file=file_name), cycle.changes)
        if reaction.corrected_after_export and before is not None:
            cycle.corrected.append((before.order, order))

    async def _tracked_since(self, tx: Connection, rules: OrderRules, cycle: Cycle) -> None:
        """Hand-set 出荷済 orders flagged for want of a tracking number whose CS-Cart shipment has one now (CS-Cart
        does not always bump updated_at for a shipment, so they are looked up every run until then)."""
        mover = self._mover(rules)
        for order_id in await order_flags.open_of_kind(tx, hand_work.SHIPPED_BY_HAND):
            numbers = cycle.tracking.get(order_id, ())
            current = await mirror.get(tx, order_id) if numbers else None
            if current is None or current.workflow_state is not S.SHIPPING_INSTRUCTED or \
                    rules.flow.state_for_letter(current.order.status) not in (S.SHIPPED, S.NOTIFIED, S.COMPLETE):
                continue
            move = workflow.Move(S.SHIPPED, _("{state} set by staff in CS-Cart; shipment(s) {numbers}").format(
                state=S.SHIPPED.label_ja, numbers=", ".join(numbers)), write_status=False)
            if await mover.move(tx, order_id, S.SHIPPING_INSTRUCTED, move, cycle.changes):
                await order_flags.resolve(tx, order_id, hand_work.SHIPPED_BY_HAND, iso(self.clock.now()))

    # -- gates ---------------------------------------------------------------------------------------------------

    async def _gate(self, tx: Connection, rules: OrderRules, cycle: Cycle) -> None:
        candidates = await mirror.gate_candidates(tx)
        if not candidates:
            return
        known_products = frozenset((await bindings.all_of(tx, *PRODUCT_BINDING)).values())
        known_customers = set((await bindings.all_of(tx, *CUSTOMER_BINDING)).values())
        limits = await credit_limits(tx)
        mirrored = await mirror.get_many(tx, [order_id for order_id, hold_by, _ in candidates
                                              if hold_by != workflow.STAFF], known=cycle.new_orders)
        # the exposure matters only to a customer with a 与信限度額: only theirs is read (not every open order's)
        limited = {code for current in mirrored.values() if (code := current.order.customer_code or "")
                   and limits.get(code, (None, Decimal(0)))[0] is not None}
        exposure = defaultdict(Decimal, await credit_exposure(tx, waiting=False, customers=limited)
                               if limited else {})  # grows with each order sent
        mover = self._mover(rules)
        catalog_success = await last_catalog_success(tx)
        for order_id, hold_by, hold_reason in candidates:
            if hold_by == workflow.STAFF:
                continue  # staff decide; the bridge does not release their holds
            current = mirrored[order_id]
            order = current.order
            limit, _ = limits.get(order.customer_code or "", (None, Decimal(0)))
            context = GateContext(
                payment_state=current.payment_state or PaymentState.UNPAID,
                customer_known=bool(order.customer_code) and order.customer_code in known_customers,
                credit_limit=limit, exposure=exposure.get(order.customer_code or "", Decimal(0)),
                known_product_codes=known_products, direct_ship_flagged=cycle.direct_ship_flagged,
                direct_ship_surcharge=Decimal(order.extra.get("direct_ship_surcharge", "0")),
            )
            decision = gate_order(order, context, rules.flow, rules.pricing)
            if waits_for_binding(decision, order.placed_at, catalog_success, self.clock.now(),
                                 self.settings.unbound_product_wait_seconds):
                continue  # a product the catalog has not bound yet: wait in 受注, no 保留 mail (catalog_wait.py)
            state = current.workflow_state
            step = workflow.after_gates(held_reasons=list(decision.reasons) if decision.held else [],
                                        release_reason=decision.reason_text(), state=state,
                                        hold_reason=hold_reason, flow=rules.flow)
            outcome = step.outcome
            if outcome in (Gate.HOLD, Gate.STILL_HELD, Gate.SAME_HOLD):
                cycle.held.append((order_id, step.reason))
                if outcome is Gate.SAME_HOLD:
                    continue  # held for the same reasons as last cycle: nothing new to record or log
                if outcome is Gate.STILL_HELD:
                    await mover.still_held(tx, order_id, step.reason, workflow.BRIDGE)
                else:
                    await mover.move(tx, order_id, state, workflow.Move(S.HOLD, step.reason, workflow.BRIDGE),
                                     cycle.changes)
                log.info("orders.held", order_id=order_id, reason=step.reason)
            elif outcome is Gate.REFUSED:
                await mover.move(tx, order_id, state, workflow.Move(S.SHIPPING_INSTRUCTED, decision.reason_text()),
                                 cycle.changes)
                await mirror.set_hold_reason(tx, order_id, step.reason)
            elif outcome is Gate.RELEASE:
                if Flag.MISC_CUSTOMER in decision.flags:
                    await mover.flag(tx, order_id, "misc_customer", "; ".join(decision.notes), cycle.changes)
                exposure[order.customer_code or ""] += order.total  # later orders of this customer see this one
                cycle.released.append((order, decision))

    # -- export --------------------------------------------------------------------------------------------------

    async def _export(self, rules: OrderRules, cycle: Cycle, now: datetime) -> int:
        """The released orders into one 受注 file, exactly once; returns how many orders it carries."""
        if not cycle.released:
            return 0
        export_rules = rules.export_rules()
        released = sorted(cycle.released[: self.settings.max_orders_per_file], key=lambda item: item[0].order_id)
        slips = []
        for order, decision in released:
            party = export.Party(decision.customer_code, order.billing.name or order.email)
            surcharge = Decimal(order.extra.get("direct_ship_surcharge", "0")) if order.direct_ship else Decimal(0)
            slips.append(export.slip_rows(order, party, export_rules, surcharge=surcharge))
        cells, problems, text_changes = export.prepare_slips(slips, self.layout, self.smile.substitutions)
        for index, ((order, _decision), rows) in enumerate(zip(released, slips, strict=True)):
            if (mismatch := export.total_mismatch(order, rows)) is not None:
                problems.setdefault(index, []).append(mismatch)
        accepted: list[tuple[Order, GateDecision, list[list[str]]]] = []
        refused: list[tuple[Order, str]] = []
        for index, (order, decision) in enumerate(released):
            if index in problems:
                refused.append((order, _("受注 file refuses this order: {problems}").format(
                    problems="; ".join(problems[index]))))
            else:
                accepted.append((order, decision, cells[index]))
        held = Changes()
        if refused:
            mover = self._mover(rules)
            async with self.store.transaction() as tx:
                states = await mirror.states_of(tx, [order.order_id for order, _ in refused])
                for order, reason in refused:
                    if states[order.order_id] is S.HOLD:  # held for this already; record only a new reason
                        await mover.still_held(tx, order.order_id, reason, workflow.BRIDGE)
                        continue
                    await mover.move(tx, order.order_id, states[order.order_id],
                                     workflow.Move(S.HOLD, reason, workflow.BRIDGE), held)
                await ob.enqueue(tx, held.status_ops, self.clock.time())
            for kind, payload in held.events:
                await self._publish(kind, payload)
        if not accepted:
            return 0
        content = export.render_cells([row for _, _, rows in accepted for row in rows], self.layout)
        async with self.store.transaction() as tx:
            batch_id = await exports.next_batch_id(tx, "order")
            batch = ExportBatch.of(batch_id, "order", export.file_name(self.layout, batch_id, now),
                                 tuple(o.order_id for o, _, _ in accepted), sum(len(r) for _, _, r in accepted),
                                 content)
            reasons: dict[int, str] = {order.order_id: _("受注 batch {batch} ({file}): {reason}").format(
                batch=batch_id, file=batch.file_name, reason=decision.reason_text())
                       for order, decision, _cells in accepted}
            left = await mirror.export_many(tx, reasons, S.SHIPPING_INSTRUCTED, batch_id)
            cycle.changes.events.extend(("order_state_changed", {
                "order_id": order_id, "from_state": left[order_id].value, "to_state": S.SHIPPING_INSTRUCTED.value,
                "reason": reason}) for order_id, reason in reasons.items())
            await exports.record(tx, batch)
        await self.batches.finish(batch.batch_id, rules,
                                  {o.order_id: Flag.NOTIFY_PAYMENT_RECEIVED in d.flags for o, d, _ in accepted},
                                  addon_mails=await addon_mails(self.cscart))
        record_changes(self.layout, text_changes)  # substituted or truncated values, counted and logged
        log.info("orders.exported", batch=batch_id, file=batch.file_name, orders=len(accepted), rows=batch.rows)
        return len(accepted)

    async def _cancellation_file(self, rules: OrderRules, orders: list[Order], now: datetime) -> Text:
        """A 赤伝: the cancelled orders' rows with negated quantities and amounts, as its own batch."""
        export_rules = rules.export_rules()
        rows: list[dict[str, Any]] = []
        for order in orders:
            code = order.customer_code or rules.flow.gating.unknown_customer.misc_code
            surcharge = Decimal(order.extra.get("direct_ship_surcharge", "0")) if order.direct_ship else Decimal(0)
            rows += export.slip_rows(order, export.Party(code, order.billing.name or order.email), export_rules,
                                     sign=export_rules.cancel_sign, surcharge=surcharge)
        try:
            content = export.render(rows, self.layout, self.smile.substitutions)
        except ValidationFailed as exc:
            return _("赤伝 file not written: {error}; cancel the slips in SMILE by hand").format(error=exc)
        async with self.store.transaction() as tx:
            batch_id = await exports.next_batch_id(tx, "cancel")
            batch = ExportBatch.of(batch_id, "cancel", export.file_name(self.layout, batch_id, now),
                                 tuple(o.order_id for o in orders), len(rows), content)
            for order in orders:  # an earlier 赤伝 (of an edit) stays in the history, superseded
                await exports.supersede(tx, order.order_id, _("followed by 赤伝 batch {batch}").format(batch=batch_id),
                                        kind="cancel")
            await exports.record(tx, batch)
        await self.batches.finish(batch_id, rules, {})
        return _("赤伝 file {file} for order(s) {orders}").format(file=batch.file_name,
                                                                 orders=", ".join(str(o.order_id) for o in orders))

    async def _corrections(self, rules: OrderRules, edited: list[tuple[Order, Order]], now: datetime) -> list[Text]:
        """Orders edited after export: a 赤伝 of the slips SMILE has, then one corrected 受注 file with the orders as
        they are now (each order's old export row superseded in the transaction that records the new batch). An
        order whose corrected rows cannot be written (or do not add up) keeps its flag and is named in the note."""
        notes = [await self._cancellation_file(rules, [old for old, _ in edited], now)]
        export_rules = rules.export_rules()
        rows: list[dict[str, Any]] = []
        refused: list[Text] = []
        for _old, order in edited:
            code = order.customer_code or rules.flow.gating.unknown_customer.misc_code
            surcharge = Decimal(order.extra.get("direct_ship_surcharge", "0")) if order.direct_ship else Decimal(0)
            slip = export.slip_rows(order, export.Party(code, order.billing.name or order.email), export_rules,
                                    surcharge=surcharge)
            problem = export.total_mismatch(order, slip)
            if problem:
                refused.append(_("order {order}: {problem}").format(order=order.order_id, problem=problem))
                continue
            rows += slip
        orders = sorted({int(row["受注№"]) for row in rows})
        if refused:
            notes.append(_("corrected 受注 not written for {orders}; enter the correction in SMILE").format(
                orders=joined(refused, "; ")))
        if not rows:
            return notes
        try:
            content = export.render(rows, self.layout, self.smile.substitutions)
        except ValidationFailed as exc:
            return [*notes, _("corrected 受注 file not written: {error}; enter the corrections in SMILE by hand")
                    .format(error=exc)]
        async with self.store.transaction() as tx:
            batch_id = await exports.next_batch_id(tx, "order")
            batch = ExportBatch.of(batch_id, "order", export.file_name(self.layout, batch_id, now), tuple(orders),
                                 len(rows), content)
            for order_id in orders:
                await exports.supersede(tx, order_id, _("edited in CS-Cart: corrected in 受注 batch {batch}").format(
                    batch=batch_id))
            await exports.record(tx, batch)
            await mirror.mark_exported_many(tx, orders, batch_id)
        await self.batches.finish(batch_id, rules, {})
        return [*notes, _("corrected 受注 file {file} for order(s) {orders}").format(
            file=batch.file_name, orders=", ".join(map(str, orders)))]

    # -- read-back and alerts ----------------------------------------------------------------------------------

    async def _readback(self, now: datetime) -> list[Text]:
        notes: list[Text] = []
        result = await readback.read_inbox(self.store, self.smile, self.dirs)
        if result.files:
            notes.append(_("read-back: {count} order(s) confirmed by SMILE from {files}").format(
                count=len(result.confirmed), files=", ".join(result.files)))
        if result.refused:
            notes.append(_("read-back refused: {files} (see the error folder)").format(files=", ".join(result.refused)))
        for file, layout, reason in result.quarantined:
            await self._publish("file_quarantined", {"file": file, "layout": layout, "reason": reason})
        flagged = Changes()
        mover = Mover(JOB, "orders", self.rules().flow, self.clock.now)
        async with self.store.transaction() as tx:
            late = await readback.unconfirmed(tx, now, timedelta(hours=self.settings.confirm_within_hours))
            for order_id in late:
                await mover.flag(tx, order_id, "unconfirmed",
                                 _("SMILE has not confirmed this order within {hours:g} h of export; check the "
                                   "SMILE import (bridge orders resend ID if it is absent)").format(
                                       hours=self.settings.confirm_within_hours), flagged)
        metrics.ORDERS_UNCONFIRMED.set(len(late))
        for kind, payload in flagged.events:
            await self._publish(kind, payload)
        if late:
            notes.append(_("{count} exported order(s) not confirmed by SMILE in time").format(count=len(late)))
        return notes

    async def _publish(self, kind: str, payload: dict[str, Any]) -> None:
        from bridge.events import EVENT_FIELDS

        if kind not in EVENT_FIELDS:
            return  # kinds the event schema does not know yet stay in the log and the flags table
        try:
            await self.events.publish(kind, payload)
        except Exception:
            log.warning("orders.event_failed", kind=kind, exc_info=True)


async def check_letters(client: Any, flow: OrderFlowRules) -> frozenset[str]:
    """order_flow.yaml's letters against CS-Cart's ``GET /statuses``: a missing letter raises ``ConfigError`` naming
    it; returns the letters whose status means "payment received"."""
    statuses = await client.statuses()
    problems = check_status_letters(flow, {letter: s.description for letter, s in statuses.items()})
    if problems:
        raise ConfigError(_("orders job not started: {problems}").format(problems="; ".join(problems)))
    return frozenset(letter for letter, s in statuses.items() if s.params.get("payment_received") == "Y")


async def startup_check(client: CSCartClient | None, flow: OrderFlowRules) -> None:
    """Daemon start-up: a letter of order_flow.yaml that CS-Cart lacks stops the start (``ConfigError``). CS-Cart
    not answering does not: the daemon starts and every orders run checks the letters again."""
    if client is None:
        return
    try:
        await check_letters(client, flow)
    except RetryableError as exc:
        log.warning("orders.statuses_unchecked", error=str(exc),
                    hint="CS-Cart did not answer at start-up; each orders run checks the status letters")
    except AuthError as exc:  # keep running, not ready, alert; SIGHUP or a rotated credential recovers
        log.error("orders.statuses_unchecked", error=str(exc), hint=exc.hint)


async def _flush_new(tx: Connection, cycle: Cycle) -> None:
    """Mirror the cycle's new and merely refreshed orders in one go (a burst of thousands costs a few statements,
    not thousands)."""
    await mirror.refresh_many(tx, cycle.refreshed)
    cycle.refreshed.clear()
    await mirror.insert_many(tx, [(order, placed.state, payment) for order, payment, _, placed in cycle.new],
                             data=cycle.new_data, first_seen={
                                 order.order_id: (digest, placed.hold_by, placed.hold_reason)
                                 for order, _, digest, placed in cycle.new})
    cycle.new_orders.update((order.order_id, order) for order, _, _, _ in cycle.new)
    cycle.new_data.clear()
    for order, _flag, _digest, placed in cycle.new:
        if placed.record_hold and placed.hold_reason:
            await mirror.transition(tx, order.order_id, S.HOLD, placed.hold_reason)
    cycle.new.clear()
