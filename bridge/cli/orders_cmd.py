"""``bridge orders``: one order's full history, a resend to SMILE when the read-back shows it absent, listings."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from bridge.cli.common import CliError, ConfigOption, console, run_async, settings_or_exit
from bridge.i18n import _, format_local
from bridge.domain.orders import WorkflowState
from bridge.errors import ValidationFailed

if TYPE_CHECKING:
    from bridge.config import Settings

app = typer.Typer(help=_("The orders mirror: history, resend to SMILE, listings."), no_args_is_help=True)


async def _show(settings: Settings, order_id: int) -> list[str]:
    from bridge.store import Store, order_flags
    from bridge.store import orders as mirror
    from bridge.store import returns as returns_store

    store = await Store.open(settings.state_path, must_exist=True)
    try:
        async with store.transaction() as tx:
            current = await mirror.get(tx, order_id)
            if current is None:
                return []
            transitions = await mirror.history(tx, order_id)
            exports = await mirror.export_history(tx, order_id)
            flags = await order_flags.of_order(tx, order_id)
            hold = await mirror.hold_of(tx, order_id)
            order_returns = await returns_store.of_order(tx, order_id)
    finally:
        await store.close()
    order = current.order
    payment = current.payment_state.value if current.payment_state else "-"
    lines: list[str] = [
        _("order {id}: {state_ja} ({state}), CS-Cart status {status}, payment {payment}").format(
            id=order.order_id, state_ja=current.workflow_state.label_ja, state=current.workflow_state.value,
            status=order.status, payment=payment),
        _("placed {placed}, customer {customer} (user {user}), total ¥{total}, {direct}{count} line(s)").format(
            placed=format_local(order.placed_at), customer=order.customer_code or "-", user=order.user_id,
            total=order.total, direct="直送 " if order.direct_ship else "", count=len(order.lines)),
        _("SMILE: 伝票№ {slip}, 処理連番 {serial}, confirmed {confirmed}").format(
            slip=current.smile_slip_no or "-", serial=current.smile_serial or "-",
            confirmed=format_local(current.confirmed_at)),
    ]
    if hold[1]:
        lines.append(_("on hold ({by}): {reason}").format(by=hold[0] or "bridge", reason=hold[1]))
    for line in order.lines:
        lines.append(f"  {line.product_code} {line.name} × {line.quantity} @ ¥{line.unit_price}")
    lines.append(_("history:"))
    for step in transitions:
        source = step.from_state.value if step.from_state else _("(new)")
        lines.append(f"  {format_local(step.at, seconds=True)}  {source} → {step.to_state.value}: {step.reason}")
    for row in exports:
        state = _("superseded {at} ({why})").format(at=format_local(row[4]), why=row[5]) if row[4] else _("live")
        lines.append(_("export: batch {batch} {file} ({kind}) at {at}, {state}").format(
            batch=row[0], file=row[1], kind=row[2], at=format_local(row[3]), state=state))
    for row in flags:
        resolved = _(" (resolved {at})").format(at=format_local(row[3])) if row[3] else ""
        lines.append(_("flag: {flag} at {at}{resolved}: {note}").format(
            flag=row[0], at=format_local(row[2]), resolved=resolved, note=row[1]))
    for ret in order_returns:
        states = {"slipped": _("返品 slip written"), "held": _("waiting"), "empty": _("nothing accepted")}
        lines.append(_("return {id} (CS-Cart status {status}): {state}, ¥{amount}{file}{note}").format(
            id=ret.return_id, status=ret.cs_status, state=states.get(ret.state, ret.state), amount=ret.amount,
            file=_(", file {file} (batch {batch})").format(file=ret.file_name, batch=ret.batch_id)
            if ret.file_name else "", note=f": {ret.note}" if ret.note else ""))
        for item in ret.lines:
            action = _("restock") if item["action"] == "restock" else _("discard")
            reason = _(" (reason: {reason})").format(reason=item["reason"]) if item.get("reason") else ""
            lines.append(_("  {code} {name} × {quantity} @ ¥{price}: {action} → 倉庫 {warehouse}{reason}").format(
                code=item["product_code"], name=item["name"], quantity=item["quantity"], price=item["unit_price"],
                action=action, warehouse=item["warehouse"], reason=reason))
    return lines


@app.command("show", help=_(
    "Print one order's full history: states with reasons, exports, flags, SMILE binding."))
def show(order_id: int, config: ConfigOption = None) -> None:
    settings = settings_or_exit(config)
    lines = run_async(_show(settings, order_id))
    if not lines:
        raise CliError(_("order {id} is not in the mirror").format(id=order_id))
    for line in lines:
        console.print(line, markup=False, highlight=False)


async def _resend(settings: Settings, order_id: int) -> str:
    from bridge.domain.time import Clock
    from bridge.store import Store
    from bridge.sync import JobContext
    from bridge.sync.registry import resend_order
    from bridge.wiring import offline_services

    store = await Store.open(settings.state_path, must_exist=True)
    try:
        context = JobContext(settings=settings, store=store, clock=Clock(), services=offline_services(settings))
        return await resend_order(context, order_id)
    finally:
        await store.close()


@app.command("resend", help=_(
    "Send an order to SMILE again, only when SMILE's read-back shows it absent."))
def resend_(order_id: int, config: ConfigOption = None) -> None:
    settings = settings_or_exit(config)
    try:
        note = run_async(_resend(settings, order_id))
    except ValidationFailed as exc:
        raise CliError(str(exc)) from None
    console.print(_("order {id} resent: {note}").format(id=order_id, note=note), markup=False, highlight=False)


async def _list(settings: Settings, state: WorkflowState | None, flagged: bool) -> list[Any]:
    from bridge.store import Store
    from bridge.store import orders as mirror

    store = await Store.open(settings.state_path, must_exist=True)
    try:
        async with store.transaction() as tx:
            return await mirror.listing(tx, state, flagged)
    finally:
        await store.close()


@app.command("list", help=_(
    "List mirrored orders (optionally one workflow state, e.g. --state hold, or --flagged)."))
def list_(
    state: Annotated[WorkflowState | None, typer.Option("--state", help=_("Only orders in this workflow state"))] = None,
    flagged: Annotated[bool, typer.Option("--flagged", help=_(
        "Only orders with open items for staff (cancelled or edited after export, 諸口, unconfirmed by SMILE)"))] = False,
    as_json: Annotated[bool, typer.Option("--json", help=_("One JSON object per line"))] = False,
    config: ConfigOption = None,
) -> None:
    settings = settings_or_exit(config)
    rows = run_async(_list(settings, state, flagged))
    if as_json:
        for row in rows:
            console.print(json.dumps(row, ensure_ascii=False), markup=False, highlight=False, soft_wrap=True)
        return
    if not rows:
        console.print(_("No orders."))
        return
    table = Table()
    for column in (_("order"), _("state"), "CS-Cart", _("customer"), _("total"), _("placed"), _("hold reason / flags")):
        table.add_column(column)
    for row in rows:
        table.add_row(str(row["order_id"]), WorkflowState(row["workflow_state"]).label_ja, row["cscart_status"],
                      row["customer_code"] or "-", row["total"], format_local(row["placed_at"]),
                      " | ".join(part for part in (row["hold_reason"], row["flags"]) if part)[:120])
    console.print(table)
