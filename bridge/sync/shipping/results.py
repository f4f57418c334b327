"""Result files → CS-Cart shipments → 出荷済.

A file is checked whole before anything is applied: the parser's errors (bridge/carriers/results.py) plus what only
the mirror knows — unknown order numbers, orders not in 出荷指示, item ids the order does not have, a tracking number
that is not the order's carrier's. Any error refuses the whole file, naming file, line and field; warnings (a failing
7DR check digit) are reported and the rows still count.

Applying, in one store transaction: each new parcel is recorded by (order, tracking number) — a parcel already
recorded is a no-op, so re-importing a file changes nothing — and a ``shipment.create`` op is enqueued; an order
whose items are all covered moves to 出荷済 (its own status write, queued behind the order's earlier ones). Several parcels for a whole order become one CS-Cart shipment (CS-Cart cannot ship the same items
twice) whose comments list every parcel with its tracking URL; parcels with item_id/quantity are partial shipments.

The inbox (``ResultInbox``) is the SMILE inbox with carriers' files: the same completeness, size, duplicate,
archive and error-folder rules, and the same ``smile_files`` trail (file type ``carrier_result``).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from bridge import metrics
from bridge.carriers.notify import tracking_link
from bridge.carriers.results import ParsedShipment, Problem, ResultFile, parse_result
from bridge.carriers.rules import resolve_service
from bridge.carriers.tracking import CARRIER_NAMES, check_number
from bridge.domain.orders import Order, WorkflowState
from bridge.domain.time import JST, iso
from bridge.i18n import Text, _
from bridge.smile.inbox import Inbox, InboxFile, Processed, sha256_of
from bridge.smile.reader import stat_signature
from bridge.smile.settings import SmileDirs, SmileSettings
from bridge.store import audit
from bridge.store import carriers as carrier_store
from bridge.store import orders as mirror
from bridge.store import outbox as ob
from bridge.store.db import Connection, Store
from bridge.sync.orders.moves import Changes
from bridge.sync.shipping.flow import JOB, ShippingContext, enqueue, log, move, publish

S = WorkflowState
FILE_TYPE = "carrier_result"
SHIPPABLE = (S.SHIPPING_INSTRUCTED, S.SHIPPED, S.NOTIFIED, S.COMPLETE)


@dataclass(slots=True)
class ImportOutcome:
    source: str
    problems: list[Problem] = field(default_factory=list)
    new_parcels: int = 0
    duplicates: int = 0
    shipments: int = 0  # shipment.create ops enqueued
    shipped: list[int] = field(default_factory=list)  # orders moved to 出荷済
    notes: list[Text] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> Text:
        return _("{source}: {new} new parcel(s), {duplicates} already imported, {shipments} shipment(s) for "
                 "CS-Cart, {orders} order(s) → 出荷済").format(
            source=self.source, new=self.new_parcels, duplicates=self.duplicates, shipments=self.shipments,
            orders=len(self.shipped))

    def report(self) -> str:
        return "\n".join([self.summary(), *(str(p) for p in self.problems), *self.notes])


@dataclass(frozen=True, slots=True)
class _Checked:
    parsed: ParsedShipment
    order: Order
    carrier: str
    state: WorkflowState


async def import_result(sc: ShippingContext, data: bytes, source: str, now: datetime, *,
                        dry_run: bool = False) -> ImportOutcome:
    """Check the whole file, then (unless it has errors, or ``dry_run``) apply it in one transaction."""
    parsed = parse_result(data, source, now)
    outcome = ImportOutcome(source, list(parsed.problems))
    if parsed.kind is None:
        return outcome
    async with sc.store.transaction() as tx:
        checked = await _check(tx, sc, parsed, outcome)  # every row that parsed: all problems in one report
        outcome.problems.sort(key=lambda p: (p.line, p.severity))
        if not outcome.ok or dry_run:
            await _count_duplicates(tx, checked, outcome)
            return outcome
        changes = Changes()
        await _apply(tx, sc, checked, now, outcome, changes)
        await enqueue(tx, sc, changes)
        await audit.write(tx, JOB, "result_file", source, outcome.summary())
    await publish(sc, changes)
    outcome.notes.extend(changes.notes)
    metrics.JOB_RECORDS.labels(sync_job=JOB, stage="shipped").inc(len(outcome.shipped))
    if changes.status_ops or outcome.shipments:
        sc.wake_dispatcher()
    log.info("shipping.result_applied", file=source, parcels=outcome.new_parcels, duplicates=outcome.duplicates,
             shipped=len(outcome.shipped))
    return outcome


async def _check(tx: Connection, sc: ShippingContext, parsed: ResultFile, outcome: ImportOutcome) -> list[_Checked]:
    checked: list[_Checked] = []
    for item in parsed.shipments:
        shipment, line = item.shipment, item.line

        def error(name: str, message: str, line: int = line) -> None:
            outcome.problems.append(Problem(parsed.source, line, name, message))

        current = await mirror.get(tx, shipment.order_id)
        if current is None:
            error("order_no", f"order {shipment.order_id} is unknown to the bridge (not a CS-Cart order it "
                              "mirrors); correct the order number or remove the line")
            continue
        if current.workflow_state not in SHIPPABLE:
            error("order_no", f"order {shipment.order_id} is {current.workflow_state.label_ja}, not 出荷指示; "
                              "release it to 出荷指示 first, or remove the line")
            continue
        order = current.order
        if not order.shipping_ids:
            error("order_no", f"order {shipment.order_id} has no shipping method in CS-Cart; set one on the order")
            continue
        carrier = shipment.carrier
        if carrier == "other":
            resolved = resolve_service(order, sc.rules)
            if isinstance(resolved, str):
                error("carrier", _("no carrier column and {problem}").format(problem=resolved))
                continue
            carrier = resolved[0].carrier
            check = check_number(shipment.tracking_number, carrier)
            if not check.valid:  # the order has exactly one carrier: the number is taken for it, with a warning
                outcome.problems.append(Problem(
                    parsed.source, line, "delivery_no", _(
                        "{problem}; accepted for {carrier}, the only carrier of order {order}; check the number before "
                        "the customer gets it").format(problem=check.error, carrier=carrier, order=shipment.order_id),
                    "warning"))
        known_items = {line_.item_id: line_.quantity for line_ in order.lines if line_.item_id}
        for item_id, quantity in shipment.items:
            if item_id not in known_items:
                error("item_id", f"order {shipment.order_id} has no item {item_id!r} (its items: "
                                 f"{', '.join(sorted(known_items)) or 'none'})")
            elif quantity > known_items[item_id]:
                error("quantity", f"{quantity} is more than the {known_items[item_id]} ordered of item {item_id}")
        checked.append(_Checked(item, order, carrier, current.workflow_state))
    return checked


async def _recorded(tx: Connection, order_id: int) -> list[tuple[str, dict[str, str]]]:
    return await carrier_store.shipments_of(tx, order_id)


async def _count_duplicates(tx: Connection, checked: list[_Checked], outcome: ImportOutcome) -> None:
    for item in checked:
        known = {number for number, _ in await _recorded(tx, item.order.order_id)}
        if item.parsed.shipment.tracking_number in known:
            outcome.duplicates += 1
        else:
            outcome.new_parcels += 1


def _covered(order: Order, parcels: list[dict[str, str]]) -> bool:
    """Every item of the order is in a recorded parcel (a parcel without items covers the whole order)."""
    ordered = {line.item_id: line.quantity for line in order.lines if line.item_id}
    if not ordered or any(not items for items in parcels):
        return bool(parcels)
    shipped: defaultdict[str, Decimal] = defaultdict(Decimal)
    for items in parcels:
        for item_id, quantity in items.items():
            shipped[item_id] += Decimal(quantity)
    return all(shipped[item_id] >= quantity for item_id, quantity in ordered.items())


async def _apply(tx: Connection, sc: ShippingContext, checked: list[_Checked], now: datetime,
                 outcome: ImportOutcome, changes: Changes) -> None:
    by_order: dict[int, list[_Checked]] = defaultdict(list)
    for item in checked:
        by_order[item.order.order_id].append(item)
    for order_id, parcels in by_order.items():
        before = await _recorded(tx, order_id)
        known = {number for number, _ in before}
        fresh = [p for p in parcels if p.parsed.shipment.tracking_number not in known]
        outcome.duplicates += len(parcels) - len(fresh)
        if not fresh:
            continue
        outcome.new_parcels += len(fresh)
        order = fresh[0].order
        was_covered = _covered(order, [items for _, items in before])
        for parcel in fresh:
            shipment = parcel.parsed.shipment
            items = {item_id: str(quantity) for item_id, quantity in shipment.items}
            await carrier_store.record_shipment(tx, order_id, parcel.carrier, shipment.tracking_number,
                                                iso(shipment.shipped_at), items,
                                                f"{outcome.source}:{parcel.parsed.line}", iso(now), parcel.parsed.shop)
        after = [items for _, items in before] + [
            {item_id: str(quantity) for item_id, quantity in p.parsed.shipment.items} for p in fresh]
        state = fresh[0].state
        completes = state is S.SHIPPING_INSTRUCTED and _covered(order, after)
        ops = _shipment_ops(sc, order, fresh, was_covered, changes)
        if completes:
            # A status write of its own (not the shipment's order_status): it queues behind any status write of
            # the order still waiting (e.g. 出荷指示 while CS-Cart was away), so CS-Cart never goes back.
            numbers = ", ".join(p.parsed.shipment.tracking_number for p in fresh)
            await move(tx, sc, order_id, S.SHIPPED, _("shipped: {numbers} ({file})").format(
                numbers=numbers, file=outcome.source), changes)
            outcome.shipped.append(order_id)
        elif state is S.SHIPPING_INSTRUCTED:
            changes.notes.append(_("order {order}: partial shipment recorded; it stays 出荷指示 until every item is "
                                   "in a parcel").format(order=order_id))
        await ob.enqueue(tx, ops, sc.clock.time())
        outcome.shipments += len(ops)


def _shipment_ops(sc: ShippingContext, order: Order, fresh: list[_Checked], was_covered: bool,
                  changes: Changes) -> list[ob.NewOp]:
    """One op per partial parcel; the whole-order parcels of this file as one shipment listing all of them."""
    whole = [p for p in fresh if not p.parsed.shipment.items]
    partial = [p for p in fresh if p.parsed.shipment.items]
    groups: list[list[_Checked]] = [[p] for p in partial]
    if whole and was_covered:
        numbers = ", ".join(p.parsed.shipment.tracking_number for p in whole)
        changes.notes.append(_("order {order}: parcel(s) {numbers} recorded; every item is already in a CS-Cart "
                               "shipment, so no further shipment is created").format(order=order.order_id,
                                                                                       numbers=numbers))
    elif whole:
        groups.append(whole)
    ops = []
    for group in groups:
        first = group[0].parsed.shipment
        payload: dict[str, object] = {
            "order_id": order.order_id, "shipping_id": order.shipping_ids[0], "carrier": group[0].carrier,
            "tracking_number": first.tracking_number, "comments": _comments(sc, group),
            "notify_user": False, "status": "S",
            "timestamp": int(first.shipped_at.timestamp()),  # the result file's delivery_date / 出荷日
        }
        if first.items:
            payload["products"] = {item_id: str(quantity) for item_id, quantity in first.items}
        ops.append(ob.NewOp("cscart", "shipment.create", "shipment", f"{order.order_id}/{first.tracking_number}",
                            payload, idempotency_key=shipment_key(order.order_id, first.tracking_number),
                            track_ledger=False))
    return ops


def shipment_key(order_id: int, tracking_number: str) -> str:
    return f"carriers/shipment/{order_id}/{tracking_number}"


def _comments(sc: ShippingContext, group: list[_Checked]) -> str:
    """What the customer reads in the shipment (and the shipping mail): carrier, numbers, tracking URLs."""
    lines = []
    if len(group) > 1:
        lines.append(f"{len(group)}個口")
    for parcel in group:
        number = parcel.parsed.shipment.tracking_number
        name = CARRIER_NAMES.get(parcel.carrier, parcel.carrier)
        display = f"{number[:4]}-{number[4:8]}-{number[8:]}" if len(number) == 12 and number.isdigit() else number
        try:
            url = tracking_link(sc.rules, parcel.carrier, number)
        except KeyError:
            url = ""
        lines.append(f"{name} お問い合わせ番号 {display}" + (f" {url}" if url else ""))
        if parcel.parsed.shipment.comments:
            lines.append(parcel.parsed.shipment.comments)
        if shop := shop_line(parcel.parsed.shop):
            lines.append(shop)
    return "\n".join(lines)


def shop_line(shop: dict[str, str]) -> str:
    """The result file's shop_code / shop_name / shop_tel (the carrier's 営業所 that handles the parcel)."""
    if not shop:
        return ""
    name = shop.get("shop_name", "")
    code = f"（{shop['shop_code']}）" if shop.get("shop_code") else ""
    tel = f" TEL {shop['shop_tel']}" if shop.get("shop_tel") else ""
    return f"担当営業所 {name}{code}{tel}".rstrip()


# -- the inbox --------------------------------------------------------------------------------------------------


def result_dirs(sc: ShippingContext) -> SmileDirs:
    results = sc.rules.results
    inbox = sc.folder(results.inbox_dir)
    # SmileDirs has an outbox too; the carriers' inbox has none, so it points at the inbox itself.
    return SmileDirs(inbox=inbox, outbox=inbox, archive=sc.folder(results.archive_dir),
                     error=sc.folder(results.error_dir))


class ResultInbox(Inbox):
    """The SMILE inbox (complete files only, size limit, duplicate checksums, archive/error folders, the
    ``smile_files`` trail) for result files; what differs is which files it takes and how it reads them."""

    SKIP_SUFFIXES = (".tmp", ".part", ".error.txt")

    def __init__(self, settings: SmileSettings, dirs: SmileDirs, store: Store, sc: ShippingContext) -> None:
        super().__init__(settings, dirs, store)
        self.sc = sc
        self.outcomes: list[ImportOutcome] = []

    def complete_files(self, file_type: str = FILE_TYPE) -> list[InboxFile]:
        if not self.dirs.inbox.is_dir():
            return []
        suffix = self.settings.sentinel_suffix
        ready: list[tuple[int, InboxFile]] = []
        for path in sorted(self.dirs.inbox.iterdir()):
            if not path.is_file() or path.name.startswith(".") or path.name.endswith((suffix, *self.SKIP_SUFFIXES)):
                continue
            try:
                signature = stat_signature(path)
            except FileNotFoundError:
                continue
            sentinel = path.with_name(path.name + suffix)
            if self._is_complete(path, signature, sentinel.is_file()):
                ready.append((signature[1], InboxFile(path, file_type, signature[0],
                                                      sentinel if sentinel.is_file() else None)))
        return [item for _, item in sorted(ready, key=lambda pair: (pair[0], pair[1].path.name))]

    async def process_file(self, item: InboxFile, apply: object = None, *, outcome: str = "applied") -> Processed:
        del outcome  # a result file is applied whole or refused; there is no older snapshot to supersede
        self.dirs.create()
        if item.size > self.settings.max_file_bytes:
            report = (f"{item.path.name}: {item.size:,} bytes is more than the limit of "
                      f"{self.settings.max_file_bytes:,} bytes (smile.max_file_bytes); the file was not read.\n"
                      "Fix: check that this is a shipping-result file, then deliver it again.")
            return await self._quarantine(item, "", "too_large", report, problems=1)
        checksum = await asyncio.to_thread(sha256_of, item.path)
        if await self._already_applied(item.file_type, checksum):
            return await self._record(item, checksum, "duplicate", moved_to=self._archive(item, suffix=".duplicate"))
        data = await asyncio.to_thread(item.path.read_bytes)
        imported = await import_result(self.sc, data, item.path.name, self.sc.clock.now())
        self.outcomes.append(imported)
        if not imported.ok:
            report = (f"file: {item.path.name}\nsha256: {checksum}\n"
                      f"checked: {datetime.now(JST).isoformat(timespec='seconds')}\n"
                      + _("nothing of this file was applied; fix every error below and deliver the file again.")
                      + "\n\n" + imported.report() + "\n")
            return await self._quarantine(item, checksum, "rejected", report, problems=len(imported.errors))
        return await self._record(item, checksum, "applied", records=imported.new_parcels,
                                  moved_to=self._archive(item))


async def read_inbox(sc: ShippingContext, inbox: ResultInbox) -> list[Processed]:
    processed = []
    for item in inbox.complete_files():
        processed.append(done := await inbox.process_file(item))
        if done.outcome in ("rejected", "too_large"):
            await sc.events.publish("file_quarantined", {
                "file": done.name, "layout": done.file_type,
                "reason": f"{done.problems} problem(s), see {done.moved_to}.error.txt"})
    return processed


def new_inbox(sc: ShippingContext) -> ResultInbox:
    return ResultInbox(sc.smile, result_dirs(sc), sc.store, sc)
