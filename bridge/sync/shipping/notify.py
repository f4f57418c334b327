"""出荷済 → 出荷通知済 → 完了, and the delay watch.

* 出荷済 → 出荷通知済: when the notification is due (rules/shipping.yaml ``notification``: at once, or the next of the
  set times) and every CS-Cart shipment of the order has been created, one ``order.status`` write with the
  notify flags of rules/order_flow.yaml: CS-Cart mails the customer, once, with the shipments (carrier, tracking
  number and the tracking URL in the shipment's comments). The key of the write makes a second mail impossible.
* 出荷通知済 → 完了: once that write is done (so CS-Cart sees the two statuses in order).
* Delay watch: orders in 出荷指示 longer than ``delay_watch.business_days`` or past the requested delivery date →
  ``bridge_shipments_delayed`` (the BridgeShipmentDelayed alert), an ``order_flagged`` event (flag
  ``shipment_delayed``) and a staff flag, once per delay; the flag closes when the order leaves 出荷指示. With
  order_flow.yaml ``customer_mails.delay`` the customer gets the add-on's 遅延のお知らせ once per order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bridge import metrics
from bridge.carriers.delays import BusinessCalendar, Delay, InstructedOrder, find_delays
from bridge.carriers.notify import notification_due
from bridge.carriers.rules import resolve_service
from bridge.domain.orders import WorkflowState
from bridge.i18n import Text, _
from bridge.store import orders as mirror
from bridge.store import outbox as ob
from bridge.sync.orders.mails import DELAY, addon_mails, mail_op
from bridge.sync.orders.moves import Changes
from bridge.sync.shipping.flow import (
    DELAY_FLAG,
    ShippingContext,
    enqueue,
    flag,
    move,
    publish,
    resolve_flags,
)

S = WorkflowState
WAITING, DONE, DEAD = ("pending", "in_flight"), "done", "dead"


@dataclass(slots=True)
class NotifyOutcome:
    notified: list[int] = field(default_factory=list)
    completed: list[int] = field(default_factory=list)
    delays: list[Delay] = field(default_factory=list)
    notes: list[Text] = field(default_factory=list)


async def notify_and_complete(sc: ShippingContext, now: datetime, outcome: NotifyOutcome) -> None:
    changes = Changes()
    async with sc.store.transaction() as tx:
        for order_id, entered in (await mirror.entered_at(tx, S.SHIPPED)).items():
            if now < notification_due(datetime.fromisoformat(entered), sc.rules.notification):
                continue
            states = await ob.states_by_key_prefix(tx, f"carriers/shipment/{order_id}/")
            if any(state in WAITING for state in states):
                continue  # CS-Cart has not got every shipment yet: the mail would lack a tracking number
            if DEAD in states:
                outcome.notes.append(_("order {order}: a CS-Cart shipment failed (see bridge dlq); the shipping mail "
                                       "waits until it is replayed").format(order=order_id))
                continue
            if await move(tx, sc, order_id, S.NOTIFIED, _("shipping mail with the tracking link"), changes):
                outcome.notified.append(order_id)
        for order_id in await mirror.entered_at(tx, S.NOTIFIED):
            if order_id in outcome.notified:
                continue  # its mail goes out with this run's writes; 完了 follows at the next run
            states = await ob.states_by_key_prefix(tx, f"carriers/{order_id}/status/{S.NOTIFIED.value}/")
            if any(state != DONE for state in states):
                continue  # the mail's status write first, then 完了
            if await move(tx, sc, order_id, S.COMPLETE, _("shipping mail sent; order complete"), changes):
                outcome.completed.append(order_id)
        await enqueue(tx, sc, changes)
    await publish(sc, changes)
    outcome.notes.extend(changes.notes)
    if changes.status_ops:
        sc.wake_dispatcher()


async def watch_delays(sc: ShippingContext, now: datetime, outcome: NotifyOutcome) -> None:
    watch = sc.rules.delay_watch
    changes = Changes()
    wants_mail = sc.flow.customer_mails.delay and await addon_mails(sc.cscart)
    async with sc.store.transaction() as tx:
        instructed = []
        for order_id, entered in (await mirror.entered_at(tx, S.SHIPPING_INSTRUCTED, moved_only=True)).items():
            current = await mirror.get(tx, order_id)
            assert current is not None
            resolved = resolve_service(current.order, sc.rules)
            carrier = "" if isinstance(resolved, str) else resolved[0].carrier
            instructed.append(InstructedOrder(order_id, datetime.fromisoformat(entered),
                                              current.order.delivery_date, carrier))
        delays = find_delays(instructed, BusinessCalendar.from_rules(watch), now, watch.business_days)
        mails = []
        for delay in delays:
            opened = await flag(tx, sc, delay.order_id, DELAY_FLAG,
                                _("not shipped: {reasons}").format(reasons="; ".join(delay.reasons)),
                                changes)
            if opened and wants_mail:  # 遅延のお知らせ, once per order
                mails.append(mail_op(delay.order_id, DELAY))
        await ob.enqueue(tx, mails, sc.clock.time())
        await resolve_flags(tx, sc, DELAY_FLAG, keep={d.order_id for d in delays})
    metrics.SHIPMENTS_DELAYED.set(len(delays))
    await publish(sc, changes)
    if mails:
        sc.wake_dispatcher()
    outcome.delays = delays
