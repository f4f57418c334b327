"""Orders in 出荷指示 → one label file per carrier, exactly once; a row that cannot be made valid → 保留.

One export:
1. read the orders in 出荷指示 without a label, and the orders the shipping job itself put on 保留 (they are checked
   again: staff fix the order in CS-Cart, the orders job mirrors the fix, the next export releases it);
2. ``build_label_files`` (bridge/carriers/export.py) builds the files and the rejections;
3. in one store transaction: each rejection puts its order on 保留 with the message that says what to fix, each
   fixed order goes back to 出荷指示, each file is recorded with its bytes and its orders marked labelled;
4. each recorded file is written (temporary name, fsync, rename) and marked written. A crash between 3 and 4 is
   finished by ``recover`` at the next run from the recorded bytes, so no order is ever on two label files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bridge import metrics
from bridge.carriers.export import build_label_files
from bridge.carriers.labels import LabelFile, Rejection
from bridge.carriers.rules import resolve_service
from bridge.domain.orders import Order, WorkflowState
from bridge.domain.time import iso
from bridge.i18n import Text, _
from bridge.store import audit
from bridge.store import carriers as carrier_store
from bridge.store import orders as mirror
from bridge.store.db import Connection
from bridge.sync.orders.export import write_file
from bridge.sync.orders.moves import Changes
from bridge.sync.shipping.flow import HELD_BY, JOB, ShippingContext, enqueue, log, move, mover, publish

S = WorkflowState
UNRESOLVED = "?"  # the carrier of a rejection whose shipping method has no rule (bridge/carriers/export.py)


@dataclass(slots=True)
class ExportOutcome:
    files: list[LabelFile] = field(default_factory=list)  # written (or, in a dry run, that would be)
    paths: list[Path] = field(default_factory=list)
    held: list[Rejection] = field(default_factory=list)
    released: list[int] = field(default_factory=list)
    notes: list[Text] = field(default_factory=list)

    @property
    def labelled(self) -> int:
        return sum(len(f.order_ids) for f in self.files)

    def plan(self) -> list[str]:
        lines: list[str] = [_("{carrier}: {file} with order(s) {orders}").format(
            carrier=f.carrier, file=f.file_name, orders=", ".join(map(str, f.order_ids))) for f in self.files]
        lines += [_("order {order}: → 保留 — {reason}").format(order=r.order_id, reason=r.message) for r in self.held]
        lines += [_("order {order}: 保留 → 出荷指示 (label row valid now)").format(order=order_id)
                  for order_id in self.released]
        return lines


async def candidates(tx: Connection) -> tuple[list[Order], set[int]]:
    """Orders in 出荷指示 without a label, plus the ones on the shipping job's own 保留; and the held ids."""
    # An order CS-Cart already had in 出荷指示 when the bridge first mirrored it was handled by hand before the
    # bridge: it gets no label file (and no delay watch). Only a move into 出荷指示 counts.
    orders, held = [], set()
    for order_id in await mirror.label_candidates(tx, HELD_BY):
        current = await mirror.get(tx, order_id)
        assert current is not None
        orders.append(current.order)
        if current.workflow_state is S.HOLD:
            held.add(order_id)
    return orders, held


