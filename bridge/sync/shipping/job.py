"""The shipping job: label files out, result files in, shipments, the customer's shipping mail, the delay watch.

One run (``jobs.shipping.interval``, default every minute):
1. finish any label file a crash left recorded but unwritten;
2. for each carrier whose schedule in rules/shipping.yaml is due (times of day JST, or every N minutes): one label
   file with the orders in 出荷指示 (bridge/sync/shipping/labels.py); rows that cannot be made valid → 保留;
3. every complete result file in the results inbox: checked whole, applied or refused (shipping_import.py);
4. 出荷済 → 出荷通知済 (the mail) when due, 出荷通知済 → 完了 after it (shipping_notify.py);
5. the delay watch: ``bridge_shipments_delayed`` and an event per newly delayed order.

``bridge carriers export`` and ``bridge carriers import FILE`` run steps 2 and 3 by hand.
"""

from __future__ import annotations

import time as monotonic
from collections.abc import Callable
from datetime import datetime, time, timedelta
from pathlib import Path

from bridge.analytics.hooks import AnalyticsFeed
from bridge.carriers.rules import Schedule, ShippingRules
from bridge.cscart.client import CSCartClient
from bridge.domain.time import JST, Clock, iso
from bridge.events import EventPublisher
from bridge.i18n import _, N_
from bridge.smile.settings import SmileSettings
from bridge.store import Store, cursors
from bridge.sync.base import JobResult, RunOptions
from bridge.sync.jobkit import finish
from bridge.sync.orders.rules import OrderRules, current_order_rules
from bridge.sync.shipping.flow import JOB, ShippingContext, shipping_rules
from bridge.sync.shipping.labels import export_labels, recover
from bridge.sync.shipping.notify import NotifyOutcome, notify_and_complete, watch_delays
from bridge.sync.shipping.results import ResultInbox, new_inbox, read_inbox, result_dirs


def last_slot(schedule: Schedule, now: datetime) -> datetime | None:
    """The latest scheduled time of day (JST) at or before ``now``; None for a schedule without times."""
    local = now.astimezone(JST)
    slots = [time(int(t[:2]), int(t[3:])) for t in schedule.times]
    for day in (local.date(), local.date() - timedelta(days=1)):
        passed = [datetime.combine(day, at, tzinfo=JST) for at in slots
                  if datetime.combine(day, at, tzinfo=JST) <= local]
        if passed:
            return max(passed)
    return None


def is_due(schedule: Schedule, last_run: datetime | None, now: datetime) -> bool:
    """Every N minutes since the last export, or a time of day passed since it (a missed time is caught up)."""
    if schedule.every_minutes:
        return last_run is None or now - last_run >= timedelta(minutes=schedule.every_minutes)
    slot = last_slot(schedule, now)
    return slot is not None and (last_run is None or last_run < slot)


def cursor_name(carrier: str) -> str:
    return f"shipping/export/{carrier}"


async def due_carriers(sc: ShippingContext, now: datetime) -> list[str]:
    due = []
    async with sc.store.transaction() as tx:
        for name in ("yamato", "sagawa", "japanpost"):
            carrier = sc.rules.carriers.get(name)
            if carrier is None or not carrier.enabled:
                continue
            last = await cursors.get(tx, cursor_name(name))
            if is_due(carrier.schedule, datetime.fromisoformat(last) if last else None, now):
                due.append(name)
    return due


async def mark_exported(sc: ShippingContext, carriers: list[str], now: datetime) -> None:
    async with sc.store.transaction() as tx:
        for name in carriers:
            await cursors.set_(tx, cursor_name(name), iso(now))


# what became of a result file (Processed.outcome, bridge/smile/inbox.py), in words
OUTCOMES = {"applied": N_("applied"), "rejected": N_("refused, moved to error/"), "duplicate": N_("already imported"),
            "too_large": N_("too large, moved to error/"), "bad_name": N_("name too long, moved to error/")}

