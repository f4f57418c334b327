"""Returns (返品) through CS-Cart's rma add-on, read from the smile_bridge add-on (``GET smile_bridge_returns``;
its ``return.status_changed`` event wakes the orders job) and handled once each:

1. an approved return request (rules/returns.yaml ``approved_statuses``) of an order SMILE has → its accepted items
   as 返品 rows of a 受注 import file: negative quantities and amounts, 取引区分 / 取引区分属性 from ``slip``, each row
   in the warehouse the restock rules choose (restock → the sellable one, discard → the discard one);
2. the file is recorded, written (atomic rename) and marked written, like a 受注 batch (a crash in between is
   finished by the next run);
3. the customer gets the add-on's 返品受付 mail (order_flow.yaml ``customer_mails.returned``);
4. ``bridge orders show`` lists the return with its lines, restock decisions and file.

A return of an order SMILE never got waits (``held``, with the reason) and is looked at again every run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import structlog

from bridge.cscart.addon_client import AddonClient
from bridge.cscart.addon_protocol import ReturnRequest
from bridge.cscart.client import NotFoundError
from bridge.domain.orders import Order
from bridge.domain.time import business_date, iso
from bridge.errors import BridgeError, ValidationFailed
from bridge.i18n import Text, _
from bridge.rules.returns import ReturnRules
from bridge.smile.layout import FileLayout
from bridge.store import orders as mirror
from bridge.store import outbox as ob
from bridge.store import returns as store
from bridge.cscart.client import CSCartClient
from bridge.domain.time import Clock
from bridge.store import Store
from bridge.sync.orders import export
from bridge.sync.orders.mails import RETURNED, addon_mails, mail_op
from bridge.sync.orders.rules import OrderRules

log = structlog.get_logger("bridge.sync.orders")


@dataclass(frozen=True, slots=True)
class ReturnsContext:
    """What the returns pass works with (the orders job's dependencies)."""

    cscart: CSCartClient | None
    store: Store
    clock: Clock
    wake_dispatcher: Callable[[], None]


@dataclass(frozen=True, slots=True)
class ReturnLine:
    item_id: str
    product_code: str
    name: str
    quantity: int
    unit_price: Decimal
    reason: str
    action: str  # restock | discard
    warehouse: str  # 倉庫ｺｰﾄﾞ

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "unit_price": str(self.unit_price)}


def plan_lines(request: ReturnRequest, rules: ReturnRules) -> list[ReturnLine]:
    """The accepted items with their restock decision (declined ones and zero amounts are left out)."""
    lines = []
    for item in request.accepted:
        action, warehouse = rules.restock.decide(item.product_code, item.reason)
        lines.append(ReturnLine(item.item_id, item.product_code, item.product, item.amount, item.price, item.reason,
                                action, warehouse))
    return lines


def amount_of(lines: list[ReturnLine]) -> Decimal:
    return sum((line.unit_price * line.quantity for line in lines), Decimal(0))


def slip_rows(request: ReturnRequest, lines: list[ReturnLine], party: export.Party, rules: ReturnRules,
              export_rules: export.ExportRules, on: date, first_line: int = 1) -> list[dict[str, Any]]:
    """The 返品 rows: the 受注 file's columns, quantities and amounts negated, 受注№ = the order's number."""
    head = {
        "受注日付": on.strftime("%Y%m%d"), "受注№": str(request.order_id), "得意先ｺｰﾄﾞ": party.code,
        "得意先名１": party.name, "オーダー№": str(request.order_id),
        "取引区分": rules.slip.transaction_type, "取引区分属性": rules.slip.transaction_attribute,
        "備考": rules.slip.remark.replace("{return_id}", str(request.return_id)),
    }
    rows = []
    for index, line in enumerate(lines):
        rows.append({
            **head, "行": str(first_line + index), "倉庫ｺｰﾄﾞ": line.warehouse, "商品ｺｰﾄﾞ": line.product_code,
            "商品名": line.name, "数量": export.number(Decimal(-line.quantity)), "単価": export.number(line.unit_price),
            "金額": export.number(-line.unit_price * line.quantity), "課税区分": export_rules.product_tax_class,
            "消費税率％": export.number(export_rules.tax_rate),
        })
    return rows


def mail_values(request: ReturnRequest, lines: list[ReturnLine]) -> dict[str, Any]:
    return {"return": {"return_id": request.return_id, "amount": str(amount_of(lines)),
                       "items": [{"code": line.product_code, "name": line.name, "quantity": line.quantity}
                                 for line in lines]}}