async def export_labels(sc: ShippingContext, now: datetime, *, carriers: Iterable[str] | None = None,
                        dry_run: bool = False) -> ExportOutcome:
    """Label files for the carriers in ``carriers`` (every carrier when None), with the holds and releases of
    those carriers' orders; an order whose shipping method has no rule is held at any export."""
    wanted = None if carriers is None else set(carriers)

    def chosen(carrier: str) -> bool:
        return wanted is None or carrier in wanted or carrier == UNRESOLVED

    outcome = ExportOutcome()
    async with sc.store.transaction() as tx:
        orders, held = await candidates(tx)
    orders = [o for o in orders if chosen(_carrier_of(sc, o))]
    if not orders:
        return outcome
    built = build_label_files(orders, sc.rules, now)
    rejections = [r for r in built.rejections if chosen(r.carrier)]
    rejected = {r.order_id for r in built.rejections}
    outcome.held = [r for r in rejections if r.order_id not in held]
    files = [f for f in built.files if chosen(f.carrier)]
    outcome.released = sorted(o.order_id for o in orders if o.order_id in held and o.order_id not in rejected)
    outcome.files = files
    if dry_run:
        return outcome
    changes = Changes()
    async with sc.store.transaction() as tx:
        for rejection in rejections:
            await _hold(tx, sc, rejection, rejection.order_id in held, changes)
        for order_id in outcome.released:
            await move(tx, sc, order_id, S.SHIPPING_INSTRUCTED, _("carrier label row valid now; back to 出荷指示"),
                       changes)
        for label_file in files:
            label_file = await _record(tx, sc, label_file, now)
            outcome.paths.append(sc.folder(sc.rules.carrier_rules(label_file.carrier).output_dir)
                                 / label_file.file_name)
        await enqueue(tx, sc, changes)
    await publish(sc, changes)
    outcome.notes.extend(changes.notes)
    outcome.notes.extend(await recover(sc))
    for label_file in files:
        for line in (*label_file.substitutions, *label_file.warnings):
            log.info("shipping.label_note", carrier=label_file.carrier, file=label_file.file_name, note=line)
        metrics.JOB_RECORDS.labels(sync_job=JOB, stage="labelled").inc(len(label_file.order_ids))
    if changes.status_ops:
        sc.wake_dispatcher()
    return outcome


def _carrier_of(sc: ShippingContext, order: Order) -> str:
    resolved = resolve_service(order, sc.rules)
    return UNRESOLVED if isinstance(resolved, str) else resolved[0].carrier


async def _hold(tx: Connection, sc: ShippingContext, rejection: Rejection, already_held: bool,
                changes: Changes) -> None:
    reason = rejection.message
    if not already_held:
        if await move(tx, sc, rejection.order_id, S.HOLD, reason, changes, hold_by=HELD_BY):
            log.warning("shipping.held", order_id=rejection.order_id, reason=reason)
        return
    await mover(sc).still_held(tx, rejection.order_id, reason, HELD_BY)  # a new reason goes into its history


async def _record(tx: Connection, sc: ShippingContext, label_file: LabelFile, now: datetime) -> LabelFile:
    """Record the file and mark its orders labelled; a name already taken gets -1, -2 … before the suffix."""
    name = await carrier_store.free_label_name(tx, label_file.file_name)
    directory = sc.folder(sc.rules.carrier_rules(label_file.carrier).output_dir)
    await carrier_store.record_label_file(tx, name, label_file.carrier, str(directory), label_file.order_ids,
                                          hashlib.sha256(label_file.content).hexdigest(), label_file.content,
                                          iso(now))
    await audit.write(tx, JOB, "label_file", name, {"carrier": label_file.carrier,
                                                    "orders": list(label_file.order_ids),
                                                    "substitutions": list(label_file.substitutions),
                                                    "warnings": list(label_file.warnings)})
    return LabelFile(label_file.carrier, name, label_file.content, label_file.order_ids, label_file.substitutions,
                     label_file.warnings)


async def recover(sc: ShippingContext) -> list[Text]:
    """Write every recorded label file not written yet (this run's, or one a crash left behind)."""
    notes: list[Text] = []
    for name, directory, content, checksum in await carrier_store.unwritten_label_files(sc.store):
        path = Path(directory) / name
        if not (path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == checksum):
            path.parent.mkdir(parents=True, exist_ok=True)
            write_file(path.parent, name, content)
        async with sc.store.transaction() as tx:
            await carrier_store.mark_label_file_written(tx, name, iso(sc.clock.now()))
        log.info("shipping.label_file_written", file=str(path))
        notes.append(_("label file {path}").format(path=path))
    return notes