class ShippingJob:
    name = JOB

    def __init__(self, *, shipping: Callable[[], ShippingRules | None], orders: Callable[[], OrderRules],
                 cscart: CSCartClient | None, rules_dir: Path, smile: SmileSettings, data_dir: Path, store: Store,
                 clock: Clock, events: EventPublisher, wake_dispatcher: Callable[[], None],
                 analytics: AnalyticsFeed) -> None:
        """``shipping``/``orders``: shipping.yaml (None when the folder has none) and the order rules in force;
        ``cscart``: for the add-on's current status letters (the ones the job writes)."""
        self.shipping, self.orders, self.cscart, self.rules_dir = shipping, orders, cscart, rules_dir
        self.smile, self.data_dir, self.store, self.clock, self.events = smile, data_dir, store, clock, events
        self.wake_dispatcher, self.analytics = wake_dispatcher, analytics
        self._inbox: ResultInbox | None = None  # one per job: it watches file sizes across runs

    def inbox(self, sc: ShippingContext) -> ResultInbox:
        if self._inbox is None or self._inbox.dirs != result_dirs(sc):
            self._inbox = new_inbox(sc)
        self._inbox.sc = sc
        return self._inbox

    async def context(self) -> ShippingContext:
        """The rules in force, with the smile_bridge add-on's current status letters."""
        rules = shipping_rules(self.shipping(), self.rules_dir)
        flow = (await current_order_rules(self.orders(), self.cscart)).flow
        return ShippingContext(rules, flow, self.store, self.clock, self.events, self.wake_dispatcher, self.smile,
                               self.data_dir, self.cscart)

    async def run(self, options: RunOptions) -> JobResult:
        started = monotonic.perf_counter()
        sc = await self.context()
        now = self.clock.now()
        result = JobResult()
        if not options.dry_run:
            result.notes.extend(await recover(sc))
        due = await due_carriers(sc, now)
        exported = await export_labels(sc, now, carriers=due, dry_run=options.dry_run)
        result.read = exported.labelled + len(exported.held)
        if options.dry_run:
            result.plan = exported.plan() or [_("label files due for: {carriers}").format(
                carriers=", ".join(due) or _("no carrier"))]
            result.notes.append(_("dry run: the results inbox and the shipping mails are not touched"))
            return result
        await mark_exported(sc, due, now)
        result.notes.extend(exported.notes)
        result.notes.extend(_("order {order} → 保留: {reason}").format(order=r.order_id, reason=r.message)
                            for r in exported.held)
        inbox = self.inbox(sc)
        inbox.outcomes.clear()
        processed = await read_inbox(sc, inbox)
        for item in processed:
            result.notes.append(_("result file {name}: {outcome}").format(
                name=item.name, outcome=_(OUTCOMES.get(item.outcome, item.outcome))))
        for outcome in inbox.outcomes:
            result.notes.extend(outcome.notes)
        notify = NotifyOutcome()
        await notify_and_complete(sc, now, notify)
        await watch_delays(sc, now, notify)
        result.notes.extend(notify.notes)
        if notify.delays:
            result.notes.append(_("{count} order(s) in 出荷指示 are late: {orders}").format(
                count=len(notify.delays), orders=", ".join(str(d.order_id) for d in notify.delays[:10])))
        shipped = sum(len(o.shipped) for o in inbox.outcomes)
        result.read += sum(o.new_parcels + o.duplicates for o in inbox.outcomes)
        result.changed = (exported.labelled + len(exported.held) + len(exported.released) + shipped
                          + len(notify.notified) + len(notify.completed))
        result.enqueued = (len(exported.held) + len(exported.released) + sum(o.shipments for o in inbox.outcomes)
                           + len(notify.notified) + len(notify.completed))
        result.failed = sum(1 for item in processed if item.outcome in ("rejected", "too_large"))
        await self.analytics.orders_changed()
        return finish(JOB, result, options, started, labelled=exported.labelled, shipped=shipped,
                      notified=len(notify.notified), completed=len(notify.completed), delayed=len(notify.delays))
