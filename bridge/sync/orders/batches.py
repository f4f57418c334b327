"""受注 and 赤伝 batches after they are recorded: the file made to exist, the batch marked written and the 出荷指示
status writes enqueued, in that order (a crash in between is finished by ``recover`` at the next run); and the
resend of one order SMILE's read-back shows absent (``bridge orders resend``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import structlog

from bridge import metrics
from bridge.domain.orders import WorkflowState
from bridge.domain.time import Clock
from bridge.errors import ValidationFailed
from bridge.i18n import Text, _, format_local
from bridge.smile.layout import FileLayout
from bridge.smile.settings import SmileSettings
from bridge.store import Store, audit, exports
from bridge.store import orders as mirror
from bridge.store import outbox as ob
from bridge.store.exports import ExportBatch
from bridge.sync.orders import export, workflow
from bridge.sync.orders.mails import PAYMENT_RECEIVED, mail_op
from bridge.sync.orders.moves import status_op
from bridge.sync.orders.rules import OrderRules

log = structlog.get_logger("bridge.sync.orders")

S = WorkflowState
JOB = "orders"


@dataclass(frozen=True, slots=True)
class Batches:
    store: Store
    clock: Clock
    smile: SmileSettings
    outbox_dir: Path  # where the 受注 files go (SMILE's import folder)
    wake_dispatcher: Callable[[], None]

    @property
    def layout(self) -> FileLayout:
        return self.smile.layout("order_import")

    async def finish(self, batch_id: str, rules: OrderRules, payment_mails: dict[int, bool], *,
                     addon_mails: bool = True) -> Text:
        """Make the recorded file exist, mark the batch written and enqueue the 出荷指示 status writes, in that
        order; ``payment_mails`` names the 先入金 orders whose customer hears of the payment: the add-on's 入金確認
        mail after the write, or (no add-on: ``addon_mails`` false) CS-Cart's own status mail of the write."""
        pending = [b for b in await exports.pending(self.store) if b.batch_id == batch_id]
        if not pending:
            return _("batch {batch} already finished").format(batch=batch_id)
        batch = pending[0]
        done = export.finish_file(self.outbox_dir, batch)
        async with self.store.transaction() as tx:
            await exports.mark_written(tx, batch.batch_id)
            if batch.kind == "order":
                states = await mirror.states_of(tx, list(batch.order_ids))
                instructed = [order_id for order_id in batch.order_ids
                              if states.get(order_id) is S.SHIPPING_INSTRUCTED]  # else cancelled since; flagged
                ops = [status_op(workflow.status_write(
                           order_id, S.RECEIVED, S.SHIPPING_INSTRUCTED, rules.flow,
                           notify_customer=not addon_mails and payment_mails.get(order_id, False),
                           idempotency_key=f"orders/{order_id}/status/shipping_instructed/{batch.batch_id}"))
                       for order_id in instructed]
                if addon_mails:
                    ops += [mail_op(order_id, PAYMENT_RECEIVED) for order_id in instructed
                            if payment_mails.get(order_id)]
                await ob.enqueue(tx, ops, self.clock.time())
            await audit.write(tx, JOB, "batch_written", batch.batch_id, f"{batch.file_name}: {done}")
        metrics.JOB_RECORDS.labels(sync_job=JOB, stage="exported").inc(len(batch.order_ids))
        self.wake_dispatcher()
        return _("batch {batch} {file}: {done}").format(batch=batch.batch_id, file=batch.file_name, done=done)

    async def recover(self, rules: Callable[[], Awaitable[OrderRules]]) -> list[Text]:
        """Finish every batch a crash left in ``writing`` (run at the start of each cycle)."""
        notes: list[Text] = []
        pending = await exports.pending(self.store)
        if not pending:
            return notes
        in_force = await rules()
        for batch in pending:
            note = await self.finish(batch.batch_id, in_force, {})
            log.warning("orders.batch_recovered", batch=batch.batch_id, note=note)
            notes.append(_("recovered {note}").format(note=note))
        return notes

    async def resend(self, order_id: int, rules: OrderRules) -> str:
        """Export one order again, in a batch of its own, only when SMILE's read-back shows it absent (never
        confirmed). The old export row is superseded with the reason, in the transaction that records the new
        batch."""
        async with self.store.transaction() as tx:
            current = await mirror.get(tx, order_id)
            live = await exports.live_export(tx, order_id)
        if current is None:
            raise ValidationFailed(_("order {id} is not in the mirror; check the id (bridge orders list)").format(
                id=order_id))
        if live is None:
            raise ValidationFailed(_("order {id} was never sent to SMILE ({state}); the orders job sends it once it "
                                     "passes the gates").format(id=order_id, state=current.workflow_state.label_ja))
        if current.confirmed_at:
            raise ValidationFailed(_(
                "order {id} is in SMILE as 伝票№ {slip} / 処理連番 {serial} (read back {confirmed}); resending would "
                "duplicate it").format(id=order_id, slip=current.smile_slip_no, serial=current.smile_serial,
                                       confirmed=format_local(current.confirmed_at)))
        if current.workflow_state is S.CANCELLED:
            raise ValidationFailed(_("order {id} is cancelled; it is not resent").format(id=order_id))
        order = current.order
        code = order.customer_code or rules.flow.gating.unknown_customer.misc_code
        surcharge = Decimal(order.extra.get("direct_ship_surcharge", "0")) if order.direct_ship else Decimal(0)
        rows = export.slip_rows(order, export.Party(code, order.billing.name or order.email), rules.export_rules(),
                                surcharge=surcharge)
        layout = self.layout
        content = export.render(rows, layout, self.smile.substitutions)
        async with self.store.transaction() as tx:
            batch_id = await exports.next_batch_id(tx, "order")
            await exports.supersede(tx, order_id, _("resent in {batch}: SMILE read-back shows the order absent").format(
                batch=batch_id))
            batch = ExportBatch.of(batch_id, "order", export.file_name(layout, batch_id, self.clock.now()),
                                 (order_id,), len(rows), content)
            await exports.record(tx, batch)
            await mirror.transition(tx, order_id, current.workflow_state,
                                    _("resent to SMILE in 受注 batch {batch} ({file}): not in the read-back").format(
                                        batch=batch_id, file=batch.file_name))
            await audit.write(tx, "cli", "order_resent", str(order_id), batch.file_name)
        return await self.finish(batch_id, rules, {})