async def read_requests(ctx: ReturnsContext, rules: ReturnRules, now: datetime) -> list[ReturnRequest] | None:
    """The approved requests of the look-back window; None when the store has no add-on or no rma add-on."""
    client = ctx.cscart
    if client is None or not rules.enabled or not await addon_mails(client):
        return None
    since = int((now - timedelta(days=rules.lookback_days)).timestamp())
    try:
        return await AddonClient(client).returns(rules.approved_statuses, since)
    except NotFoundError:
        log.info("orders.returns_unavailable", reason="CS-Cart's rma add-on is not installed")
        return None
    except BridgeError as exc:
        log.warning("orders.returns_unread", error=str(exc))
        return None


async def finish_batches(ctx: ReturnsContext, directory: Path) -> list[Text]:
    """Write every recorded return file that is not written yet (after a crash) and mark it written."""
    notes: list[Text] = []
    async with ctx.store.transaction() as tx:
        pending = await store.unwritten_batches(tx)
    for batch_id, file_name, content in pending:
        export.write_file(directory, file_name, content)
        async with ctx.store.transaction() as tx:
            await store.mark_written(tx, batch_id, iso(ctx.clock.now()))
        notes.append(_("返品 file {file} (batch {batch}) written").format(file=file_name, batch=batch_id))
    return notes


async def handle_returns(ctx: ReturnsContext, rules: OrderRules, returns_rules: ReturnRules, layout: FileLayout,
                         substitutions: dict[str, str], directory: Path, now: datetime) -> list[Text]:
    """One pass: every approved, not yet handled return request → its 返品 rows, one file for all, the mails."""
    notes = await finish_batches(ctx, directory)
    requests = await read_requests(ctx, returns_rules, now)
    if not requests:
        return notes
    export_rules = rules.export_rules()
    stamp = iso(now)
    rows: list[dict[str, Any]] = []
    slipped: list[tuple[ReturnRequest, list[ReturnLine]]] = []
    others: list[store.ReturnRow] = []
    next_line: dict[int, int] = {}
    async with ctx.store.transaction() as tx:
        settled = await store.settled_ids(tx)
        for request in sorted(requests, key=lambda r: r.return_id):
            if request.return_id in settled:
                continue
            lines = plan_lines(request, returns_rules)
            requested = iso(datetime.fromtimestamp(request.timestamp, UTC))
            current = await mirror.get(tx, request.order_id)
            exported = current is not None and any(row[4] is None for row in await mirror.export_history(
                tx, request.order_id))
            state, note = store.SLIPPED, ""
            if not lines:
                state, note = store.EMPTY, _("no accepted item: no 返品 slip")
            elif current is None or not exported:
                state, note = store.HELD, _("order {order} has no 受注 in SMILE (not exported): the 返品 waits; enter "
                                            "it in SMILE by hand or export the order first").format(
                                                order=request.order_id)
            if state != store.SLIPPED:
                others.append(store.ReturnRow(request.return_id, request.order_id, request.status, state,
                                              [line.as_json() for line in lines], amount_of(lines), None, note,
                                              requested, stamp))
                continue
            assert current is not None
            order: Order = current.order
            party = export.Party(order.customer_code or rules.flow.gating.unknown_customer.misc_code,
                                 order.billing.name or order.email)
            first = next_line.get(request.order_id, 1)
            rows += slip_rows(request, lines, party, returns_rules, export_rules, business_date(now), first)
            next_line[request.order_id] = first + len(lines)
            slipped.append((request, lines))
        for row in others:
            await store.save(tx, row)
    notes += [_("return {id} of order {order}: {note}").format(id=row.return_id, order=row.order_id, note=row.note)
              for row in others if row.state == store.HELD]
    if not rows:
        return notes
    try:
        content = export.render(rows, layout, substitutions)
    except ValidationFailed as exc:
        return [*notes, _("返品 file not written: {error}; enter the returns {ids} in SMILE by hand").format(
            error=exc, ids=", ".join(str(request.return_id) for request, _lines in slipped))]
    mails = await addon_mails(ctx.cscart) and rules.flow.customer_mails.returned
    async with ctx.store.transaction() as tx:
        batch_id = await store.next_batch_id(tx)
        file_name = export.file_name(layout, batch_id, now)
        await store.record_batch(tx, batch_id, file_name, content, stamp)
        for request, lines in slipped:
            await store.save(tx, store.ReturnRow(
                request.return_id, request.order_id, request.status, store.SLIPPED, [line.as_json() for line in lines],
                amount_of(lines), batch_id, "", iso(datetime.fromtimestamp(request.timestamp, UTC)), stamp))
        if mails:
            await ob.enqueue(tx, [mail_op(request.order_id, RETURNED, occasion=str(request.return_id),
                                          values=mail_values(request, lines)) for request, lines in slipped],
                             ctx.clock.time())
    notes += await finish_batches(ctx, directory)
    log.info("orders.returns_slipped", batch=batch_id, file=file_name, returns=len(slipped), rows=len(rows))
    if mails:
        ctx.wake_dispatcher()
    return notes
